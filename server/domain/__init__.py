"""The domain's vocabulary, at the bottom of the house: standard library and the wire contract only.

- :mod:`server.domain.alerts`: alert kinds (one table of severity, words and
  self-clearing per kind), the lifecycle (status, outcome, next_status).
- :mod:`server.domain.findings`: what a detector reports (Condition, Cleared).
- :mod:`server.domain.access`: who may see and do what (roles, viewers, scopes).
- :mod:`server.domain.homes`: a provisioned hub and its resident.
"""

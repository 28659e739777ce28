"""FHIR R4 / UK Core: what carewatch shares with health systems."""

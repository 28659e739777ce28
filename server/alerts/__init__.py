"""Alerts: the lifecycle (pure), storage, and raising them from detected conditions."""

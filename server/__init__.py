"""The carewatch server: ingest, detection, alerts and the API."""

"""Ingest: MQTT messages in, validated, de-duplicated, stored, and handed to the detectors."""

"""The hub agent: sensor drivers, a durable outbox and the MQTT link to the server."""

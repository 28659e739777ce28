"""Embedded PostgreSQL and MQTT broker, for the demo and for machines without the real ones."""

from server.embedded._broker import EmbeddedBroker
from server.embedded._postgres import EmbeddedPostgres

__all__ = ["EmbeddedBroker", "EmbeddedPostgres"]

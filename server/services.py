"""Find the database and broker: the configured URLs, or embedded ones started for us."""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterator

from server.embedded import EmbeddedBroker, EmbeddedPostgres
from server.settings import ServerSettings

__all__ = ["database", "mqtt_broker"]

log = logging.getLogger(__name__)


@contextlib.contextmanager
def database(settings: ServerSettings, *, temporary: bool = False) -> Iterator[str]:
    """The configured database URL, else an embedded PostgreSQL (kept in ``data_dir`` unless temporary)."""
    if settings.database_url:
        yield settings.database_url
        return
    data_dir = None if temporary else (settings.data_dir / "postgres").resolve()
    where = "a temporary directory" if data_dir is None else str(data_dir)
    log.info("CAREWATCH_DATABASE_URL is not set: starting embedded PostgreSQL in %s", where)
    with EmbeddedPostgres(data_dir) as url:
        yield url


@contextlib.contextmanager
def mqtt_broker(settings: ServerSettings, *, port: int | None) -> Iterator[str]:
    """The configured broker URL, else an embedded amqtt broker on ``port`` (any free port if None)."""
    if settings.mqtt_url:
        yield settings.mqtt_url
        return
    if port is not None and _in_use(port):
        raise SystemExit(
            f"port {port} is already in use, perhaps by Mosquitto: set "
            f"CAREWATCH_MQTT_URL=mqtt://127.0.0.1:{port} to use it instead of the embedded broker"
        )
    with EmbeddedBroker(port=port) as broker:
        log.info("CAREWATCH_MQTT_URL is not set: embedded MQTT broker at %s", broker.url)
        yield broker.url


def _in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0

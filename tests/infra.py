"""Where tests find a broker and a database: the machine's own, else embedded ones.

Set ``CAREWATCH_TEST_SERVICES=embedded`` to force the embedded ones even where
Mosquitto and PostgreSQL run, or ``=system`` to fail loudly when they do not.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import psycopg
from psycopg import sql

from server.embedded import EmbeddedBroker, EmbeddedPostgres

SYSTEM_MQTT = ("127.0.0.1", 1883)
SYSTEM_POSTGRES_URL = os.environ.get(
    "CAREWATCH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def wanted() -> str:
    """Which services the run asks for: ``auto``, ``system`` or ``embedded``."""
    return os.environ.get("CAREWATCH_TEST_SERVICES", "auto")


def port_open(host: str, port: int) -> bool:
    """Whether something accepts TCP connections there."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def system_mqtt_available() -> bool:
    """Whether the machine's Mosquitto is there to use."""
    return wanted() != "embedded" and port_open(*SYSTEM_MQTT)


def system_postgres_available() -> bool:
    """Whether the machine's PostgreSQL is there to use."""
    if wanted() == "embedded":
        return False
    try:
        with psycopg.connect(SYSTEM_POSTGRES_URL, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


@contextmanager
def embedded_mqtt() -> Iterator[str]:
    """An amqtt broker for the duration."""
    with EmbeddedBroker() as broker:
        yield broker.url


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on ``server_url``'s server, dropped afterwards."""
    name = f"carewatch_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield psycopg.conninfo.make_conninfo(server_url, dbname=name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def embedded_postgres() -> Iterator[str]:
    """An embedded PostgreSQL server for the duration, with a throwaway data directory."""
    with EmbeddedPostgres() as url:
        yield url


def require_system(what: str) -> None:
    """Fail rather than fall back when the run asked for the machine's services."""
    if wanted() == "system":
        raise RuntimeError(f"CAREWATCH_TEST_SERVICES=system but {what} is not reachable")


def mqtt_protocol(mqtt_url: str) -> Literal["5", "3.1.1"]:
    """MQTT 5 on the machine's Mosquitto; 3.1.1 on the embedded broker, which has no 5."""
    return "5" if mqtt_url == "mqtt://{}:{}".format(*SYSTEM_MQTT) else "3.1.1"

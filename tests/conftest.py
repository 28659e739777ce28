"""Shared fixtures: a real MQTT broker, a real PostgreSQL and a carewatch server running on them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack

import httpx
import pytest

from server.runtime import CarewatchServer
from tests import infra
from tests.server.helpers import running_server, token


@pytest.fixture(scope="session")
def mqtt_url() -> Iterator[str]:
    """The machine's Mosquitto if it runs, else an embedded amqtt broker."""
    if infra.system_mqtt_available():
        yield "mqtt://{}:{}".format(*infra.SYSTEM_MQTT)
        return
    infra.require_system("Mosquitto on 127.0.0.1:1883")
    with infra.embedded_mqtt() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A PostgreSQL server to make test databases on: the machine's, else embedded."""
    if infra.system_postgres_available():
        yield infra.SYSTEM_POSTGRES_URL
        return
    infra.require_system("PostgreSQL on 127.0.0.1:5432")
    with infra.embedded_postgres() as url:
        yield url


@pytest.fixture
def database_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty database for one test."""
    with infra.fresh_database(postgres_server_url) as url:
        yield url


@pytest.fixture(scope="session")
def services_stack() -> Iterator[ExitStack]:
    """An ExitStack closed at the end of the session, for embedded services started on demand."""
    with ExitStack() as stack:
        yield stack


@pytest.fixture
async def server(database_url: str, mqtt_url: str) -> AsyncIterator[CarewatchServer]:
    async with running_server(database_url, mqtt_url) as running:
        yield running


@pytest.fixture
async def api(server: CarewatchServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as client:
        client.headers["Authorization"] = f"Bearer {await token(client)}"
        yield client


@pytest.fixture
async def quick_server(database_url: str, mqtt_url: str) -> AsyncIterator[CarewatchServer]:
    """A server that reads "away", saves what it learned and checks check-ins several times a second."""
    async with running_server(
        database_url, mqtt_url, detector_checkpoint_s=0.2, hub_check_interval_s=0.5
    ) as running:
        yield running


@pytest.fixture
async def admin_api(quick_server: CarewatchServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=quick_server.http_url, timeout=10) as client:
        client.headers["Authorization"] = f"Bearer {await token(client)}"
        yield client

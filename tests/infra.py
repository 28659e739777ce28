"""Where tests find a broker and a database: the machine's own, else embedded ones.

Set ``CAREWATCH_TEST_SERVICES=embedded`` to force the embedded ones even where
Mosquitto and PostgreSQL run, or ``=system`` to fail loudly when they do not.
``CAREWATCH_TEST_MQTT_PORT`` names another local Mosquitto (default 1883).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import psycopg
from psycopg import sql

from server.embedded import EmbeddedBroker, EmbeddedPostgres
from server.store.pool import migrate

# A second checkout's run can point at a Mosquitto of its own, so two suites never share topics.
SYSTEM_MQTT = ("127.0.0.1", int(os.environ.get("CAREWATCH_TEST_MQTT_PORT", "1883")))
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
def fresh_database(server_url: str, *, template: str | None = None) -> Iterator[str]:
    """A new database on ``server_url``'s server, dropped afterwards.

    Empty, or a copy of the database named ``template`` (which nobody may be connected to).
    """
    name = f"carewatch_test_{uuid.uuid4().hex[:12]}"
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(create)
    try:
        yield psycopg.conninfo.make_conninfo(server_url, dbname=name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def migrated_template(server_url: str) -> Iterator[str]:
    """A database with every migration applied, to copy for each test; its name.

    Copying it (``CREATE DATABASE ... TEMPLATE``) takes a fraction of the time of running
    the migrations again in every test's database. Dropped afterwards.
    """
    with fresh_database(server_url) as url:
        migrate(url)
        name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
        assert isinstance(name, str)
        yield name


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


TIMESCALE_DIR = Path(__file__).parent / "timescale"


class TimescaleUnavailable(RuntimeError):
    """TimescaleDB (PGlite under Node.js) cannot be started here; the message says why."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _timescale_packages() -> None:
    """Install the npm packages once (``npm ci`` from the committed lock file)."""
    if (TIMESCALE_DIR / "node_modules" / "@unni-craftsman" / "pglite").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise TimescaleUnavailable("Node.js and npm are not installed (apt-get install nodejs npm)")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=TIMESCALE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode:
        raise TimescaleUnavailable(
            f"npm ci in {TIMESCALE_DIR} failed: {done.stderr.strip()[-500:]}"
        )


@contextmanager
def timescale_postgres() -> Iterator[str]:
    """A fresh in-memory TimescaleDB (PGlite) for the duration; its URL.

    It takes one connection at a time and no COPY FROM STDIN: open pools of one.
    """
    _timescale_packages()
    port = _free_port()
    log = TIMESCALE_DIR / f"server-{port}.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            ["node", "server.mjs", str(port)], cwd=TIMESCALE_DIR, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 60
        while "listening" not in log.read_text():
            if server.poll() is not None:
                raise TimescaleUnavailable(f"PGlite exited before listening: {log.read_text()}")
            if time.monotonic() > deadline:
                raise TimescaleUnavailable("PGlite did not start listening within 60 s")
            time.sleep(0.1)
        yield f"postgresql://postgres:any@127.0.0.1:{port}/postgres?sslmode=disable"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.unlink(missing_ok=True)

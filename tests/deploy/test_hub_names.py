"""``carewatch hub add`` refuses names that are the server's own broker accounts or client ids.

Against the deployment's Mosquitto: a hub called carewatch-server would
overwrite the server's broker password (before the listeners had their own
files) or take one of its sessions over.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from server.cli import main
from tests.deploy.broker import (
    SERVER_ACCOUNT,
    Broker,
    connect,
    deployment_broker,
    mosquitto_missing,
)

pytestmark = pytest.mark.skipif(mosquitto_missing() is not None, reason=str(mosquitto_missing()))

SERVER_PASSWORD = "server-password-for-tests"


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    with deployment_broker(SERVER_PASSWORD, {"hub-a": "password-a"}) as running:
        yield running


@pytest.fixture
def cli(broker: Broker, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``carewatch`` as run in the server's container, writing the broker's credentials."""
    monkeypatch.setenv("CAREWATCH_DATABASE_URL", database_url)
    monkeypatch.setenv("CAREWATCH_BROKER_CREDENTIALS_DIR", str(broker.passwords.parent))
    return database_url


def _credentials(broker: Broker) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in broker.passwords.parent.iterdir()}


@pytest.mark.parametrize(
    "name",
    ["carewatch-server", "carewatch-server-alarms", "carewatch-sim", "Carewatch-Server"],
)
def test_hub_add_refuses_the_platforms_own_names_and_leaves_the_broker_as_it_was(
    broker: Broker, cli: str, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    before = _credentials(broker)
    assert main(["hub", "add", name, "--resident", "Mrs Edith Clarke"]) == 2
    error = capsys.readouterr().err
    assert f"carewatch: {name} is " in error
    assert "choose another hub id" in error
    assert _credentials(broker) == before
    with psycopg.connect(cli) as conn:
        assert conn.execute("SELECT count(*) FROM hubs").fetchone() == (0,)
    broker.reload()
    # The server still logs in with its own password; no hub account of that name exists.
    server = connect(broker.plain_port, SERVER_ACCOUNT, SERVER_PASSWORD)
    assert not isinstance(server, str), server
    server.close()


def test_hub_add_refuses_a_server_configured_with_other_names(
    broker: Broker, cli: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREWATCH_MQTT_CLIENT_ID", "ops-server")
    monkeypatch.setenv("CAREWATCH_MQTT_URL", "mqtt://ops-broker:secret@mosquitto:1883")
    before = _credentials(broker)
    for name in ("ops-server", "ops-server-alarms", "ops-broker"):
        assert main(["hub", "add", name, "--resident", "Mr Arthur Bell"]) == 2
        assert f"{name} is the server's broker account" in capsys.readouterr().err
    assert _credentials(broker) == before
    assert main(["hub", "add", "hub-0001", "--resident", "Mr Arthur Bell"]) == 0
    assert "hub-0001" in broker.accounts.usernames()

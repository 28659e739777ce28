"""``carewatch-agent check --test`` as on a real hub: the deployment's Mosquitto (TLS, passwords,
the hubs' ACL), the real server, the hub's id and password from agent.env over the copied
example config."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr

from edge.agent.cli import main
from server.runtime import CarewatchServer
from server.settings import ServerSettings
from server.store.pool import migrate
from tests.deploy.broker import SERVER_ACCOUNT, Broker, deployment_broker
from tests.server.helpers import ADMIN_PASSWORD, provision

SERVER_PASSWORD = "server-password-for-tests"
HUB, HUB_PASSWORD = "hub-0420", "hub-0420-password"
EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "agent" / "agent.example.toml"


@pytest.fixture
def broker() -> Iterator[Broker]:
    with deployment_broker(SERVER_PASSWORD, {HUB: HUB_PASSWORD}) as running:
        yield running


async def test_check_test_over_the_hubs_tls_listener_reaches_the_servers_database(
    broker: Broker,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    migrate(database_url)
    provision(database_url, HUB, "Mrs Edith Clarke")
    # The installer's files: the example copied as it is, with the CA line uncommented, and
    # agent.env as `carewatch hub add` printed it (systemd's EnvironmentFile sets these).
    config = tmp_path / "agent.toml"
    text = EXAMPLE.read_text().replace('# ca_file = "/etc/carewatch/ca.crt"', "ca_file = 'CA'")
    config.write_text(text.replace("'CA'", f"'{broker.ca_file}'").replace("zigbee2mqtt", "sim"))
    monkeypatch.setenv("CAREWATCH_AGENT_HUB_ID", HUB)
    monkeypatch.setenv(
        "CAREWATCH_AGENT_MQTT_URL", f"mqtts://{HUB}:{HUB_PASSWORD}@localhost:{broker.tls_port}"
    )
    settings = ServerSettings(
        http_port=0, admin_password=SecretStr(ADMIN_PASSWORD), mqtt_client_id=SERVER_ACCOUNT
    )
    server_url = f"mqtt://{SERVER_ACCOUNT}:{SERVER_PASSWORD}@127.0.0.1:{broker.plain_port}"
    async with CarewatchServer(settings, database_url=database_url, mqtt_url=server_url):
        code = await asyncio.to_thread(main, ["check", "--test", "--config", str(config)])
    out = capsys.readouterr().out
    assert f"ok  service broker: connected to localhost:{broker.tls_port} as {HUB}" in out
    assert "ok  test: the server stored the test alarm (no alert, nobody notified)" in out
    assert "ok  clock: within 60 s of the server's" in out
    assert code == 0, out
    with psycopg.connect(database_url) as conn:
        alarms = conn.execute("SELECT kind FROM alarms WHERE hub_id = %s", (HUB,)).fetchall()
        alerts = conn.execute("SELECT count(*) FROM alerts").fetchone()
    assert alarms == [("test",)]
    assert alerts == (0,)

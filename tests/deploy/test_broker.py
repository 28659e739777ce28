"""The deployment's broker configuration, proven on Debian's Mosquitto without Docker.

The same mosquitto.conf and ACL files that docker-compose.yml mounts, with
trial certificates from ``carewatch certs`` and accounts made the way
Mosquitto's own tool makes them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.agent.agent import Agent
from edge.protocol import Reading, ReadingKind
from tests.deploy.broker import Broker, Session, connect, deployment_broker, mosquitto_missing
from tests.edge.helpers import ScriptedDriver, eventually

pytestmark = pytest.mark.skipif(mosquitto_missing() is not None, reason=str(mosquitto_missing()))

SERVER_PASSWORD = "server-password-for-tests"


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    hubs = {"hub-a": "password-a", "hub-b": "password-b", "hub-tls": "tls-password"}
    with deployment_broker(SERVER_PASSWORD, hubs) as running:
        yield running


def _session(result: Session | str) -> Session:
    assert isinstance(result, Session), result
    return result


def _wait_for(session: Session, count: int) -> None:
    deadline = time.monotonic() + 3
    while len(session.received) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_hub_can_publish_only_on_its_own_topics(broker: Broker) -> None:
    server = _session(
        connect(
            broker.plain_port, "carewatch-server", SERVER_PASSWORD, subscribe="carewatch/v1/hubs/#"
        )
    )
    hub_a = _session(connect(broker.plain_port, "hub-a", "password-a"))
    try:
        hub_a.client.publish("carewatch/v1/hubs/hub-b/readings", b"forged", qos=1).wait_for_publish(
            5
        )
        hub_a.client.publish(
            "carewatch/v1/hubs/hub-a/readings", b"genuine", qos=1
        ).wait_for_publish(5)
        hub_a.client.publish("somewhere/else", b"stray", qos=1).wait_for_publish(5)
        _wait_for(server, 1)
        time.sleep(0.5)  # time for anything forged to arrive, were it let through
        assert server.received == [("carewatch/v1/hubs/hub-a/readings", b"genuine")]
    finally:
        hub_a.close()
        server.close()


def test_anonymous_and_wrong_passwords_are_refused(broker: Broker) -> None:
    assert connect(broker.plain_port, None, None) == "refused: Not authorized"
    wrong = connect(broker.plain_port, "hub-a", "not-the-password")
    assert isinstance(wrong, str)
    assert wrong.startswith("refused")
    unknown = connect(broker.plain_port, "hub-zzz", "password-a")
    assert isinstance(unknown, str)


def test_the_tls_listener_accepts_clients_trusting_the_ca_and_refuses_others(
    broker: Broker,
) -> None:
    trusted = _session(
        connect(broker.tls_port, "hub-a", "password-a", tls=True, ca_file=broker.ca_file)
    )
    trusted.close()
    # A client that does not trust the trial CA refuses the broker's certificate.
    untrusted = connect(broker.tls_port, "hub-a", "password-a", tls=True)
    assert isinstance(untrusted, str)
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted
    # Plain MQTT on the TLS port gets nowhere.
    plain = connect(broker.tls_port, "hub-a", "password-a")
    assert isinstance(plain, str)
    # TLS with the right CA but the wrong password is still refused.
    wrong = connect(broker.tls_port, "hub-a", "nope", tls=True, ca_file=broker.ca_file)
    assert isinstance(wrong, str)


def test_a_revoked_hub_is_locked_out(broker: Broker) -> None:
    before = _session(connect(broker.plain_port, "hub-b", "password-b"))
    before.close()
    assert broker.accounts.remove("hub-b")  # what `carewatch hub revoke` does
    broker.reload()
    after = connect(broker.plain_port, "hub-b", "password-b")
    assert isinstance(after, str)
    assert after.startswith("refused")
    still = _session(connect(broker.plain_port, "hub-a", "password-a"))
    still.close()


def test_a_hub_agent_delivers_over_tls_with_its_own_account(broker: Broker, tmp_path: Path) -> None:
    server = _session(
        connect(
            broker.plain_port, "carewatch-server", SERVER_PASSWORD, subscribe="carewatch/v1/hubs/#"
        )
    )
    now = datetime.now(UTC)
    readings = [
        Reading("hall-pir", ReadingKind.MOTION, now - timedelta(seconds=30 * i), 1.0)
        for i in range(5)
    ]
    agent = Agent(
        hub_id="hub-tls",
        driver=ScriptedDriver(readings),
        outbox_path=tmp_path / "outbox.sqlite3",
        mqtt_url=f"mqtts://hub-tls:tls-password@127.0.0.1:{broker.tls_port}",
        ca_file=broker.ca_file,
        clock=lambda: now,
        tick_s=0.02,
    )
    stop = threading.Event()
    agent.start()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    try:
        eventually(lambda: agent.outbox.depth() == 0, what="the outbox emptied over TLS")
        _wait_for(server, 2)
        topics = {topic for topic, _ in server.received}
        assert "carewatch/v1/hubs/hub-tls/readings" in topics
    finally:
        stop.set()
        thread.join(5)
        agent.stop()
        server.close()

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
from tests.deploy.broker import (
    SERVER_ACCOUNT,
    SERVER_CLIENT_IDS,
    Broker,
    Session,
    connect,
    deployment_broker,
    mosquitto_missing,
)
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


def _hub(broker: Broker, hub: str, password: str, *, client_id: str | None = None) -> Session:
    """A hub's session, over TLS on the hubs' listener as in a home."""
    return _session(
        connect(
            broker.tls_port, hub, password, tls=True, ca_file=broker.ca_file, client_id=client_id
        )
    )


def _server(broker: Broker, client_id: str, *, subscribe: str) -> Session:
    """One of the server's persistent sessions, on the internal listener."""
    return _session(
        connect(
            broker.plain_port,
            SERVER_ACCOUNT,
            SERVER_PASSWORD,
            client_id=client_id,
            clean_start=False,
            subscribe=subscribe,
        )
    )


def _forget(broker: Broker, client_id: str) -> None:
    """End a persistent session for good, so the next test starts without it."""
    _session(
        connect(broker.plain_port, SERVER_ACCOUNT, SERVER_PASSWORD, client_id=client_id)
    ).close()


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
    hub_a = _hub(broker, "hub-a", "password-a")
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


def test_the_server_confirms_alarms_to_each_hub_and_only_that_hub_hears_it(
    broker: Broker,
) -> None:
    # The hub keeps an alarm until it hears alarm_ack on its own topic; acl-hubs'
    # %u pattern lets it subscribe there, and the server's acl lets it publish.
    hub_a = _session(
        connect(
            broker.tls_port,
            "hub-a",
            "password-a",
            tls=True,
            ca_file=broker.ca_file,
            subscribe="carewatch/v1/hubs/hub-a/alarm_ack",
        )
    )
    nosy = _session(
        connect(
            broker.tls_port,
            "hub-b",
            "password-b",
            tls=True,
            ca_file=broker.ca_file,
            subscribe="carewatch/v1/hubs/hub-a/alarm_ack",
        )
    )
    server = _session(connect(broker.plain_port, SERVER_ACCOUNT, SERVER_PASSWORD))
    try:
        ack = b'{"v":1,"hub":"hub-a","ids":["a-1"]}'
        assert server.publish("carewatch/v1/hubs/hub-a/alarm_ack", ack)
        _wait_for(hub_a, 1)
        time.sleep(0.5)  # time for it to reach hub-b too, were it let through
        assert hub_a.received == [("carewatch/v1/hubs/hub-a/alarm_ack", ack)]
        assert nosy.received == []
    finally:
        hub_a.close()
        nosy.close()
        server.close()


def test_anonymous_and_wrong_passwords_are_refused(broker: Broker) -> None:
    assert connect(broker.plain_port, None, None) == "refused: Not authorized"
    anonymous = connect(broker.tls_port, None, None, tls=True, ca_file=broker.ca_file)
    assert anonymous == "refused: Not authorized"
    wrong = connect(broker.tls_port, "hub-a", "not-the-password", tls=True, ca_file=broker.ca_file)
    assert isinstance(wrong, str)
    assert wrong.startswith("refused")
    unknown = connect(broker.tls_port, "hub-zzz", "password-a", tls=True, ca_file=broker.ca_file)
    assert isinstance(unknown, str)


def test_each_listener_lets_in_only_its_own_accounts(broker: Broker) -> None:
    # A hub's account is not valid where the server's sessions live...
    assert connect(broker.plain_port, "hub-a", "password-a") == "refused: Not authorized"
    # ...nor the server's on the hubs' listener, facing the internet.
    server_there = connect(
        broker.tls_port, SERVER_ACCOUNT, SERVER_PASSWORD, tls=True, ca_file=broker.ca_file
    )
    assert server_there == "refused: Not authorized"


@pytest.mark.parametrize("server_id", SERVER_CLIENT_IDS)
def test_a_hub_with_the_servers_client_id_neither_drops_nor_wipes_its_session(
    broker: Broker, server_id: str
) -> None:
    alarm = "carewatch/v1/hubs/hub-a/alarm"
    server = _server(broker, server_id, subscribe="carewatch/v1/hubs/+/alarm")
    try:
        # Mosquitto gives a session to whoever connects with its client id: here
        # the id the hub asks for is replaced by its username.
        impostor = _hub(broker, "hub-a", "password-a", client_id=server_id)
        assert impostor.publish(alarm, b"pressed while the server is on")
        impostor.close()
        assert server.wait_for(1) == [b"pressed while the server is on"]
        time.sleep(0.3)
        assert not server.dropped.is_set(), "the hub pushed the server's session off"
    finally:
        server.close()
    try:
        # The server away, an alarm acknowledged to a hub waits in its session;
        # a hub asking for its id with a clean start must not throw it away.
        hub = _hub(broker, "hub-a", "password-a")
        assert hub.publish(alarm, b"pressed while the server is away")
        hub.close()
        _hub(broker, "hub-a", "password-a", client_id=server_id).close()
        back = _server(broker, server_id, subscribe="carewatch/v1/hubs/+/alarm")
        try:
            assert back.wait_for(1) == [b"pressed while the server is away"]
        finally:
            back.close()
    finally:
        _forget(broker, server_id)


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
    before = _hub(broker, "hub-b", "password-b")
    before.close()
    assert broker.accounts.remove("hub-b")  # what `carewatch hub revoke` does
    broker.reload()
    after = connect(broker.tls_port, "hub-b", "password-b", tls=True, ca_file=broker.ca_file)
    assert isinstance(after, str)
    assert after.startswith("refused")
    still = _hub(broker, "hub-a", "password-a")
    still.close()
    # The reload kept the server's listener and account as they were.
    _session(connect(broker.plain_port, SERVER_ACCOUNT, SERVER_PASSWORD)).close()


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

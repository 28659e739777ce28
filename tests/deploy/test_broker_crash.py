"""The deployment's broker killed with SIGKILL keeps every message it acknowledged and saved.

A hub's outbox forgets a reading batch once the broker's PUBACK is in, so from
then on the broker alone holds it for the server (an alarm the hub keeps until
the server confirms it: test_alarm_confirmed.py). Mosquitto 2.0 keeps messages
in memory and saves its whole database now and then; the deployment's config
saves it after every change. Alarms are what this test sends, as the most
telling payload; the broker treats every message alike.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.deploy.broker import (
    SERVER_ACCOUNT,
    Broker,
    Session,
    connect,
    deployment_broker,
    mosquitto_missing,
)

pytestmark = pytest.mark.skipif(mosquitto_missing() is not None, reason=str(mosquitto_missing()))

SERVER_PASSWORD = "server-password-for-tests"
ALARMS_SESSION = "carewatch-server-alarms"  # the server's alarm session (server/runtime.py)
ALARM_TOPICS = "carewatch/v1/hubs/+/alarm"
ALARMS = 200


@pytest.fixture
def broker() -> Iterator[Broker]:
    with deployment_broker(SERVER_PASSWORD, {"hub-a": "password-a"}) as running:
        yield running


def _session(result: Session | str) -> Session:
    assert isinstance(result, Session), result
    return result


def _alarm(hub: str) -> bytes:
    """A pendant press as a hub sends it (edge/protocol.py's alarm message)."""
    message = {
        "v": 1,
        "hub": hub,
        "id": str(uuid.uuid4()),
        "sensor": "pendant",
        "kind": "pendant",
        "ts": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    return json.dumps(message).encode()


def _saved_within(broker: Broker, payload: bytes, *, timeout_s: float) -> float | None:
    """Seconds until ``payload`` is in the broker's saved database, or None if not in time."""
    begin = time.monotonic()
    while time.monotonic() - begin < timeout_s:
        if broker.database.exists() and payload in broker.database.read_bytes():
            return time.monotonic() - begin
        time.sleep(0.002)
    return None


def test_every_alarm_acknowledged_to_a_hub_survives_a_broker_crash(broker: Broker) -> None:
    def server_session() -> Session:
        return _session(
            connect(
                broker.plain_port,
                SERVER_ACCOUNT,
                SERVER_PASSWORD,
                client_id=ALARMS_SESSION,
                clean_start=False,
                subscribe=ALARM_TOPICS,
            )
        )

    # The server's alarm session exists, then the server is away (restarting, say).
    server_session().close()
    hub = _session(
        connect(broker.tls_port, "hub-a", "password-a", tls=True, ca_file=broker.ca_file)
    )
    acknowledged: list[bytes] = []
    try:
        for _ in range(ALARMS):
            alarm = _alarm("hub-a")
            assert hub.publish("carewatch/v1/hubs/hub-a/alarm", alarm), "no PUBACK"
            acknowledged.append(alarm)  # the hub's outbox lets it go here
        # Mosquitto 2.0 sends a PUBACK before it saves the same round's changes,
        # so a kill in that moment (about a millisecond here, the save's write
        # and fsync) still loses the message; no setting of 2.0.11 closes it
        # (docs/deployment.md). Wait for that save, as the hub cannot, so that
        # the test shows the 30-minute window of the old config is gone and
        # does not flake on the millisecond that remains.
        saved_s = _saved_within(broker, acknowledged[-1], timeout_s=2.0)
        broker.kill()
    finally:
        hub.close()

    broker.start()  # from the same persistence directory
    # Pressed after the restart, before the server is back: the session read
    # from disk must still be let in by its listener's ACL (per_listener_settings).
    hub = _session(
        connect(broker.tls_port, "hub-a", "password-a", tls=True, ca_file=broker.ca_file)
    )
    try:
        after = _alarm("hub-a")
        assert hub.publish("carewatch/v1/hubs/hub-a/alarm", after)
    finally:
        hub.close()

    server = server_session()
    try:
        received = server.wait_for(ALARMS + 1, timeout_s=10)
    finally:
        server.close()
        _session(
            connect(broker.plain_port, SERVER_ACCOUNT, SERVER_PASSWORD, client_id=ALARMS_SESSION)
        ).close()
    lost = [alarm for alarm in acknowledged if alarm not in received]
    assert not lost, f"{len(lost)} of {ALARMS} acknowledged alarms lost in the crash"
    assert received == [*acknowledged, after]
    assert saved_s is not None, "the last alarm was not saved within 2 s of its PUBACK"
    assert saved_s < 1.0, f"saved {saved_s:.3f} s after its PUBACK"

"""Messages that once escaped the parser or broke the handler: each a dead letter at once,
and another home's pendant raised within seconds behind twenty of them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime

import psycopg
import pytest

from edge.protocol import Alarm, AlarmKind, alarm_topic, encode
from server.ingest import service, triage
from server.runtime import CarewatchServer
from tests.server.helpers import Publisher, eventually, press_pendant, provision, unique_hub

# Each raised something other than a ProtocolError in the parser: RecursionError,
# ValueError ("Exceeds the limit (4300 digits)") and OverflowError in astimezone.
POISON = [
    b"[" * 50_000 + b"]" * 50_000,
    b'{"v": 1, "hub": "x", "n": 1' + b"0" * 5_000 + b"}",
    b'{"v": 1, "hub": "%s", "id": "a", "sensor": "pendant", "kind": "pendant",'
    b' "ts": "0001-01-01T00:00:00+01:00"}',
    b'{"v": 1, "hub": "%s", "id": "a", "sensor": "pendant", "kind": "pendant",'
    b' "ts": "9999-12-31T23:59:59-01:00"}',
]

# What the bug cost was 30 s (1.5 s of retries for each of the 20); the machine is busy.
WITHIN_S = 5.0


def _count(database_url: str, query: str, *args: object) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(query.encode(), args).fetchone()
    assert row is not None
    return int(row[0])


def _emergencies(database_url: str, hub: str) -> int:
    return _count(
        database_url,
        "SELECT count(*) FROM alerts WHERE hub_id = %s AND severity = 'emergency'",
        hub,
    )


def _reasons(database_url: str, hub: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT reason FROM dead_letters WHERE hub_id = %s ORDER BY id", (hub,)
        ).fetchall()
    return [reason for (reason,) in rows]


async def _pendant_behind(
    database_url: str, mqtt_url: str, hub_a: str, payloads: list[bytes]
) -> float:
    """Publish ``payloads`` on hub A's alarm topic, then press hub B's pendant: seconds to its alert."""
    hub_b = unique_hub("hub-b")
    provision(database_url, hub_b, f"Mrs Pull-Cord {hub_b}")
    publisher = Publisher(mqtt_url)
    try:
        for payload in payloads:
            publisher.publish(alarm_topic(hub_a), payload)
    finally:
        publisher.close()
    pressed = time.monotonic()
    press_pendant(mqtt_url, hub_b)
    await eventually(lambda: _emergencies(database_url, hub_b) == 1, "hub B's emergency", within=60)
    return time.monotonic() - pressed


async def test_poisonous_payloads_on_one_alarm_topic_do_not_hold_up_another_homes_pendant(
    server: CarewatchServer, database_url: str, mqtt_url: str
) -> None:
    hub_a = unique_hub("hub-a")
    provision(database_url, hub_a, f"Mr Poison {hub_a}")
    payloads = [POISON[i % len(POISON)].replace(b"%s", hub_a.encode()) for i in range(20)]

    took = await _pendant_behind(database_url, mqtt_url, hub_a, payloads)

    assert took < WITHIN_S, f"hub B's pendant took {took:.1f} s behind hub A's poison"
    reasons = await eventually(
        lambda: (r := _reasons(database_url, hub_a)) and len(r) == 20 and r, "20 dead letters"
    )
    assert all(reasons)
    assert reasons[:4] == [
        "payload is not JSON we read: nested too deeply",
        "payload is not JSON we read: Exceeds the limit (4300 digits) for integer string"
        " conversion",
        "alarm: field 'ts': timestamp '0001-01-01T00:00:00+01:00' is out of range",
        "alarm: field 'ts': timestamp '9999-12-31T23:59:59-01:00' is out of range",
    ]
    assert _emergencies(database_url, hub_a) == 0


async def test_a_message_the_handler_fails_on_is_dead_lettered_at_once_not_retried(
    server: CarewatchServer, database_url: str, mqtt_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub_a = unique_hub("hub-a")
    provision(database_url, hub_a, f"Mr Bug {hub_a}")
    real_triage: Callable[..., object] = triage.triage

    def broken_for_hub_a(topic: str, payload: bytes, **kwargs: object) -> object:
        # Stands for any bug, or content the database refuses; the lone surrogate is
        # what an exception's text may carry, and PostgreSQL would refuse as text.
        if hub_a in topic:
            raise RuntimeError("something nobody foresaw \ud800")
        return real_triage(topic, payload, **kwargs)

    monkeypatch.setattr(service, "triage", broken_for_hub_a)
    alarms = [
        encode(
            Alarm(
                hub_a, str(uuid.uuid4()), "pendant", AlarmKind.PENDANT, datetime.now().astimezone()
            )
        )
        for _ in range(20)
    ]

    took = await _pendant_behind(database_url, mqtt_url, hub_a, alarms)

    assert took < WITHIN_S, f"hub B's pendant took {took:.1f} s behind hub A's failures"
    reasons = await eventually(
        lambda: (r := _reasons(database_url, hub_a)) and len(r) == 20 and r, "20 dead letters"
    )
    assert set(reasons) == {"could not be handled: RuntimeError: something nobody foresaw \\ud800"}

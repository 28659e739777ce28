"""An installer's test alarm (``carewatch-agent check --test``): confirmed with the server's clock,
never an alert, live or replayed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from edge.protocol import (
    Alarm,
    AlarmAck,
    AlarmKind,
    ProtocolError,
    Reading,
    alarm_ack_topic,
    parse_message,
)
from firmware_sim.recording import RecordedAlarm
from server.domain.alerts import AlertKind
from server.domain.findings import Finding
from server.evaluation.replay import replay
from server.ingest.alarm_confirm import AlarmConfirmer

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


class Quiet:
    """A detector that finds nothing: only the alarms are left to raise alerts."""

    def set_timezone(self, hub: str, zone: ZoneInfo) -> None:
        pass

    def observe(self, hub: str, reading: Reading) -> list[Finding]:
        return []

    def advance(self, hub: str, watermark: datetime) -> list[Finding]:
        return []


def test_a_recorded_test_alarm_raises_nothing_and_a_pendant_still_does() -> None:
    records = [
        RecordedAlarm("carewatch-check", AlarmKind.TEST, T0, T0),
        RecordedAlarm(
            "pendant", AlarmKind.PENDANT, T0 + timedelta(hours=1), T0 + timedelta(hours=1)
        ),
    ]
    raised = list(
        replay("hub-1", ZoneInfo("Europe/London"), records, Quiet(), end=T0 + timedelta(hours=2))
    )
    assert [a.kind for a in raised] == [AlertKind.PENDANT]


def test_the_servers_confirmation_carries_its_clock_and_an_old_one_still_parses() -> None:
    sent: list[tuple[str, bytes]] = []

    def send(topic: str, payload: bytes) -> bool:
        sent.append((topic, payload))
        return True

    confirmer = AlarmConfirmer(send, clock=lambda: T0)
    confirmer.stored(Alarm("hub-1", "check-1", "carewatch-check", AlarmKind.TEST, T0))
    [(topic, payload)] = sent
    assert topic == alarm_ack_topic("hub-1")
    assert parse_message(topic, payload) == AlarmAck("hub-1", ("check-1",), ts=T0)
    # A server from before the field: the hub reads the ids, and no clock.
    old = b'{"v":1,"hub":"hub-1","ids":["check-1"]}'
    assert parse_message(topic, old) == AlarmAck("hub-1", ("check-1",))
    with pytest.raises(ProtocolError, match="'ts'"):
        parse_message(topic, b'{"v":1,"hub":"hub-1","ids":["a"],"ts":"yesterday"}')

"""An installer's test alarm (``carewatch-agent check --test``) is never an alert, live or replayed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from edge.protocol import AlarmKind, Reading
from firmware_sim.recording import RecordedAlarm
from server.domain.alerts import AlertKind
from server.domain.findings import Finding
from server.evaluation.replay import replay

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

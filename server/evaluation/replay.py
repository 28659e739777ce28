"""Replay one home's recorded stream through a detector, as the server would have seen it live.

Records are taken in the order the server received them (readings held in the
hub during a broadband outage arrive together when it ends). Between records
the hub's watermark moves on in ``tick`` steps while the hub is online, as its
heartbeats would move it, so a silence is judged minute by minute; while the
hub is offline it does not move, and the hub-health check sees the outage.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from edge.protocol import AlarmKind, Reading
from firmware_sim.recording import Record, RecordedAlarm, RecordedReading, RecordedStatus
from server.detect.hub_health import HubHealth
from server.domain.alerts import AlertKind, Severity, kind_for_alarm
from server.domain.findings import Condition, Finding

__all__ = ["Detector", "RaisedAlert", "replay"]


class Detector(Protocol):
    """What the evaluation drives: carewatch's detectors, or a baseline."""

    def set_timezone(self, hub: str, zone: ZoneInfo) -> None:
        """The resident's local time zone."""
        ...

    def observe(self, hub: str, reading: Reading) -> list[Finding]:
        """One reading, in arrival order."""
        ...

    def advance(self, hub: str, watermark: datetime) -> list[Finding]:
        """Everything up to ``watermark`` has arrived."""
        ...


@dataclass(slots=True, frozen=True)
class RaisedAlert:
    """An alert as the replay raised it: when it would have reached a person, and why."""

    home: str
    kind: AlertKind
    severity: Severity
    raised_at: datetime
    event_at: datetime
    reason: str


def _received(record: Record) -> datetime:
    match record:
        case RecordedReading(received=received) | RecordedAlarm(received=received):
            return received
        case RecordedStatus(ts=ts):
            return ts


def replay(
    home: str,
    zone: ZoneInfo,
    records: Iterable[Record],
    detector: Detector,
    *,
    end: datetime,
    tick: timedelta = timedelta(minutes=1),
    rooms: Mapping[str, str] | None = None,
) -> Iterator[RaisedAlert]:
    """The alerts ``detector`` raises for ``home`` over its stream, in the order raised.

    ``rooms`` is the home's sensor map (sensor → room), as its hub would send it.
    """
    detector.set_timezone(home, zone)
    set_sensor_map = getattr(detector, "set_sensor_map", None)
    if rooms and set_sensor_map is not None:
        set_sensor_map(home, rooms)
    hub_health = HubHealth()
    # Arrival order; the stream is in event order, so an outage's backlog moves later.
    arrivals = heapq.merge(
        ((_received(r), i, r) for i, r in enumerate(records)), key=lambda item: (item[0], item[1])
    )
    online, last_seen = True, None
    clock: datetime | None = None

    def raised(findings: list[Finding], at: datetime) -> Iterator[RaisedAlert]:
        for f in findings:
            if isinstance(f, Condition):
                yield RaisedAlert(home, f.kind, f.severity, at, f.event_at, f.reason)

    for at, _, record in arrivals:
        if at >= end:
            break
        # The minutes before this record: the watermark moves while the hub is online.
        while clock is not None and clock + tick <= at:
            clock += tick
            if online:
                # A live hub's heartbeat every minute: seen, and the watermark moves.
                last_seen = clock
                yield from raised(detector.advance(home, clock), clock)
            state = "online" if online else "offline"
            yield from raised(
                hub_health.check(home, state=state, last_seen=last_seen, now=clock), clock
            )
        clock = at if clock is None else max(clock, at)
        match record:
            case RecordedReading(reading=reading):
                last_seen = at
                yield from raised(detector.observe(home, reading), at)
            case RecordedAlarm(kind=AlarmKind.TEST):
                last_seen = at  # an installer's `carewatch-agent check --test`: no alert
            case RecordedAlarm(kind=kind, ts=ts):
                last_seen = at
                yield RaisedAlert(
                    home, kind_for_alarm(kind), Severity.EMERGENCY, at, ts, kind.value
                )
            case RecordedStatus(online=is_online, ts=ts, sensors=sensors):
                online = is_online
                last_seen = ts
                health = getattr(detector, "health", None)
                if sensors and health is not None:
                    yield from raised(health(home, sensors, at), at)
                state = "online" if online else "offline"
                yield from raised(hub_health.check(home, state=state, last_seen=ts, now=at), at)
                if online:
                    yield from raised(detector.advance(home, at), at)
    while clock is not None and clock + tick < end:
        clock += tick
        if online:
            last_seen = clock
            yield from raised(detector.advance(home, clock), clock)
        state = "online" if online else "offline"
        yield from raised(
            hub_health.check(home, state=state, last_seen=last_seen, now=clock), clock
        )

"""Replay one home's recorded stream through a detector, as the server would have seen it live.

Records are taken in the order the server received them (readings held in the
hub during a broadband outage arrive together when it ends). Between records
the hub's watermark moves on in ``tick`` steps while the hub is online, as its
heartbeats would move it, so a silence is judged minute by minute; while the
hub is offline it does not move, and the hub-health check sees the outage.

:class:`Replay` is that replay as a state machine (fed records, moved on to a
moment), so the evaluation can copy it at any moment and play a different
future from there (an injected incident, :mod:`server.evaluation.forks`). It
can also play a carer closing each alert some minutes after it was raised,
through the detector's own ``feedback`` entry point, so learning from
feedback is measured.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from edge.protocol import AlarmKind, SensorHealth
from firmware_sim.recording import Record, RecordedAlarm, RecordedReading, RecordedStatus
from server.detect.detector import Detector
from server.detect.hub_health import HubHealth
from server.domain.alerts import AlertKind, Outcome, Severity, kind_for_alarm
from server.domain.findings import Condition, Finding

__all__ = ["Detector", "RaisedAlert", "Replay", "every_alert_false", "received", "replay"]


@dataclass(slots=True, frozen=True)
class RaisedAlert:
    """An alert as the replay raised it: when it would have reached a person, and why."""

    home: str
    kind: AlertKind
    severity: Severity
    raised_at: datetime
    event_at: datetime
    reason: str
    # The detector's details (where feedback on it applies); not compared.
    details: Mapping[str, object] = field(default_factory=dict, compare=False)


def received(record: Record) -> datetime:
    """When the server got ``record`` (its event time unless it waited in the hub)."""
    match record:
        case RecordedReading(received=at) | RecordedAlarm(received=at):
            return at
        case RecordedStatus(ts=ts):
            return ts


def every_alert_false(alert: RaisedAlert) -> bool:
    """Every alert was a false alarm: so in a recording of normal life."""
    return True


class Replay:
    """One home's replay, fed records in arrival order; a copy (``copy.deepcopy``) forks it.

    With ``feedback_after``, each alert the detector raised is closed by a carer
    that long after it was raised: as a false alarm if ``is_false(alert)``, else
    as "carer visited" (a confirmed incident, which the detector must not learn
    as routine). A detector without a ``feedback`` method is replayed without.
    """

    def __init__(
        self,
        home: str,
        zone: ZoneInfo,
        detector: Detector,
        *,
        tick: timedelta = timedelta(minutes=1),
        rooms: Mapping[str, str] | None = None,
        sensors: Sequence[SensorHealth] = (),
        feedback_after: timedelta | None = None,
        is_false: Callable[[RaisedAlert], bool] = every_alert_false,
    ) -> None:
        self.home = home
        self.detector = detector
        self.tick = tick
        self.feedback_after = feedback_after
        self.is_false = is_false
        detector.set_timezone(home, zone)
        set_sensor_map = getattr(detector, "set_sensor_map", None)
        if rooms and set_sensor_map is not None:
            set_sensor_map(home, rooms)
        # The hub's sensor map (kind and room of each), handed over with the first record
        # as its first heartbeat would: what the home's sensors cannot see is said then.
        self._sensor_map = tuple(sensors)
        self._feedback: Callable[..., bool] | None = getattr(detector, "feedback", None)
        self._hub_health = HubHealth()
        self._online = True
        self._last_seen: datetime | None = None
        self.clock: datetime | None = None
        # (due, order, alert, outcome): carers' closings still to come.
        self._closings: list[tuple[datetime, int, RaisedAlert, Outcome]] = []
        self._closed = 0

    def _raised(self, findings: list[Finding], at: datetime) -> list[RaisedAlert]:
        out = [
            RaisedAlert(self.home, f.kind, f.severity, at, f.event_at, f.reason, f.details)
            for f in findings
            if isinstance(f, Condition)
        ]
        if self.feedback_after is not None and self._feedback is not None:
            for alert in out:
                outcome = Outcome.FALSE_ALARM if self.is_false(alert) else Outcome.CARER_VISITED
                self._closed += 1
                heapq.heappush(
                    self._closings, (at + self.feedback_after, self._closed, alert, outcome)
                )
        return out

    def _close_due(self, now: datetime) -> None:
        """The carers' closings due by ``now``, handed to the detector in order."""
        while self._closings and self._closings[0][0] <= now:
            due, _, alert, outcome = heapq.heappop(self._closings)
            assert self._feedback is not None  # only queued when there is one
            self._feedback(self.home, alert.kind, outcome, details=alert.details, resolved_at=due)

    def _step(self, clock: datetime) -> list[RaisedAlert]:
        out: list[RaisedAlert] = []
        if self._closings:
            self._close_due(clock)
        if self._online:
            # A live hub's heartbeat every minute: seen, and the watermark moves.
            self._last_seen = clock
            out += self._raised(self.detector.advance(self.home, clock), clock)
        state = "online" if self._online else "offline"
        out += self._raised(
            self._hub_health.check(self.home, state=state, last_seen=self._last_seen, now=clock),
            clock,
        )
        return out

    def run_until(self, at: datetime) -> list[RaisedAlert]:
        """The minutes up to ``at`` with nothing received: the watermark moves while online."""
        out: list[RaisedAlert] = []
        while self.clock is not None and self.clock + self.tick <= at:
            self.clock += self.tick
            out += self._step(self.clock)
        return out

    def finish(self, end: datetime) -> list[RaisedAlert]:
        """The minutes left before ``end``, the recording's end."""
        out: list[RaisedAlert] = []
        while self.clock is not None and self.clock + self.tick < end:
            self.clock += self.tick
            out += self._step(self.clock)
        return out

    def feed(self, at: datetime, record: Record) -> list[RaisedAlert]:
        """``record``, received at ``at`` (after the minutes before it)."""
        out = self.run_until(at)
        home, detector = self.home, self.detector
        if self.clock is None and self._sensor_map:
            health = getattr(detector, "health", None)
            if health is not None:
                out += self._raised(health(home, self._sensor_map, at), at)
        self.clock = at if self.clock is None else max(self.clock, at)
        if self._closings:
            self._close_due(at)
        match record:
            case RecordedReading(reading=reading):
                self._last_seen = at
                out += self._raised(detector.observe(home, reading), at)
            case RecordedAlarm(kind=AlarmKind.TEST):
                self._last_seen = at  # an installer's `carewatch-agent check --test`: no alert
            case RecordedAlarm(kind=kind, ts=ts):
                self._last_seen = at
                out.append(
                    RaisedAlert(home, kind_for_alarm(kind), Severity.EMERGENCY, at, ts, kind.value)
                )
            case RecordedStatus(online=is_online, ts=ts, sensors=sensors):
                self._online = is_online
                self._last_seen = ts
                health = getattr(detector, "health", None)
                if sensors and health is not None:
                    out += self._raised(health(home, sensors, at), at)
                state = "online" if is_online else "offline"
                out += self._raised(
                    self._hub_health.check(home, state=state, last_seen=ts, now=at), at
                )
                if is_online:
                    out += self._raised(detector.advance(home, at), at)
        return out


def replay(
    home: str,
    zone: ZoneInfo,
    records: Iterable[Record],
    detector: Detector,
    *,
    end: datetime,
    tick: timedelta = timedelta(minutes=1),
    rooms: Mapping[str, str] | None = None,
    sensors: Sequence[SensorHealth] = (),
    feedback_after: timedelta | None = None,
    is_false: Callable[[RaisedAlert], bool] = every_alert_false,
) -> Iterator[RaisedAlert]:
    """The alerts ``detector`` raises for ``home`` over its stream, in the order raised.

    ``rooms`` is the home's sensor map (sensor → room), as its hub would send it;
    ``sensors`` the same map with each sensor's kind (the recording's manifest);
    ``feedback_after`` and ``is_false`` as for :class:`Replay`.
    """
    run = Replay(
        home,
        zone,
        detector,
        tick=tick,
        rooms=rooms,
        sensors=sensors,
        feedback_after=feedback_after,
        is_false=is_false,
    )
    for record in records:
        at = received(record)
        if at >= end:
            break
        yield from run.feed(at, record)
    yield from run.finish(end)

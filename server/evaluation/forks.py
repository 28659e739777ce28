"""One home replayed once, with every injected incident played as a fork of that replay.

Replaying the whole stream once per injected incident would repeat the same
prefix 120 times for 40 injections of three kinds. Instead the home's stream
is replayed once (the untouched recording: its alerts are the false alarms),
and at each injection's cut the whole replay (detector, hub health, the
carers' pending feedback) is copied and the copy plays the injected future:
nothing from the cut to the resume (a fall, a resident not up, a resident out)
but the hub's minute heartbeats (and its recorded statuses: an outage in a
simulated recording still happens), with any inserted reading (the front door),
then the recorded stream again until the incident is over. So the detector at
the incident has learned from every day before it, exactly as it would have
live, and each incident costs only its own hours.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from edge.protocol import SensorHealth
from firmware_sim.recording import Record, RecordedReading, RecordedStatus
from server.evaluation.inject import Injection
from server.evaluation.replay import Detector, RaisedAlert, Replay, every_alert_false, received

__all__ = ["FORK_GRACE", "Forked", "replay_with_forks"]

# A fork plays on this long past its incident's end (the scoring's grace for a moment).
FORK_GRACE = timedelta(hours=1)


@dataclass(slots=True, frozen=True)
class Forked:
    """The untouched replay's alerts, and each injection's with the alerts its fork raised."""

    alerts: list[RaisedAlert]
    injected: list[tuple[Injection, list[RaisedAlert]]]


def _play_fork(
    fork: Replay,
    injection: Injection,
    records: Sequence[Record],
    arrivals: Sequence[datetime],
    first: int,
    end: datetime,
) -> list[RaisedAlert]:
    """The injected future from the cut, until the incident is over (plus the grace)."""
    label = injection.label
    stop = min(max(label.end or injection.resume, label.start) + FORK_GRACE, end)
    inserted = [(r.ts, RecordedReading(r, r.ts)) for r in injection.inserted]
    out: list[RaisedAlert] = []
    i = first
    while True:
        at = arrivals[i] if i < len(records) else None
        if inserted and (at is None or inserted[0][0] <= at or at >= stop):
            ts, record = inserted.pop(0)
            if ts >= stop:
                break
            out += fork.feed(ts, record)
            continue
        if at is None or at >= stop:
            break
        # The resident's readings and alarms stop; the hub's own statuses do not.
        if not (injection.cut <= at < injection.resume) or isinstance(records[i], RecordedStatus):
            out += fork.feed(at, records[i])
        i += 1
    out += fork.run_until(stop)
    return [a for a in out if a.raised_at >= injection.cut]


def replay_with_forks(
    home: str,
    zone: ZoneInfo,
    records: Sequence[Record],
    detector: Detector,
    injections: Sequence[Injection],
    *,
    end: datetime,
    rooms: Mapping[str, str] | None = None,
    sensors: Sequence[SensorHealth] = (),
    feedback_after: timedelta | None = None,
    is_false: Callable[[RaisedAlert], bool] = every_alert_false,
) -> Forked:
    """Replay ``records`` once and fork it at each injection's cut (see the module's docstring).

    With ``feedback_after``, carers close alerts (:class:`Replay`); in a fork, an
    alert raised after the cut is about the incident and closed as such.
    """
    run = Replay(
        home,
        zone,
        detector,
        rooms=rooms,
        sensors=sensors,
        feedback_after=feedback_after,
        is_false=is_false,
    )
    arrivals = [received(r) for r in records]
    pending = sorted(injections, key=lambda i: i.cut)
    alerts: list[RaisedAlert] = []
    injected: list[tuple[Injection, list[RaisedAlert]]] = []
    n = 0

    def fork_at(injection: Injection, first: int) -> None:
        alerts.extend(run.run_until(injection.cut))
        fork = copy.deepcopy(run)
        untouched = fork.is_false
        cut = injection.cut
        fork.is_false = lambda a: a.raised_at < cut and untouched(a)
        injected.append((injection, _play_fork(fork, injection, records, arrivals, first, end)))

    for i, record in enumerate(records):
        at = arrivals[i]
        if at >= end:
            break
        while n < len(pending) and pending[n].cut <= at:
            fork_at(pending[n], i)
            n += 1
        alerts += run.feed(at, record)
    while n < len(pending):
        fork_at(pending[n], len(records))
        n += 1
    alerts += run.finish(end)
    return Forked(alerts, injected)

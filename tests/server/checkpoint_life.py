"""A scripted fortnight that leaves something in every part of a home's checkpoint.

Run as a script with the code of a checkpoint format to keep (``PYTHONPATH`` set to
that tree) to write its fixture: the checkpoint at the end of :func:`before`, and
every finding that code makes after restoring it and living :func:`after`.
``tests/server/test_checkpoint_versions.py`` checks that today's code restores the
checkpoint and finds exactly the same. Imports only ``server.detect`` and the wire
contract, so an older tree can run it.

    PYTHONPATH=/path/to/old/tree python tests/server/checkpoint_life.py tests/server/data/home_v1
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from edge.protocol import Reading, ReadingKind, SensorHealth
from server.detect.watch import HomeWatch
from server.domain.alerts import AlertKind, Outcome
from server.domain.findings import Cleared, Finding

HUB = "hub-checkpoint-1"
DAY0 = datetime(2026, 11, 2, tzinfo=UTC)
SENSORS = (
    SensorHealth("kitchen-pir", "motion", "kitchen", battery=90.0),
    SensorHealth("lounge-pir", "motion", "lounge", battery=90.0),
    SensorHealth("bathroom-pir", "motion", "bathroom", battery=8.0),
    SensorHealth("bedroom-pir", "motion", "bedroom", battery=90.0),
    SensorHealth("hall-pir", "motion", "hall", battery=90.0),
    SensorHealth("front-door", "contact", "front_door", battery=90.0),
    SensorHealth("lounge-temp", "temperature", "lounge", battery=90.0),
    SensorHealth("study-door", "contact", "study", battery=90.0),
)


def new_watch() -> HomeWatch:
    """A detector set for the home, in its time zone."""
    watch = HomeWatch()
    watch.set_timezone(HUB, ZoneInfo("Europe/London"))
    return watch


def _at(day: int, hour: float) -> datetime:
    return DAY0 + timedelta(days=day, hours=hour)


def _see(
    watch: HomeWatch, sensor: str, kind: ReadingKind, ts: datetime, value: float = 1.0
) -> list[Finding]:
    found = watch.observe(HUB, Reading(sensor, kind, ts, value))
    return found + watch.advance(HUB, ts)


def _day(watch: HomeWatch, day: int, *, wake: float = 7.0, end: bool = True) -> list[Finding]:
    """Night toilet visits, up at ``wake``, about the house until 22:00, then to bed."""
    found: list[Finding] = []
    for hour in (2.0, 3.5 + 0.25 * (day % 3)):
        found += _see(watch, "bathroom-pir", ReadingKind.MOTION, _at(day, hour))
        found += _see(watch, "bedroom-pir", ReadingKind.MOTION, _at(day, hour + 0.1))
    t = _at(day, 4.0)
    while t < _at(day, wake):  # the morning passes: not up is judged
        found += watch.advance(HUB, t)
        t += timedelta(minutes=5)
    found += _see(watch, "bed-pad", ReadingKind.BED, _at(day, wake), 0.0)
    t = _at(day, wake + 0.02)
    while t < _at(day, 22):
        room = "kitchen" if t.hour in (8, 12, 18) else "lounge"
        found += _see(watch, f"{room}-pir", ReadingKind.MOTION, t)
        t += timedelta(minutes=5)
    found += _see(watch, "bedroom-pir", ReadingKind.MOTION, _at(day, 22.1))
    found += _see(watch, "bed-pad", ReadingKind.BED, _at(day, 22.15), 1.0)
    if end:
        found += watch.advance(HUB, _at(day, 23.99))
    return found


def before(watch: HomeWatch) -> list[Finding]:
    """Two weeks; a cold evening, the door at night, and a still spell in the chair raised at the end."""
    found = watch.health(HUB, SENSORS, _at(0, 0))
    for day in range(14):
        found += _day(watch, day, wake=7.0 + 0.1 * (day % 4), end=day != 12)
        if day == 11:
            for step in range(8):
                ts = _at(day, 18 + 0.5 * step)
                found += _see(watch, "lounge-temp", ReadingKind.TEMPERATURE, ts, 16.0)
        if day == 12:
            found += _see(watch, "lounge-temp", ReadingKind.TEMPERATURE, _at(day, 9), 20.0)
            found += _see(watch, "front-door", ReadingKind.CONTACT, _at(day, 23.5))
            found += watch.advance(HUB, _at(day, 23.9))
            found += _see(watch, "hall-pir", ReadingKind.MOTION, _at(day, 23.95))
            found += _see(watch, "bedroom-pir", ReadingKind.MOTION, _at(day, 23.97))
    found += _see(watch, "bed-pad", ReadingKind.BED, _at(14, 7.0), 0.0)
    # In the chair on a pad that pulses (a press as they shift, released seconds later):
    # learned as a pulsing pad, so its last press still holds them in the chair at 10:00.
    for step in range(12):
        ts = _at(14, 9.0 + step / 12)
        found += _see(watch, "chair-pad", ReadingKind.CHAIR, ts)
        found += _see(watch, "chair-pad", ReadingKind.CHAIR, ts + timedelta(seconds=20), 0.0)
    found += _see(watch, "lounge-pir", ReadingKind.MOTION, _at(14, 10.0))
    t = _at(14, 10.0)
    while t < _at(14, 14.0):
        t += timedelta(minutes=1)
        if t == _at(14, 13.75):  # after the alert, a lone blip: stirred, not yet moving about
            found += watch.observe(HUB, Reading("hall-pir", ReadingKind.MOTION, t, 1.0))
        found += watch.advance(HUB, t)
    return found


def after(watch: HomeWatch) -> list[Finding]:
    """Moving again, feedback on earlier alerts, two more days, one of them a lie-in."""
    found = _see(watch, "kitchen-pir", ReadingKind.MOTION, _at(14, 14.5))
    found += _see(watch, "lounge-pir", ReadingKind.MOTION, _at(14, 14.52))
    watch.feedback(
        HUB,
        AlertKind.DOOR_AT_NIGHT,
        Outcome.FALSE_ALARM,
        details={},
        resolved_at=_at(14, 15),
    )
    found += _day(watch, 15)
    found += _day(watch, 16, wake=12.5)
    found += _day(watch, 17)
    found += watch.health(HUB, SENSORS[:-1], _at(17, 23.99))
    return found


def as_json(findings: list[Finding]) -> list[dict[str, str]]:
    """What is compared: each finding's kind, whether it clears, its time and its words."""
    return [
        {
            "kind": f.kind.value,
            "cleared": str(isinstance(f, Cleared)),
            "event_at": f.event_at.isoformat(),
            "reason": f.reason,
        }
        for f in findings
    ]


def main(out: Path) -> None:
    """Write ``out.bin`` (the checkpoint) and ``out.json`` (the findings after it)."""
    watch = new_watch()
    before(watch)
    checkpoint = watch.checkpoint(HUB)
    assert checkpoint is not None
    restored = new_watch()
    restored.restore(HUB, checkpoint)
    out.with_suffix(".bin").write_bytes(checkpoint)
    out.with_suffix(".json").write_text(
        json.dumps(as_json(after(restored)), indent=1) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))

"""What a carer would read off a home's sensor stream: wake times, night toilet visits, outings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from firmware_sim.devices import FRONT_DOOR, SensorEvent

# What only the resident (or a visitor) makes happen; thermometers report regardless.
ACTIVITY_KINDS = frozenset({"motion", "contact", "bed", "chair", "power", "button"})


def local(ts: float, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ts, zone)


def wake_times(events: Sequence[SensorEvent], zone: ZoneInfo) -> dict[date, float]:
    """Each day's getting up: the last time the bed empties before noon, in local hours."""
    woke: dict[date, float] = {}
    for e in events:
        if e.sensor == "bed" and e.value == 0.0:
            t = local(e.ts, zone)
            if 4 <= t.hour < 12:
                woke[t.date()] = t.hour + t.minute / 60 + t.second / 3600
    return woke


def night_toilet_visits(events: Sequence[SensorEvent], zone: ZoneInfo) -> dict[date, int]:
    """Per night: trips to the bathroom between midnight and getting up (10 min apart)."""
    woke = wake_times(events, zone)
    visits: dict[date, int] = {}
    last: float | None = None
    for e in events:
        if e.sensor != "bathroom-pir":
            continue
        t = local(e.ts, zone)
        hour = t.hour + t.minute / 60 + t.second / 3600
        # A minute's grace: getting up for the day starts with the bathroom too.
        if hour < woke.get(t.date(), 5.0) - 1 / 60:
            if last is None or e.ts - last > 600:
                visits[t.date()] = visits.get(t.date(), 0) + 1
            last = e.ts
    return visits


def outings(events: Sequence[SensorEvent]) -> list[tuple[float, float]]:
    """(left, came back): a front-door opening with no movement inside until the next one."""
    found: list[tuple[float, float]] = []
    opened: float | None = None
    moved_since = True
    for e in events:
        if e.sensor == FRONT_DOOR and e.value == 1.0:
            if opened is not None and not moved_since and e.ts - opened > 600:
                found.append((opened, e.ts))
            opened, moved_since = e.ts, False
        elif e.kind == "motion" and opened is not None and e.ts - opened > 60:
            moved_since = True
    return found

"""Sensors that have stopped reporting: a technical alert before a silence is misread.

Room temperature sensors report on their own every few minutes, so one silent
for hours has dropped off the network or run flat. Motion, door, bed and
chair sensors report only when the resident uses them, so one is called
silent only if it reported on nearly every day so far, and has been quiet
for a day and a half and for two and a half times its longest gap lately,
while the resident was moving about at home in other rooms. A motion sensor
sees the resident whenever they are in its room, so it is timed in their
movements elsewhere rather than in hours: silent once they have moved about
elsewhere two and a half times as often as the most it has gone without
seeing them lately (nights and outings add nothing), which finds a dead
hall or kitchen sensor within hours instead of a day and a half. Its own
state (:class:`Sensors`) and checkpoint section, ``sensors``; pure functions
over it, called by :class:`HomeWatch`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from server.domain.alerts import AlertKind
from server.domain.findings import Cleared, Condition, Finding

__all__ = [
    "ABSENCE",
    "Sensors",
    "check_sensors",
    "close_sensor_day",
    "resident_back",
    "sensor_reported",
]

# No activity at all for this long: the resident was away (or the home empty).
ABSENCE = timedelta(hours=12)

_ENVIRONMENT_SILENCE = timedelta(hours=3)
# ...and one used by the resident: silent for this long, and this many times its longest gap.
_ACTIVITY_SILENCE = timedelta(hours=36)
# Under the shorter of the two, no sensor is silent: most sensors, most hours.
_SHORTEST_SILENCE_S = min(_ENVIRONMENT_SILENCE, _ACTIVITY_SILENCE).total_seconds()
_ENVIRONMENT_SILENCE_S = _ENVIRONMENT_SILENCE.total_seconds()
_ACTIVITY_SILENCE_S = _ACTIVITY_SILENCE.total_seconds()
_GAP_TIMES = 2.5
_GAP_FORGETTING = 0.995
# Movements elsewhere since the sensor was last heard: the resident was home and about.
_ACTIVITY_ELSEWHERE = 150
# ...or, sooner, a motion sensor: this many times the most movements elsewhere it has gone
# without seeing them lately (forgotten by this much a day), and at least the floor. 2.5, not
# 2: on seed 4242, 2 found 3 more dropouts of 80 for one more false alert, and 1.5 raised
# seven times the false alerts.
_SPAN_TIMES = 2.5
_SPAN_FORGETTING = 0.97
_ELSEWHERE_FLOOR = 100
# Share of days (exponentially weighted) the sensor reported on, before it is watched.
_DAILY = 0.9


@dataclass(slots=True)
class Sensors:
    """Per sensor: when it last reported (epoch s), the home's movements then, its longest
    gap and span lately, the share of days it reports on; which report on their own, which
    are silent; and the home's movements so far (what spans are counted in)."""

    seen: dict[str, float] = field(default_factory=dict)
    mark: dict[str, int] = field(default_factory=dict)
    gap: dict[str, float] = field(default_factory=dict)
    missed: dict[str, int] = field(default_factory=dict)
    days: dict[str, float] = field(default_factory=dict)
    # The most movements elsewhere between two of the sensor's reports lately.
    span: dict[str, float] = field(default_factory=dict)
    environment: dict[str, bool] = field(default_factory=dict)
    silent: list[str] = field(default_factory=list)
    movements: int = 0

    def section(self) -> dict[str, Any]:
        """The checkpoint section (the names are those of the first checkpoints)."""
        return {
            "sensor_seen": self.seen,
            "sensor_mark": self.mark,
            "sensor_gap": self.gap,
            "sensor_missed": self.missed,
            "sensor_days": self.days,
            "sensor_span": self.span,
            "environment_sensors": self.environment,
            "silent_sensors": self.silent,
            "activity_total": self.movements,
        }

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> Sensors:
        """A state from :meth:`section`; ``sensor_span`` came later and may be missing."""
        return cls(
            seen=section["sensor_seen"],
            mark=section["sensor_mark"],
            gap=section["sensor_gap"],
            missed=section["sensor_missed"],
            days=section["sensor_days"],
            span=section.get("sensor_span", {}),
            environment=section["environment_sensors"],
            silent=section["silent_sensors"],
            movements=section["activity_total"],
        )


def sensor_reported(
    hub: str, sensors: Sensors, sensor: str, ts: datetime, *, environment: bool, motion: bool
) -> Finding | None:
    """Any reading at all from ``sensor``: it is alive."""
    at = ts.timestamp()
    last = sensors.seen.get(sensor)
    if last is not None:
        if at <= last:
            return None
        # The longest quiet spell lately, slowly forgotten.
        longest = sensors.gap.get(sensor, 0.0) * _GAP_FORGETTING
        sensors.gap[sensor] = max(longest, at - last)
        if motion and sensor not in sensors.silent:
            # Not a silence already called: that must not teach it that silences are usual.
            span = float(sensors.movements - sensors.mark.get(sensor, sensors.movements))
            if span > sensors.span.get(sensor, 0.0):
                sensors.span[sensor] = span
    sensors.seen[sensor] = at
    sensors.mark[sensor] = sensors.movements
    if environment:
        sensors.environment[sensor] = True
    if sensor not in sensors.silent:
        return None
    sensors.silent.remove(sensor)
    if sensors.silent:
        return None
    return Cleared(
        hub=hub,
        kind=AlertKind.SENSOR_SILENT,
        event_at=ts,
        reason=f"{sensor} is reporting again.",
    )


def resident_back(sensors: Sensors, ts: datetime) -> None:
    """Activity after a long absence: sensors the resident uses are timed from now."""
    at = ts.timestamp()
    for sensor in sensors.seen:
        if not sensors.environment.get(sensor):
            sensors.seen[sensor] = max(sensors.seen[sensor], at)
            sensors.mark[sensor] = sensors.movements


def close_sensor_day(sensors: Sensors, midnight: datetime) -> None:
    """A day is over: which sensors reported on it (from ``midnight`` on)."""
    start = midnight.timestamp()
    for sensor, seen in sensors.seen.items():
        if seen < start:
            # Counted when it reports again: a silence in progress must not talk
            # itself into being usual.
            sensors.missed[sensor] = sensors.missed.get(sensor, 0) + 1
            continue
        share = sensors.days.get(sensor, 0.5) * 0.9 ** sensors.missed.pop(sensor, 0)
        sensors.days[sensor] = 0.9 * share + 0.1
    for sensor, span in sensors.span.items():
        sensors.span[sensor] = span * _SPAN_FORGETTING


def _unseen(sensors: Sensors, sensor: str) -> bool:
    """A motion sensor that has not seen the resident in far more movements elsewhere than usual.

    Counted in movements, not hours, so nights and outings add nothing. Only a motion
    sensor sees the resident whenever they are in its room: a kettle or a bed pad can go
    unused for a day of moving about, so they have no span.
    """
    span = sensors.span.get(sensor)
    elsewhere = sensors.movements - sensors.mark.get(sensor, 0)
    return span is not None and elsewhere >= max(_ELSEWHERE_FLOOR, _SPAN_TIMES * span)


def check_sensors(hub: str, sensors: Sensors, watermark: datetime) -> list[Finding]:
    """Sensors silent far longer than they usually are, while the hub itself reports."""
    now = watermark.timestamp()
    newly = []
    for sensor, seen in sensors.seen.items():
        quiet = now - seen
        if quiet <= _SHORTEST_SILENCE_S or sensor in sensors.silent:
            continue
        if sensors.environment.get(sensor):
            silent = quiet > _ENVIRONMENT_SILENCE_S
        else:
            elsewhere = sensors.movements - sensors.mark.get(sensor, 0)
            silent = sensors.days.get(sensor, 0.0) >= _DAILY and (
                _unseen(sensors, sensor)
                or (
                    quiet > _ACTIVITY_SILENCE_S
                    and quiet > _GAP_TIMES * sensors.gap.get(sensor, 0)
                    and elsewhere >= _ACTIVITY_ELSEWHERE
                )
            )
        if silent:
            newly.append(sensor)
    if not newly:
        return []
    first = not sensors.silent
    sensors.silent.extend(newly)
    if not first:
        return []
    sensor = newly[0]
    since = datetime.fromtimestamp(sensors.seen[sensor], watermark.tzinfo)
    hours = (now - sensors.seen[sensor]) / 3600
    if sensors.environment.get(sensor):
        usual = "it reports every few minutes on its own"
    elif _unseen(sensors, sensor):
        usual = (
            f"they have moved about {sensors.movements - sensors.mark.get(sensor, 0)} "
            f"times in other rooms since, and it usually sees them within "
            f"{sensors.span[sensor]:.0f}"
        )
    else:
        usual = "it reports nearly every day, and they have been moving about in other rooms"
    return [
        Condition(
            hub=hub,
            kind=AlertKind.SENSOR_SILENT,
            event_at=watermark,
            reason=(
                f"{', '.join(newly)} {'has' if len(newly) == 1 else 'have'} not reported for "
                f"{hours:.0f} h (since {since:%a %H:%M}); {usual}. Check its battery and that it "
                "is in place: until then what it watches goes unseen."
            ),
            details={"sensors": list(newly)},
        )
    ]

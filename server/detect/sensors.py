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
hall or kitchen sensor within hours instead of a day and a half. Pure
functions over a home's :class:`HomeState`, called by :class:`HomeWatch`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from server.detect.home_state import HomeState
from server.domain.alerts import AlertKind
from server.domain.findings import Cleared, Condition, Finding

__all__ = ["ABSENCE", "check_sensors", "close_sensor_day", "resident_back", "sensor_reported"]

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


def sensor_reported(
    hub: str, home: HomeState, sensor: str, ts: datetime, *, environment: bool, motion: bool
) -> Finding | None:
    """Any reading at all from ``sensor``: it is alive."""
    at = ts.timestamp()
    last = home.sensor_seen.get(sensor)
    if last is not None:
        if at <= last:
            return None
        # The longest quiet spell lately, slowly forgotten.
        longest = home.sensor_gap.get(sensor, 0.0) * _GAP_FORGETTING
        home.sensor_gap[sensor] = max(longest, at - last)
        if motion and sensor not in home.silent_sensors:
            # Not a silence already called: that must not teach it that silences are usual.
            span = float(home.activity_total - home.sensor_mark.get(sensor, home.activity_total))
            if span > home.sensor_span.get(sensor, 0.0):
                home.sensor_span[sensor] = span
    home.sensor_seen[sensor] = at
    home.sensor_mark[sensor] = home.activity_total
    if environment:
        home.environment_sensors[sensor] = True
    if sensor not in home.silent_sensors:
        return None
    home.silent_sensors.remove(sensor)
    if home.silent_sensors:
        return None
    return Cleared(
        hub=hub,
        kind=AlertKind.SENSOR_SILENT,
        event_at=ts,
        reason=f"{sensor} is reporting again.",
    )


def resident_back(home: HomeState, ts: datetime) -> None:
    """Activity after a long absence: sensors the resident uses are timed from now."""
    at = ts.timestamp()
    for sensor in home.sensor_seen:
        if not home.environment_sensors.get(sensor):
            home.sensor_seen[sensor] = max(home.sensor_seen[sensor], at)
            home.sensor_mark[sensor] = home.activity_total


def close_sensor_day(home: HomeState, midnight: datetime) -> None:
    """A day is over: which sensors reported on it (from ``midnight`` on)."""
    start = midnight.timestamp()
    for sensor, seen in home.sensor_seen.items():
        if seen < start:
            # Counted when it reports again: a silence in progress must not talk
            # itself into being usual.
            home.sensor_missed[sensor] = home.sensor_missed.get(sensor, 0) + 1
            continue
        share = home.sensor_days.get(sensor, 0.5) * 0.9 ** home.sensor_missed.pop(sensor, 0)
        home.sensor_days[sensor] = 0.9 * share + 0.1
    for sensor, span in home.sensor_span.items():
        home.sensor_span[sensor] = span * _SPAN_FORGETTING


def _unseen(home: HomeState, sensor: str) -> bool:
    """A motion sensor that has not seen the resident in far more movements elsewhere than usual.

    Counted in movements, not hours, so nights and outings add nothing. Only a motion
    sensor sees the resident whenever they are in its room: a kettle or a bed pad can go
    unused for a day of moving about, so they have no span.
    """
    span = home.sensor_span.get(sensor)
    elsewhere = home.activity_total - home.sensor_mark.get(sensor, 0)
    return span is not None and elsewhere >= max(_ELSEWHERE_FLOOR, _SPAN_TIMES * span)


def check_sensors(hub: str, home: HomeState, watermark: datetime) -> list[Finding]:
    """Sensors silent far longer than they usually are, while the hub itself reports."""
    now = watermark.timestamp()
    newly = []
    for sensor, seen in home.sensor_seen.items():
        quiet = now - seen
        if quiet <= _SHORTEST_SILENCE_S or sensor in home.silent_sensors:
            continue
        if home.environment_sensors.get(sensor):
            silent = quiet > _ENVIRONMENT_SILENCE_S
        else:
            elsewhere = home.activity_total - home.sensor_mark.get(sensor, 0)
            silent = home.sensor_days.get(sensor, 0.0) >= _DAILY and (
                _unseen(home, sensor)
                or (
                    quiet > _ACTIVITY_SILENCE_S
                    and quiet > _GAP_TIMES * home.sensor_gap.get(sensor, 0)
                    and elsewhere >= _ACTIVITY_ELSEWHERE
                )
            )
        if silent:
            newly.append(sensor)
    if not newly:
        return []
    first = not home.silent_sensors
    home.silent_sensors.extend(newly)
    if not first:
        return []
    sensor = newly[0]
    since = datetime.fromtimestamp(home.sensor_seen[sensor], watermark.tzinfo)
    hours = (now - home.sensor_seen[sensor]) / 3600
    if home.environment_sensors.get(sensor):
        usual = "it reports every few minutes on its own"
    elif _unseen(home, sensor):
        usual = (
            f"they have moved about {home.activity_total - home.sensor_mark.get(sensor, 0)} "
            f"times in other rooms since, and it usually sees them within "
            f"{home.sensor_span[sensor]:.0f}"
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

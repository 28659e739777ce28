"""carewatch's detectors, pure: readings and watermarks in, findings out, time injected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from edge.protocol import Reading, ReadingKind, SensorHealth
from server.alerts.model import AlertKind, Severity
from server.detect.conditions import Cleared, Condition, Finding
from server.detect.watch import HomeWatch

ZONE = ZoneInfo("Europe/London")
HUB = "hub-1"
# A winter Monday: local time is UTC.
DAY0 = datetime(2026, 11, 2, tzinfo=UTC)


def _motion(room: str, ts: datetime) -> Reading:
    return Reading(f"{room}-pir", ReadingKind.MOTION, ts, 1.0)


def _watch() -> HomeWatch:
    watch = HomeWatch()
    watch.set_timezone(HUB, ZONE)
    return watch


def _conditions(findings: list[Finding]) -> list[Condition]:
    return [f for f in findings if isinstance(f, Condition)]


def _live_day(watch: HomeWatch, day: datetime, *, wake_h: float = 7.0, every: int = 4) -> None:
    """An ordinary day: up at ``wake_h``, moving about every ``every`` minutes until 22:00, in bed after."""
    watch.observe(HUB, Reading("bed", ReadingKind.BED, day + timedelta(hours=wake_h), 0.0))
    t = day + timedelta(hours=wake_h, minutes=1)
    while t < day + timedelta(hours=22):
        room = "kitchen" if t.hour in (8, 12, 18) else "lounge"
        watch.observe(HUB, _motion(room, t))
        watch.advance(HUB, t)
        t += timedelta(minutes=every)
    watch.observe(HUB, Reading("bed", ReadingKind.BED, day + timedelta(hours=22, minutes=5), 1.0))
    watch.advance(HUB, day + timedelta(hours=23, minutes=59))


def test_a_silence_is_judged_against_the_residents_own_gaps() -> None:
    learned, new = _watch(), _watch()
    for d in range(20):
        _live_day(learned, DAY0 + timedelta(days=d))
    fall = DAY0 + timedelta(days=20, hours=15)
    for watch in (learned, new):
        watch.observe(HUB, Reading("bed", ReadingKind.BED, fall - timedelta(hours=8), 0.0))
        watch.observe(HUB, _motion("hall", fall))
    raised_after = {}
    for name, watch in (("learned", learned), ("new", new)):
        t = fall
        while t < fall + timedelta(hours=3):
            t += timedelta(minutes=1)
            found = _conditions(watch.advance(HUB, t))
            if found:
                raised_after[name] = t - fall
                (alert,) = found
                assert alert.kind is AlertKind.NO_MOVEMENT
                assert alert.severity is Severity.URGENT
                assert "since 15:00 (hall, up and about)" in alert.reason
                assert "of their gaps are under" in alert.reason
                break
    # Someone who moves every 4 minutes is missed within the floor (20 min);
    # a newcomer gets the population's allowance, which is longer.
    assert raised_after["learned"] <= timedelta(minutes=21)
    assert raised_after["new"] > timedelta(minutes=45)


def test_out_of_the_front_door_is_out_not_fallen_but_at_night_it_is_urgent() -> None:
    watch = _watch()
    day = DAY0 + timedelta(hours=14)
    watch.observe(HUB, _motion("hall", day))
    watch.observe(HUB, Reading("front-door", ReadingKind.CONTACT, day + timedelta(seconds=10), 1.0))
    watch.observe(HUB, Reading("front-door", ReadingKind.CONTACT, day + timedelta(seconds=20), 0.0))
    assert _conditions(watch.advance(HUB, day + timedelta(hours=5))) == []

    night = DAY0 + timedelta(days=1, hours=2, minutes=30)
    watch.observe(HUB, _motion("hall", night))
    watch.observe(
        HUB, Reading("front-door", ReadingKind.CONTACT, night + timedelta(seconds=10), 1.0)
    )
    assert _conditions(watch.advance(HUB, night + timedelta(minutes=5))) == []
    (alert,) = _conditions(watch.advance(HUB, night + timedelta(minutes=11)))
    assert alert.kind is AlertKind.DOOR_AT_NIGHT
    assert "front door was used at 02:30" in alert.reason
    back = watch.observe(HUB, _motion("hall", night + timedelta(minutes=40)))
    assert [type(f) for f in back] == [Cleared]


def test_a_hub_outage_is_never_a_silence_and_late_readings_are_folded_in() -> None:
    watch = _watch()
    t = DAY0 + timedelta(hours=10)
    watch.observe(HUB, _motion("kitchen", t))
    # The broadband goes: no watermark moves, so nothing is judged however long.
    assert _conditions(watch.advance(HUB, t + timedelta(minutes=5))) == []
    # Back four hours later with the buffered readings, oldest first, then the watermark.
    for minutes in range(10, 240, 10):
        assert watch.observe(HUB, _motion("lounge", t + timedelta(minutes=minutes))) == []
    assert _conditions(watch.advance(HUB, t + timedelta(hours=4))) == []
    # A reading older than what is known changes nothing.
    assert watch.observe(HUB, _motion("bathroom", t + timedelta(minutes=1))) == []


def test_not_up_by_their_own_usual_time_and_stirring_in_bed_does_not_end_it() -> None:
    watch = _watch()
    for d in range(14):
        watch.observe(HUB, Reading("bed", ReadingKind.BED, DAY0 + timedelta(days=d, hours=-2), 1.0))
        _live_day(watch, DAY0 + timedelta(days=d), wake_h=7.0 + (d % 3) / 6)
    day = DAY0 + timedelta(days=14)
    found: list[Condition] = []
    t = day + timedelta(hours=5)
    while not found and t < day + timedelta(hours=12):
        t += timedelta(minutes=1)
        if t.minute == 30:
            watch.observe(HUB, _motion("bedroom", t))  # turning over
        found = _conditions(watch.advance(HUB, t))
    (alert,) = found
    assert alert.kind is AlertKind.NOT_UP
    # Usually up between 07:00 and 07:20: an hour's margin.
    assert day + timedelta(hours=8) <= t <= day + timedelta(hours=8, minutes=30)
    assert "usually up by 07:10" in alert.reason
    assert watch.observe(HUB, _motion("bedroom", t + timedelta(minutes=5))) == []
    cleared = watch.observe(HUB, Reading("bed", ReadingKind.BED, t + timedelta(minutes=20), 0.0))
    assert [(type(f), f.kind) for f in cleared] == [(Cleared, AlertKind.NOT_UP)]


def test_a_cold_living_room_for_two_hours_is_an_advisory() -> None:
    watch = _watch()
    t = DAY0 + timedelta(hours=9)

    def temp(sensor: str, value: float, at: datetime) -> list[Finding]:
        return watch.observe(HUB, Reading(sensor, ReadingKind.TEMPERATURE, at, value))

    assert temp("bedroom-temp", 15.0, t) == []  # bedrooms may be cool
    assert temp("lounge-temp", 17.4, t) == []
    assert temp("lounge-temp", 17.0, t + timedelta(hours=1)) == []
    (alert,) = _conditions(temp("lounge-temp", 16.8, t + timedelta(hours=2)))
    assert alert.kind is AlertKind.COLD_HOME
    assert alert.severity is Severity.ADVISORY
    assert "below 18 °C since 09:00 (16.8 °C now)" in alert.reason
    assert [type(f) for f in temp("lounge-temp", 18.6, t + timedelta(hours=4))] == [Cleared]


def test_more_night_toilet_visits_over_nights_is_a_possible_infection() -> None:
    watch = _watch()
    raised: list[Condition] = []
    for night in range(24):
        day = DAY0 + timedelta(days=night)
        visits = 1 if night < 20 else 5
        for v in range(visits):
            watch.observe(HUB, _motion("bathroom", day + timedelta(hours=1 + v, minutes=night % 7)))
        watch.observe(HUB, _motion("kitchen", day + timedelta(hours=7, minutes=30)))
        raised += _conditions(watch.advance(HUB, day + timedelta(hours=7, minutes=31)))
    (alert,) = raised
    assert alert.kind is AlertKind.NIGHT_TOILET_VISITS
    assert alert.severity is Severity.ADVISORY
    assert alert.reason.startswith(
        "Night toilet visits 1, 5, 5 in the last 3 nights; usually 1 to 1"
    )
    assert "possible infection" in alert.reason


def test_a_low_battery_is_reported_once_to_the_installer() -> None:
    watch = _watch()
    low = [SensorHealth("kitchen-pir", "motion", "kitchen", battery=8.0, link=120.0)]
    (alert,) = _conditions(watch.health(HUB, low, DAY0))
    assert alert.kind is AlertKind.BATTERY_LOW
    assert alert.severity is Severity.TECHNICAL
    assert "kitchen-pir is at 8 %" in alert.reason
    assert watch.health(HUB, low, DAY0 + timedelta(hours=1)) == []

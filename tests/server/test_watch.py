"""carewatch's detectors, pure: readings and watermarks in, findings out, time injected."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from edge.protocol import Reading, ReadingKind, SensorHealth
from server.detect.home_state import CheckpointError, HomeState
from server.detect.watch import HomeWatch
from server.domain.alerts import KINDS, AlertKind, Outcome, Severity
from server.domain.findings import Cleared, Condition, Finding

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


def _live_day(
    watch: HomeWatch,
    day: datetime,
    *,
    wake_h: float = 7.0,
    every: int = 4,
    kitchen_hours: tuple[int, ...] = (8, 12, 18),
    bed_pad: bool = True,
) -> list[Finding]:
    """An ordinary day: up at ``wake_h``, moving about every ``every`` minutes until 22:00, in bed after."""
    found: list[Finding] = []
    if bed_pad:
        found += watch.observe(
            HUB, Reading("bed", ReadingKind.BED, day + timedelta(hours=wake_h), 0.0)
        )
    t = day + timedelta(hours=wake_h, minutes=1)
    while t < day + timedelta(hours=22):
        room = "kitchen" if t.hour in kitchen_hours else "lounge"
        found += watch.observe(HUB, _motion(room, t))
        found += watch.advance(HUB, t)
        t += timedelta(minutes=every)
    if bed_pad:
        found += watch.observe(
            HUB, Reading("bed", ReadingKind.BED, day + timedelta(hours=22, minutes=5), 1.0)
        )
    found += watch.advance(HUB, day + timedelta(hours=23, minutes=59))
    return found


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
                if name == "learned":
                    assert "their longest silence here is usually" in alert.reason
                else:
                    assert "no history of silences here" in alert.reason
                break
    # Someone whose longest silence in the afternoon is 4 minutes every day is missed
    # within half an hour; a newcomer gets the population's allowance, which is longer.
    assert raised_after["learned"] <= timedelta(minutes=30)
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
    # A pad released is not getting up (pads pulse); seen outside the bedroom is.
    assert watch.observe(HUB, Reading("bed", ReadingKind.BED, t + timedelta(minutes=20), 0.0)) == []
    cleared = watch.observe(HUB, _motion("hall", t + timedelta(minutes=21)))
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


def test_after_a_false_alarm_the_same_rise_in_night_toilet_visits_takes_longer_to_raise() -> None:
    """After a "false alarm", the same rise in night toilet visits takes longer to raise."""

    def nights(watch: HomeWatch, first: int, count: int, visits: int) -> list[Condition]:
        raised: list[Condition] = []
        for night in range(first, first + count):
            day = DAY0 + timedelta(days=night)
            for v in range(visits):
                at = day + timedelta(hours=1 + v, minutes=night % 7)
                watch.observe(HUB, _motion("bathroom", at))
            watch.observe(HUB, _motion("kitchen", day + timedelta(hours=7, minutes=30)))
            raised += _conditions(watch.advance(HUB, day + timedelta(hours=7, minutes=31)))
        return raised

    def raised_on(told_false: bool) -> tuple[int, Condition]:
        watch = _watch()
        assert nights(watch, 0, 20, visits=1) == []
        if told_false:  # an earlier night-toilet advisory was closed as a false alarm
            assert watch.feedback(
                HUB,
                AlertKind.NIGHT_TOILET_VISITS,
                Outcome.FALSE_ALARM,
                details={"recent": [1, 3, 3]},
                resolved_at=DAY0 + timedelta(days=19, hours=10),
            )
        for night in range(20, 40):
            raised = nights(watch, night, 1, visits=3)
            if raised:
                return night, raised[0]
        raise AssertionError("never raised")

    usual_night, usual = raised_on(told_false=False)
    later_night, later = raised_on(told_false=True)
    assert later_night > usual_night
    assert "after earlier false alarms" not in usual.reason
    assert "Raised less eagerly (1.2 times as far past usual) after earlier false alarms." in (
        later.reason
    )


@pytest.mark.parametrize(
    "kind",
    [
        AlertKind.NIGHT_TOILET_VISITS,
        AlertKind.MISSED_MEAL,
        AlertKind.ACTIVITY_DECLINE,
        AlertKind.ROUTINE_CHANGE,
    ],
)
def test_each_advisory_closed_as_a_false_alarm_is_raised_less_eagerly_up_to_a_cap(
    kind: AlertKind,
) -> None:
    watch = _watch()
    _live_day(watch, DAY0)
    for n in range(5):
        assert watch.feedback(
            HUB,
            kind,
            Outcome.FALSE_ALARM,
            details={},
            resolved_at=DAY0 + timedelta(days=1, hours=n),
        )
    state = HomeState.from_bytes(watch.take_checkpoints()[HUB])
    assert state.advisory_slack == {kind.value: 2.0}  # 1.25 ** 5 is past the cap


def test_a_low_battery_is_reported_once_to_the_installer() -> None:
    watch = _watch()
    low = [SensorHealth("kitchen-pir", "motion", "kitchen", battery=8.0, link=120.0)]
    found = _conditions(watch.health(HUB, low, DAY0))
    (alert,) = [c for c in found if c.kind is not AlertKind.SENSOR_COVERAGE]
    assert alert.kind is AlertKind.BATTERY_LOW
    assert alert.severity is Severity.TECHNICAL
    assert "kitchen-pir is at 8 %" in alert.reason
    assert watch.health(HUB, low, DAY0 + timedelta(hours=1)) == []


def _first_alarm_after(watch: HomeWatch, last: datetime, hours: float = 4) -> Condition | None:
    t = last
    while t < last + timedelta(hours=hours):
        t += timedelta(minutes=1)
        found = _conditions(watch.advance(HUB, t))
        if found:
            return found[0]
    return None


def test_a_restart_from_a_checkpoint_keeps_the_baseline_and_does_not_raise_again() -> None:
    watch = _watch()
    for d in range(20):
        _live_day(watch, DAY0 + timedelta(days=d))
    fall = DAY0 + timedelta(days=20, hours=15)
    watch.observe(HUB, Reading("bed", ReadingKind.BED, fall - timedelta(hours=8), 0.0))
    watch.observe(HUB, _motion("hall", fall))
    raised = _first_alarm_after(watch, fall)
    assert raised is not None
    assert raised.kind is AlertKind.NO_MOVEMENT

    checkpoints = watch.take_checkpoints()
    assert set(checkpoints) == {HUB}
    assert len(checkpoints[HUB]) < 64 * 1024
    assert watch.take_checkpoints() == {}, "nothing changed since"

    restarted = _watch()
    restarted.restore(HUB, checkpoints[HUB])
    assert _first_alarm_after(restarted, fall + timedelta(hours=2)) is None, "raised again"
    assert restarted.observe(HUB, _motion("lounge", fall + timedelta(hours=6))) == []
    cleared = restarted.observe(HUB, _motion("kitchen", fall + timedelta(hours=6, minutes=1)))
    assert [type(f) for f in cleared] == [Cleared]
    # The learned baseline came back too: the next fall is caught as soon as before.
    watch.observe(HUB, _motion("lounge", fall + timedelta(hours=6)))
    for w in (watch, restarted):
        w.observe(HUB, _motion("kitchen", fall + timedelta(hours=6, minutes=1)))
    again = fall + timedelta(hours=6, minutes=1)
    before, after = _first_alarm_after(watch, again), _first_alarm_after(restarted, again)
    assert before is not None
    assert after is not None
    assert before.event_at == after.event_at


def test_an_unreadable_checkpoint_is_refused_with_a_reason() -> None:
    watch = _watch()
    with pytest.raises(CheckpointError, match="not a home checkpoint"):
        watch.restore(HUB, b"junkjunkjunk")
    good = _watch()
    _live_day(good, DAY0)
    data = good.take_checkpoints()[HUB]
    with pytest.raises(CheckpointError, match="unreadable"):
        watch.restore(HUB, data[:-10])


def test_false_alarms_make_that_silence_wait_longer_and_count_once() -> None:
    watch = _watch()
    for d in range(20):
        _live_day(watch, DAY0 + timedelta(days=d))
    start = DAY0 + timedelta(days=20, hours=15)
    watch.observe(HUB, Reading("bed", ReadingKind.BED, start - timedelta(hours=8), 0.0))
    watch.observe(HUB, _motion("lounge", start))
    first = _first_alarm_after(watch, start)
    assert first is not None
    resolved = start + timedelta(hours=1)
    for _ in range(2):  # the same resolution delivered twice counts once
        watch.feedback(
            HUB,
            AlertKind.NO_MOVEMENT,
            Outcome.FALSE_ALARM,
            details=first.details,
            resolved_at=resolved,
        )
    # Back: seen by two sensors (a lone blip would not end the first alert).
    back = start + timedelta(hours=2)
    watch.observe(HUB, _motion("kitchen", back - timedelta(minutes=1)))
    watch.observe(HUB, _motion("lounge", back))
    second = _first_alarm_after(watch, back)
    assert second is not None
    waited = second.event_at - back
    assert waited == pytest.approx((first.event_at - start) * 1.25, abs=timedelta(minutes=1))
    assert "after earlier false alarms" in second.reason
    # A real emergency resolution lengthens nothing (and there is no ended silence to unlearn).
    assert not watch.feedback(
        HUB,
        AlertKind.NO_MOVEMENT,
        Outcome.EMERGENCY_SERVICES,
        details=second.details,
        resolved_at=resolved + timedelta(hours=3),
    )


def test_away_pauses_silences_but_they_are_judged_again_when_back() -> None:
    watch = _watch()
    _live_day(watch, DAY0)
    left = DAY0 + timedelta(days=1, hours=9)
    watch.observe(HUB, _motion("hall", left))
    watch.set_away(HUB, left + timedelta(days=2))
    assert _first_alarm_after(watch, left, hours=24) is None
    back = left + timedelta(days=2, hours=1)
    watch.observe(HUB, _motion("hall", back))
    assert _first_alarm_after(watch, back) is not None


def test_a_missed_lunch_at_home_is_an_advisory_but_lunch_out_is_not() -> None:
    watch = _watch()
    for d in range(10):
        assert _conditions(_live_day(watch, DAY0 + timedelta(days=d))) == []
    # Day 10: in the lounge all through lunchtime.
    found = _conditions(_live_day(watch, DAY0 + timedelta(days=10), kitchen_hours=(8, 18)))
    assert [(c.kind, c.severity) for c in found] == [(AlertKind.MISSED_MEAL, Severity.ADVISORY)]
    assert found[0].details["meal"] == "lunch"
    assert "usually start lunch around 12:0" in found[0].reason
    # Day 11: neither lunch nor dinner.
    missed = _conditions(_live_day(watch, DAY0 + timedelta(days=11), kitchen_hours=(8,)))
    assert [c.details["meal"] for c in missed] == ["lunch", "dinner"]
    # Day 12: out of the front door late morning (lunch out, perhaps); dinner at home.
    day = DAY0 + timedelta(days=12)
    door = Reading("front-door", ReadingKind.CONTACT, day + timedelta(hours=11, minutes=30), 1.0)
    watch.observe(HUB, door)
    assert _conditions(_live_day(watch, day, kitchen_hours=(8, 18))) == []


def test_moving_about_less_day_after_day_is_a_decline_but_one_quiet_day_is_not() -> None:
    watch = _watch()
    for d in range(20):
        found = _live_day(watch, DAY0 + timedelta(days=d), every=4 + d % 2)
        assert _conditions(found) == []
    # One quiet day (a cold), then back to normal: nothing.
    quiet = _live_day(watch, DAY0 + timedelta(days=20), every=9)
    quiet += _live_day(watch, DAY0 + timedelta(days=21), every=4)
    assert _conditions(quiet) == []
    # Then slowly less and less.
    declined_on = None
    for d in range(22, 52):
        every = 4 + (d - 22) // 3
        raised = _conditions(_live_day(watch, DAY0 + timedelta(days=d), every=every))
        if raised:
            assert [c.kind for c in raised] == [AlertKind.ACTIVITY_DECLINE]
            assert "Moving about less" in raised[0].reason
            declined_on = d
            break
    assert declined_on is not None, "the decline was never flagged"
    assert declined_on < 40


def test_a_room_thermometer_silent_for_hours_is_reported_and_cleared() -> None:
    watch = _watch()
    t = DAY0 + timedelta(hours=8)
    for _ in range(30):
        watch.observe(HUB, Reading("lounge-temp", ReadingKind.TEMPERATURE, t, 20.5))
        watch.observe(HUB, _motion("lounge", t))
        watch.advance(HUB, t)
        t += timedelta(minutes=10)
    raised: list[Condition] = []
    while t < DAY0 + timedelta(hours=18):
        watch.observe(HUB, _motion("lounge", t))  # the resident about; the sensor quiet
        raised += [c for c in _conditions(watch.advance(HUB, t)) if c.kind.value == "sensor_silent"]
        t += timedelta(minutes=10)
    assert len(raised) == 1
    assert raised[0].severity is Severity.TECHNICAL
    assert re.search(r"lounge-temp has not reported for [34] h", raised[0].reason)
    back = watch.observe(HUB, Reading("lounge-temp", ReadingKind.TEMPERATURE, t, 20.1))
    assert [(type(f), f.kind.value) for f in back] == [(Cleared, "sensor_silent")]


def test_a_bed_pad_silent_for_days_while_they_move_elsewhere_is_reported() -> None:
    watch = _watch()
    for d in range(20):
        _live_day(watch, DAY0 + timedelta(days=d))
    silent: list[Condition] = []
    for d in range(20, 23):
        found = _conditions(_live_day(watch, DAY0 + timedelta(days=d), bed_pad=False))
        silent += [c for c in found if c.kind.value == "sensor_silent"]
    assert [c.details["sensors"] for c in silent] == [["bed"]]
    assert "it reports nearly every day" in silent[0].reason
    # Not before a day and a half: a pad is only used at bedtime and getting up.
    assert silent[0].event_at > DAY0 + timedelta(days=19, hours=22 + 36)


def test_a_kitchen_sensor_that_stops_seeing_them_is_reported_within_a_day() -> None:
    watch = _watch()
    for d in range(20):
        _live_day(watch, DAY0 + timedelta(days=d))
    silent: list[Condition] = []
    for d in range(20, 23):
        found = _conditions(_live_day(watch, DAY0 + timedelta(days=d), kitchen_hours=()))
        silent += [c for c in found if c.kind.value == "sensor_silent"]
    assert [c.details["sensors"] for c in silent] == [["kitchen-pir"]]
    assert silent[0].event_at < DAY0 + timedelta(days=21)
    assert "in other rooms since, and it usually sees them within" in silent[0].reason


def test_back_from_a_week_away_the_sensors_are_not_called_silent() -> None:
    watch = _watch()
    for d in range(20):
        _live_day(watch, DAY0 + timedelta(days=d))
    back = DAY0 + timedelta(days=27, hours=14)
    found: list[Condition] = []
    t = back
    while t < back + timedelta(hours=8):  # home again, about as usual, not yet to bed
        room = "kitchen" if t.hour % 3 == 0 and t.minute < 10 else "lounge"
        found += _conditions(watch.observe(HUB, _motion(room, t)))
        found += _conditions(watch.advance(HUB, t))
        t += timedelta(minutes=2)
    assert [c for c in found if c.kind.value == "sensor_silent"] == []


def test_a_checkpoint_taken_but_not_saved_is_taken_again() -> None:
    # A stop cancels the keeper while it saves: what it took must go with the stop's own save.
    watch = _watch()
    watch.observe(HUB, _motion("hall", DAY0 + timedelta(hours=9)))
    taken = watch.take_checkpoints()
    assert set(taken) == {HUB}
    assert watch.take_checkpoints() == {}
    watch.not_saved(taken)
    assert set(watch.take_checkpoints()) == {HUB}


def test_what_a_false_alarm_teaches_is_read_from_the_table_of_kinds() -> None:
    """Each kind with a lesson in KINDS moves this home; one without is not learned from."""
    at, day = datetime(2026, 3, 2, 9, 0, tzinfo=UTC), timedelta(days=1)
    details = {"place_code": 0, "band": 2}
    for kind, words in KINDS.items():
        watch = _watch()
        changed = watch.feedback(HUB, kind, Outcome.FALSE_ALARM, details=details, resolved_at=at)
        assert changed is (words.false_alarm is not None), kind
    watch = _watch()
    watch.feedback(HUB, AlertKind.NOT_UP, Outcome.FALSE_ALARM, details={}, resolved_at=at)
    home = watch._homes[HUB]
    assert home.mornings.slack_min == 20.0
    watch.feedback(
        HUB, AlertKind.DOOR_AT_NIGHT, Outcome.FALSE_ALARM, details={}, resolved_at=at + day
    )
    assert home.door.slack == 1.5
    watch.feedback(
        HUB, AlertKind.MISSED_MEAL, Outcome.RESIDENT_AWAY, details={}, resolved_at=at + 2 * day
    )
    assert home.advisory_slack == {"missed_meal": 1.25}

"""The routine functions, pure: hand-built readings in, spans, day measures and verdicts out."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from edge.protocol import Reading, ReadingKind
from server.routine import (
    OUT,
    Activity,
    DayMeasures,
    Span,
    compare,
    daily_measures,
    rooms_in_order,
    timeline,
)

ZONE = ZoneInfo("Europe/London")
# A winter Monday: London is on UTC.
DAY = date(2026, 11, 23)
MIN = timedelta(minutes=1)


def _at(hour: int, minute: int = 0, *, day: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, second, tzinfo=UTC) + timedelta(days=day)


def _pir(room: str, ts: datetime) -> Activity:
    return Activity(f"{room}-pir", "motion", ts, 1.0)


def _door(ts: datetime, opened: bool) -> Activity:
    return Activity("front-door", "contact", ts, float(opened))


def _bed(ts: datetime, occupied: bool) -> Activity:
    return Activity("bed", "bed", ts, float(occupied))


def _kettle(ts: datetime, watts: float) -> Activity:
    return Activity("kettle", "power", ts, watts)


def _spans(spans: Sequence[Span]) -> list[tuple[str, str, str]]:
    return [(s.room, f"{s.start:%H:%M:%S}", f"{s.end:%H:%M:%S}") for s in spans]


# -- timeline ----------------------------------------------------------------------


def test_a_movement_puts_the_resident_in_the_room_until_another_room() -> None:
    readings = [
        _pir("kitchen", _at(8, 0)),
        _pir("kitchen", _at(8, 5)),
        _pir("lounge", _at(8, 10)),
        _pir("lounge", _at(8, 20)),
    ]
    spans = timeline(readings, start=_at(0), end=_at(12))
    assert _spans(spans) == [
        ("kitchen", "08:00:00", "08:10:00"),
        ("lounge", "08:10:00", "08:50:00"),  # 30 min after the last movement there
    ]


def test_a_long_silence_is_a_gap_not_presence() -> None:
    readings = [_pir("kitchen", _at(9, 0)), _pir("kitchen", _at(9, 29)), _pir("kitchen", _at(10))]
    spans = timeline(readings, start=_at(0), end=_at(12))
    assert _spans(spans) == [
        ("kitchen", "09:00:00", "09:59:00"),  # 31 min silence: cut at 30 min after 09:29
        ("kitchen", "10:00:00", "10:30:00"),
    ]


def test_in_bed_the_bedroom_span_lasts_until_the_bed_is_empty() -> None:
    readings = [
        _pir("bedroom", _at(22, 0, day=-1)),
        _bed(_at(22, 5, day=-1), True),
        # A toilet trip: the pad empties first.
        _bed(_at(2, 0), False),
        _pir("bathroom", _at(2, 1)),
        _pir("bedroom", _at(2, 6)),
        _bed(_at(2, 7), True),
        _bed(_at(7, 0), False),
        _pir("bathroom", _at(7, 2)),
    ]
    spans = timeline(readings, start=_at(22, day=-1), end=_at(12))
    assert _spans(spans) == [
        ("bedroom", "22:00:00", "02:01:00"),
        ("bathroom", "02:01:00", "02:06:00"),
        ("bedroom", "02:06:00", "07:02:00"),  # five silent hours in bed: no cut
        ("bathroom", "07:02:00", "07:32:00"),
    ]


def test_still_in_bed_runs_to_the_end_of_the_picture() -> None:
    readings = [_pir("bedroom", _at(22, 0, day=-1)), _bed(_at(22, 5, day=-1), True)]
    spans = timeline(readings, start=_at(0), end=_at(6))
    assert _spans(spans) == [("bedroom", "00:00:00", "06:00:00")]


def test_the_front_door_then_silence_is_out_until_movement_inside() -> None:
    readings = [
        _pir("hall", _at(10, 0)),
        _door(_at(10, 1), True),
        _door(_at(10, 1, second=10), False),
        _door(_at(11, 30), True),
        _door(_at(11, 30, second=8), False),
        _pir("hall", _at(11, 30, second=20)),
    ]
    spans = timeline(readings, start=_at(0), end=_at(12))
    assert _spans(spans) == [
        ("hall", "10:00:00", "10:01:00"),
        (OUT, "10:01:00", "11:30:20"),
        ("hall", "11:30:20", "12:00:00"),
    ]


def test_the_front_door_then_movement_within_10_min_is_not_out() -> None:
    readings = [
        _pir("hall", _at(10, 0)),
        _door(_at(10, 1), True),
        _door(_at(10, 3), False),  # a parcel at the door
        _pir("kitchen", _at(10, 12)),
    ]
    spans = timeline(readings, start=_at(0), end=_at(11))
    assert _spans(spans) == [("hall", "10:00:00", "10:12:00"), ("kitchen", "10:12:00", "10:42:00")]


def test_out_at_the_end_of_the_picture_and_not_while_in_bed() -> None:
    gone = [_pir("hall", _at(10, 0)), _door(_at(10, 1), True), _door(_at(10, 2), False)]
    assert _spans(timeline(gone, start=_at(0), end=_at(12)))[-1] == (OUT, "10:01:00", "12:00:00")
    # Just gone: not yet 10 min without movement, so not (yet) out.
    assert OUT not in rooms_in_order(timeline(gone, start=_at(0), end=_at(10, 8)))
    # The resident is in bed: the door is a carer or a visitor.
    in_bed = [_bed(_at(21, 0, day=-1), True), _door(_at(1), True), _door(_at(1, 1), False)]
    assert _spans(timeline(in_bed, start=_at(0), end=_at(6))) == [
        ("bedroom", "00:00:00", "06:00:00")
    ]


def test_spans_are_clipped_to_the_window() -> None:
    readings = [_pir("kitchen", _at(7, 50)), _pir("lounge", _at(8, 10)), _pir("lounge", _at(8, 40))]
    spans = timeline(readings, start=_at(8, 0), end=_at(9, 0))
    assert _spans(spans) == [
        ("kitchen", "08:00:00", "08:10:00"),
        ("lounge", "08:10:00", "09:00:00"),
    ]
    assert timeline(readings, start=_at(10), end=_at(11)) == []
    assert timeline([], start=_at(10), end=_at(11)) == []


def test_kitchen_appliances_repeats_and_other_kinds() -> None:
    readings = [
        _kettle(_at(8, 0), 2200.0),
        _kettle(_at(8, 3), 0.0),
        Activity("fridge-door", "contact", _at(8, 10), 1.0),
        Activity("fridge-door", "contact", _at(8, 11), 0.0),
        # The chair pad re-reporting "empty", a thermometer and a PIR's "clear": not movements.
        Activity("chair", "chair", _at(8, 20), 0.0),
        Activity("chair", "chair", _at(9, 20), 0.0),
        Activity("lounge-temp", "temperature", _at(9, 30), 19.5),
        Activity("lounge-pir", "motion", _at(9, 40), 0.0),
        Activity("tv", "power", _at(9, 50), 120.0),
    ]
    spans = timeline(readings, start=_at(0), end=_at(12))
    # The chair's "empty" while the resident is in the kitchen is a late report: no span.
    assert _spans(spans) == [("kitchen", "08:00:00", "08:41:00")]


def test_the_chair_pad_holds_like_the_bed() -> None:
    readings = [
        Activity("chair", "chair", _at(14, 0), 1.0),
        Activity("chair", "chair", _at(16, 0), 0.0),
        _pir("kitchen", _at(16, 1)),
    ]
    spans = timeline(readings, start=_at(0), end=_at(17))
    assert _spans(spans)[0] == ("lounge", "14:00:00", "16:01:00")


def test_input_order_does_not_matter_and_spans_do_not_overlap() -> None:
    readings = _routine(DAY, wake=time(7, 30), bed=time(22, 30))
    shuffled = list(readings)
    random.Random(3).shuffle(shuffled)
    spans = timeline(readings, start=_at(0), end=_at(0, day=1))
    assert timeline(shuffled, start=_at(0), end=_at(0, day=1)) == spans
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    assert all(s.duration > timedelta(0) for s in spans)


def test_rooms_in_order() -> None:
    t = _at(8)
    spans = [Span(room, t, t + MIN) for room in (OUT, "study", "hall", "bedroom", "attic", "hall")]
    assert rooms_in_order(spans) == ["bedroom", "hall", "attic", "study", OUT]
    assert rooms_in_order([]) == []


def test_wire_readings_convert_and_naive_times_are_refused() -> None:
    reading = Reading("kitchen-pir", ReadingKind.MOTION, _at(8), 1.0)
    assert Activity.of(reading) == _pir("kitchen", _at(8))
    with pytest.raises(ValueError, match="timezone-aware"):
        Activity("kitchen-pir", "motion", datetime(2026, 11, 23, 8), 1.0)


# -- a resident's day, built by hand ------------------------------------------------


def _routine(
    day: date,
    *,
    wake: time,
    bed: time,
    toilets: Sequence[time] = (time(3, 0),),
    meals: Sequence[time] = (time(8, 0), time(12, 30), time(18, 0)),
    outing: tuple[time, int] | None = (time(14, 0), 60),
    pad: bool = True,
    zone: ZoneInfo = ZONE,
) -> list[Activity]:
    """One local day: last night's toilet trips, up at ``wake``, meals, an outing, to bed."""

    def local(t: time) -> datetime:
        return datetime.combine(day, t, zone)

    acts: list[Activity] = []
    for t in map(local, toilets):
        if pad:
            acts.append(_bed(t, False))
        acts += [
            _pir("bathroom", t + MIN),
            _pir("bathroom", t + 3 * MIN),
            _pir("bedroom", t + 5 * MIN),
        ]
        if pad:
            acts.append(_bed(t + 6 * MIN, True))
    up, night = local(wake), local(bed)
    if pad:
        acts.append(_bed(up - 2 * MIN, False))
    acts += [_pir("bedroom", up - MIN), _pir("bathroom", up)]
    out = None
    if outing is not None:
        left, minutes = local(outing[0]), outing[1]
        out = (left, left + timedelta(minutes=minutes))
        acts += [_pir("hall", left - MIN), _door(left, True), _door(left + 10 * MIN / 60, False)]
        acts += [_door(out[1], True), _door(out[1] + 8 * MIN / 60, False)]
    starts = [local(m) for m in meals]
    for m in starts:
        acts += [_kettle(m + MIN, 2200.0), _kettle(m + 4 * MIN, 0.0)]
    t = up + 5 * MIN
    while t < night - 10 * MIN:
        if out is not None and out[0] - MIN <= t < out[1]:
            pass
        elif any(m <= t < m + 12 * MIN for m in starts):
            acts.append(_pir("kitchen", t))
        else:
            acts.append(_pir("lounge", t))
        t += 5 * MIN
    acts.append(_pir("bedroom", night - 2 * MIN))
    if pad:
        acts.append(_bed(night, True))
    return acts


def _days(
    first: date,
    n: int,
    *,
    wake: time,
    bed: time,
    toilets: Sequence[time] = (time(3, 0),),
    pad: bool = True,
) -> list[Activity]:
    acts: list[Activity] = []
    for i in range(n):
        day = first + timedelta(days=i)
        acts += _routine(day, wake=wake, bed=bed, toilets=toilets, pad=pad)
    return acts


# -- daily measures -----------------------------------------------------------------


def test_a_usual_day_measured() -> None:
    readings = _days(DAY - timedelta(days=1), 3, wake=time(7, 30), bed=time(22, 30))
    [m] = daily_measures(readings, tz=ZONE, first_day=DAY, last_day=DAY)
    assert m.day == DAY
    assert m.wake_time == time(7, 30)
    assert m.bed_time == time(22, 30)
    assert m.night_toilet_visits == 1
    assert m.meals == 3
    assert m.meal_times == (time(8, 0), time(12, 30), time(18, 0))
    assert m.time_out_min == 60
    assert m.sleep_hours == 9.0
    motion = [r for r in readings if r.kind == "motion" and r.ts.date() == DAY]
    assert m.movements == len(motion) == sum(m.movements_by_hour)
    assert len(m.movements_by_hour) == 24
    assert m.movements_by_hour[3] == 3  # the toilet trip: two in the bathroom, back in the bedroom


def test_measures_without_a_bed_pad_use_bedroom_movement() -> None:
    readings = _days(DAY - timedelta(days=1), 3, wake=time(7, 30), bed=time(22, 30), pad=False)
    [m] = daily_measures(readings, tz=ZONE, first_day=DAY, last_day=DAY)
    assert m.wake_time == time(7, 30)
    assert m.bed_time == time(22, 28)  # the last movement in the bedroom before the night
    assert m.night_toilet_visits == 1
    assert m.sleep_hours == pytest.approx(9.03, abs=0.01)


def test_a_day_without_readings_has_no_measures_not_zeros() -> None:
    readings = _routine(DAY, wake=time(7, 30), bed=time(22, 30))
    readings += _routine(DAY + timedelta(days=2), wake=time(7, 30), bed=time(22, 30))
    measured = daily_measures(readings, tz=ZONE, first_day=DAY, last_day=DAY + timedelta(days=2))
    assert [m.day for m in measured] == [DAY + timedelta(days=i) for i in range(3)]
    gap = measured[1]
    assert gap == DayMeasures.without_readings(DAY + timedelta(days=1))
    assert not gap.has_readings
    assert gap.movements is None
    assert gap.meals is None
    assert gap.time_out_min is None
    after = measured[2]
    assert after.has_readings
    assert after.sleep_hours is None
    assert after.wake_time == time(7, 30)
    assert after.night_toilet_visits == 1
    assert daily_measures([], tz=ZONE, first_day=DAY, last_day=DAY) == [
        DayMeasures.without_readings(DAY)
    ]


def test_nothing_heard_all_night_is_not_zero_toilet_visits() -> None:
    readings = [_pir("kitchen", datetime.combine(DAY, time(15, 0), ZONE))]
    [m] = daily_measures(readings, tz=ZONE, first_day=DAY, last_day=DAY)
    assert m.movements == 1
    assert m.night_toilet_visits is None
    assert m.wake_time is None
    assert m.meals == 0
    assert m.time_out_min == 0


def test_spring_forward_night_is_an_hour_shorter() -> None:
    sunday = date(2026, 3, 29)  # clocks go from 01:00 to 02:00
    readings = _days(sunday - timedelta(days=1), 2, wake=time(7, 30), bed=time(22, 30))
    saturday, m = daily_measures(
        readings, tz=ZONE, first_day=sunday - timedelta(days=1), last_day=sunday
    )
    assert saturday.bed_time == time(22, 30)
    assert m.wake_time == time(7, 30)
    assert m.sleep_hours == 8.0
    assert m.night_toilet_visits == 1
    assert m.movements_by_hour[1] == 0  # the hour that does not exist


def test_fall_back_night_is_an_hour_longer() -> None:
    sunday = date(2026, 10, 25)  # clocks go from 02:00 back to 01:00
    readings = _days(sunday - timedelta(days=1), 2, wake=time(7, 30), bed=time(22, 30))
    readings.append(_pir("bedroom", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)))  # 01:30 BST
    readings.append(_pir("bedroom", datetime(2026, 10, 25, 1, 30, tzinfo=UTC)))  # 01:30 GMT
    [m] = daily_measures(readings, tz=ZONE, first_day=sunday, last_day=sunday)
    assert m.sleep_hours == 10.0
    assert m.wake_time == time(7, 30)
    assert m.movements_by_hour[1] == 2  # the hour that happens twice


def test_wake_ignores_a_night_trip_and_a_short_wander() -> None:
    readings = _days(
        DAY - timedelta(days=1), 2, wake=time(8, 0), bed=time(22, 30), toilets=(time(4, 30),)
    )
    # Up at 05:10 for half an hour, back to bed: still the night.
    wander = datetime.combine(DAY, time(5, 10), ZONE)
    readings += [
        _bed(wander, False),
        _pir("kitchen", wander + MIN),
        _pir("hall", wander + 20 * MIN),
    ]
    readings += [_pir("bedroom", wander + 30 * MIN), _bed(wander + 31 * MIN, True)]
    [m] = daily_measures(readings, tz=ZONE, first_day=DAY, last_day=DAY)
    assert m.wake_time == time(8, 0)
    assert m.night_toilet_visits == 1


def test_not_up_yet_has_no_wake_time() -> None:
    readings = _routine(DAY - timedelta(days=1), wake=time(7, 30), bed=time(22, 30))
    now = datetime.combine(DAY, time(9, 0), ZONE)
    readings.append(Activity("bedroom-temp", "temperature", now - MIN, 18.0))
    [m] = daily_measures(readings, tz=ZONE, first_day=DAY, last_day=DAY, until=now)
    assert m.wake_time is None
    assert m.sleep_hours is None
    assert m.night_toilet_visits == 0
    assert m.has_readings


def test_meals_group_kitchen_stays_and_kettle_boils() -> None:
    def local(hour: int, minute: int = 0) -> datetime:
        return datetime.combine(DAY, time(hour, minute), ZONE)

    readings = [
        # Breakfast: a kettle, then 10 min in the kitchen 20 min later: one meal.
        _kettle(local(7, 40), 2100.0),
        _kettle(local(7, 43), 0.0),
        *(_pir("kitchen", local(8, m)) for m in range(0, 11, 2)),
        # A quick look in the fridge: not a meal.
        *(_pir("kitchen", local(10, m)) for m in range(0, 5)),
        _pir("lounge", local(10, 6)),
        # An afternoon tea: a kettle alone is one.
        _kettle(local(15, 30), 2300.0),
        _kettle(local(15, 32), 2300.0),  # the plug reporting again while it boils
        _kettle(local(15, 34), 0.0),
        # A cup of tea in a sleepless night: not a meal.
        _kettle(local(3, 10), 2200.0),
        _kettle(local(3, 13), 0.0),
    ]
    [m] = daily_measures(readings, tz=ZONE, first_day=DAY, last_day=DAY)
    assert m.meals == 2
    assert m.meal_times == (time(7, 40), time(15, 30))


def test_time_out_counts_only_within_the_day() -> None:
    readings = _routine(DAY, wake=time(7, 30), bed=time(22, 30), outing=None)
    # Out from 23:00 to 01:00: an hour on each day.
    left = datetime.combine(DAY, time(23, 0), ZONE)
    readings += [_pir("hall", left - MIN), _door(left, True), _door(left + MIN, False)]
    readings += [_pir("hall", left + timedelta(hours=2))]
    first, second = daily_measures(
        [r for r in readings if r.sensor != "bed"],
        tz=ZONE,
        first_day=DAY,
        last_day=DAY + timedelta(days=1),
    )
    assert first.time_out_min == 60
    assert second.time_out_min == 60


# -- today against usual ------------------------------------------------------------


def _measures(
    day: date,
    *,
    wake: time | None = time(7, 45),
    bed: time | None = time(22, 30),
    visits: int | None = 1,
    meals: Sequence[time] = (time(8, 0), time(12, 30), time(18, 0)),
    out: int = 60,
    movements: int = 400,
    sleep: float | None = 8.5,
) -> DayMeasures:
    hours = [0] * 24
    for h in range(8, 22):
        hours[h] = movements // 14
    return DayMeasures(
        day, wake, bed, visits, len(meals), out, sum(hours), sleep, tuple(meals), tuple(hours)
    )


def _history(
    *,
    wakes: Sequence[time] = (time(7, 45),) * 10,
    visits: Sequence[int] = (1,) * 10,
    outs: Sequence[int] = (60,) * 10,
) -> list[DayMeasures]:
    """Ten past days, each measure given day by day."""
    return [
        _measures(DAY - timedelta(days=10 - i), wake=wakes[i], visits=visits[i], out=outs[i])
        for i in range(10)
    ]


_WAKES = [time(7, 30), time(7, 45), time(8, 0), time(8, 15), time(7, 30)] * 2
_VISITS = [1, 0, 1, 2, 1, 1, 0, 1, 1, 2]


def test_an_ordinary_day_is_as_usual() -> None:
    history = _history(wakes=_WAKES, visits=_VISITS)
    today = _measures(DAY, wake=time(7, 50), bed=None, meals=(time(8, 5), time(12, 40)))
    verdict = compare(today, history, now_local=time(15, 0))
    assert verdict.as_usual
    assert verdict.differences == []
    assert not verdict.learning


def test_an_ordinary_day_measured_from_readings_is_as_usual() -> None:
    first = DAY - timedelta(days=10)
    readings = _days(first - timedelta(days=1), 11, wake=time(7, 30), bed=time(22, 30))
    now = datetime.combine(DAY, time(20, 0), ZONE)
    readings += [r for r in _routine(DAY, wake=time(7, 40), bed=time(22, 30)) if r.ts <= now]
    *history, today = daily_measures(readings, tz=ZONE, first_day=first, last_day=DAY, until=now)
    verdict = compare(today, history, now_local=time(20, 0))
    assert verdict.differences == []
    assert verdict.as_usual
    assert not verdict.learning


def test_a_late_wake() -> None:
    history = _history(wakes=_WAKES)
    today = _measures(DAY, wake=time(10, 40), bed=None, meals=())
    verdict = compare(today, history, now_local=time(10, 45))
    assert not verdict.as_usual
    assert verdict.differences == ["Up at 10:40; usually by 08:15 (07:30 to 08:15 on most days)."]


def test_not_up_is_said_only_past_the_usual_latest_wake() -> None:
    history = _history(wakes=_WAKES)
    today = _measures(DAY, wake=None, bed=None, meals=(), visits=0, sleep=None)
    assert compare(today, history, now_local=time(8, 30)).as_usual
    verdict = compare(today, history, now_local=time(9, 0))
    assert verdict.differences == [
        "Not seen up yet at 09:00; usually up by 08:15 (07:30 to 08:15 on most days)."
    ]


def test_more_night_toilet_visits() -> None:
    history = _history(visits=_VISITS)
    verdict = compare(_measures(DAY, visits=4, bed=None, meals=()), history, now_local=time(7, 50))
    assert verdict.differences == ["4 visits to the bathroom last night; usually 1 (0 to 2)."]
    assert compare(
        _measures(DAY, visits=3, bed=None, meals=()), history, now_local=time(7, 50)
    ).as_usual
    # Still in bed, already four: said, but as "since going to bed".
    in_bed = _measures(DAY, wake=None, visits=4, bed=None, meals=(), sleep=None)
    assert compare(in_bed, history, now_local=time(6, 0)).differences == [
        "4 visits to the bathroom since going to bed; usually 1 (0 to 2)."
    ]


def test_too_few_days_is_learning() -> None:
    history = _history(wakes=_WAKES)[-4:]
    history.append(DayMeasures.without_readings(DAY - timedelta(days=5)))  # an outage: not a day
    verdict = compare(_measures(DAY, wake=time(10, 40)), history, now_local=time(11, 0))
    assert verdict == compare(_measures(DAY, wake=time(10, 40)), [], now_local=time(11, 0))
    assert verdict.learning
    assert verdict.as_usual
    assert verdict.differences == []


def test_meals_are_judged_against_what_was_usual_by_this_time() -> None:
    history = _history()
    morning = _measures(DAY, meals=(), bed=None)
    assert compare(morning, history, now_local=time(9, 0)).as_usual  # breakfast may be late
    verdict = compare(morning, history, now_local=time(13, 30))
    assert verdict.differences == ["No meal seen yet today; usually 2 by this time."]
    assert compare(
        _measures(DAY, meals=(time(9, 30),), bed=None), history, now_local=time(13, 30)
    ).as_usual


def test_other_differences_in_words() -> None:
    history = _history()
    today = _measures(DAY, bed=time(1, 20), out=250, sleep=4.5, movements=150)
    verdict = compare(today, history, now_local=time(23, 0))
    assert verdict.differences == [
        "In bed about 4.5 h last night; usually 8.5 h (8.5 to 8.5 h).",
        "Moving about less than usual: 140 movements by 23:00; usually about 392 (392 to 392).",
        "Out for 4 h 10 min today; usually 1 h (1 h to 1 h).",
        "To bed at 01:20; usually by 22:30 (22:30 to 22:30 on most days).",
    ]
    stayed_in = _measures(DAY, out=0, bed=None)
    history = _history(outs=[120, 90, 150, 120, 100, 130, 120, 110, 140, 120])
    assert compare(stayed_in, history, now_local=time(15, 0)).as_usual
    assert compare(stayed_in, history, now_local=time(21, 30)).differences == [
        "Not out today; usually 2 h (1 h 39 min to 2 h 21 min)."
    ]


def test_a_habit_of_some_days_is_not_different() -> None:
    history = _history(outs=[0, 0, 0, 120, 0, 0, 150, 0, 0, 130])  # out on some days only
    assert compare(_measures(DAY, out=125, bed=None), history, now_local=time(18, 0)).as_usual
    verdict = compare(_measures(DAY, out=250, bed=None), history, now_local=time(18, 0))
    assert verdict.differences == ["Out for 4 h 10 min today; usually 0 min (0 min to 2 h 12 min)."]


def test_away_all_day_is_only_time_out() -> None:
    history = _history(wakes=_WAKES, outs=[0, 0, 0, 120, 0, 0, 150, 0, 0, 130])
    away = _measures(DAY, wake=None, bed=None, visits=0, meals=(), out=14 * 60, sleep=None)
    verdict = compare(away, history, now_local=time(14, 30))
    assert verdict.differences == ["Out for 14 h today; usually 0 min (0 min to 2 h 12 min)."]


def test_no_readings_today_is_not_as_usual() -> None:
    verdict = compare(DayMeasures.without_readings(DAY), _history(), now_local=time(9, 0))
    assert not verdict.as_usual
    assert not verdict.learning
    assert verdict.differences == ["No readings from the home yet today; the hub may be offline."]


def test_a_quiet_morning_with_the_hub_heard_is_not_an_offline_hub() -> None:
    quiet = DayMeasures.without_readings(DAY)
    asleep = compare(quiet, _history(), now_local=time(3, 0), hub_heard_today=True)
    assert asleep.as_usual
    assert asleep.differences == []
    late = compare(quiet, _history(), now_local=time(11, 0), hub_heard_today=True)
    assert not late.as_usual
    assert late.differences[0].startswith("Not seen up yet at 11:00")

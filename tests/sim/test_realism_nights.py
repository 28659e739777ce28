"""The fourth round of calibration: nights that run past midnight (issue 17)."""

from __future__ import annotations

import dataclasses
import itertools
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from firmware_sim.home import SimulatedHome
from firmware_sim.incidents import NotUp, WanderOut
from firmware_sim.measures import HomeStream, measure
from firmware_sim.persona import STEADY
from firmware_sim.realism import TIDY, HomeTraits, Realism
from firmware_sim.routine import DayConditions, plan_day
from tests.sim.streams import ACTIVITY_KINDS, local

ZONE = ZoneInfo("Europe/London")
FIRST = date(2026, 10, 5)
START = datetime.combine(FIRST, time(0), ZONE).astimezone(UTC)
_OWL = dataclasses.replace(TIDY, past_midnight_chance=0.35, past_midnight_h=3.0)
_HOUR = 3600.0


def _home(traits: HomeTraits, seed: int = 4, **kwargs: object) -> SimulatedHome:
    return SimulatedHome(home_id="h", start=START, seed=seed, traits=traits, **kwargs)  # type: ignore[arg-type]


def test_past_midnight_turned_down_leaves_the_other_traits_as_drawn() -> None:
    for i in range(200):
        full = HomeTraits.draw(random.Random(i), Realism())
        off = HomeTraits.draw(random.Random(i), Realism(past_midnight=0.0))
        assert (off.past_midnight_chance, off.past_midnight_h) == (0.0, 0.0)
        assert dataclasses.replace(full, past_midnight_chance=0.0, past_midnight_h=0.0) == off
    owls = [HomeTraits.draw(random.Random(i), Realism()).past_midnight_chance for i in range(400)]
    # Most homes never stay up past midnight; some do now and then, a few often.
    assert 0.5 < sum(c == 0.0 for c in owls) / len(owls) < 0.7
    assert any(c > 0.3 for c in owls)


def test_a_night_past_midnight_ends_the_day_still_up_and_the_next_begins_in_the_lounge() -> None:
    resident = dataclasses.replace(STEADY, outing_chance=0.0, naps=0.0)
    day, after = FIRST, FIRST + timedelta(days=1)
    late = plan_day(resident, day, ZONE, random.Random(1), DayConditions(bed_past_midnight_h=1.5))
    assert late.stays[-1].room == "lounge"
    assert late.stays[-1].end == datetime.combine(after, time(0), ZONE).timestamp()
    assert all(s.activity != "sleep" or s.start < late.woke for s in late.stays)

    usual = plan_day(resident, after, ZONE, random.Random(2), None, TIDY, random.Random(3))
    next_day = plan_day(
        resident, after, ZONE, random.Random(2), DayConditions(up_from_last_night_h=1.5), TIDY,
        random.Random(3),
    )  # fmt: skip
    first, wash, night = next_day.stays[:3]
    assert (first.room, first.activity, wash.activity) == ("lounge", "sit", "wash")
    assert (night.room, night.activity) == ("bedroom", "sleep")
    assert local(night.start, ZONE).time() == time(1, 30)
    # Sleeps on after it: later than on the same day without the late night, and
    # five hours at the least.
    assert next_day.woke > usual.woke
    assert next_day.woke >= night.start + 5 * _HOUR
    assert all(a.end == b.start for a, b in itertools.pairwise(next_day.stays))


def test_late_nights_come_on_some_nights_and_the_measures_see_bed_after_midnight() -> None:
    home = _home(_OWL)
    events = [(e.ts, e.sensor, e.kind, e.value) for day in home.days(40) for e in day]
    sensors = {d.sensor: (d.kind, d.room or "") for d in home.sensors}
    end = START.timestamp() + 40 * 86400
    m = measure(HomeStream(events, sensors, "Europe/London", START.timestamp(), end))
    after_midnight = [h for h in m.bed_hour if h >= 24.0]
    # About a third of the nights (more at weekends), and bed at 00:15-03:00.
    assert 6 <= len(after_midnight) <= 25, m.bed_hour
    assert max(m.bed_hour) <= 27.2
    tidy = _home(TIDY)
    tidy_events = [(e.ts, e.sensor, e.kind, e.value) for day in tidy.days(40) for e in day]
    tidy_m = measure(HomeStream(tidy_events, sensors, "Europe/London", START.timestamp(), end))
    assert sum(h >= 24.0 for h in tidy_m.bed_hour) <= 1, tidy_m.bed_hour
    # Getting up later on the mornings after.
    assert sum(m.up_hour) / len(m.up_hour) > sum(tidy_m.up_hour) / len(tidy_m.up_hour) + 0.2


def test_only_the_late_nights_and_the_mornings_after_differ_from_a_home_without_them() -> None:
    owl, tidy = _home(_OWL), _home(TIDY)
    changed: set[int] = set()
    late: set[int] = set()
    for d, (a, b) in enumerate(zip(owl.days(40), tidy.days(40), strict=True)):
        if owl._up_from_last_night_h:  # tonight runs past midnight
            late.add(d)
        # What the resident does (the thermometers' reports follow the devices' state).
        if [e for e in a if e.kind in ACTIVITY_KINDS] != [e for e in b if e.kind in ACTIVITY_KINDS]:
            changed.add(d)
    assert late
    assert changed <= late | {d + 1 for d in late}
    assert changed >= late


def test_the_same_seed_gives_the_same_late_nights() -> None:
    a = [e for day in _home(_OWL, seed=9).days(20) for e in day]
    b = [e for day in _home(_OWL, seed=9).days(20) for e in day]
    c = [e for day in _home(_OWL, seed=10).days(20) for e in day]
    assert a == b
    assert a != c


def test_no_late_night_on_the_eve_of_an_incident_or_on_its_day() -> None:
    always = dataclasses.replace(_OWL, past_midnight_chance=1.0)
    not_up = NotUp(day=FIRST + timedelta(days=5), delay=timedelta(hours=3))
    home = _home(always, incidents=[not_up])
    late = []
    for _ in home.days(10):
        late.append(home._up_from_last_night_h > 0)
    assert late[3:7] == [True, False, False, True]
    # The not-up counts from the usual getting up of a night that began in bed.
    labels = [lab for lab in home.take_labels() if lab.kind == "not_up"]
    assert len(labels) == 1
    assert local(labels[0].start.timestamp(), ZONE).hour < 9


def test_long_lie_ins_turned_down_leave_the_other_traits_as_drawn() -> None:
    for i in range(200):
        full = HomeTraits.draw(random.Random(i), Realism())
        off = HomeTraits.draw(random.Random(i), Realism(long_lie_ins=0.0))
        assert off.long_lie_ins_per_month == 0.0
        assert dataclasses.replace(full, long_lie_ins_per_month=0.0) == off


def _wakes(traits: HomeTraits, days: int = 120) -> list[float]:
    resident = dataclasses.replace(STEADY, weekend_lie_in_min=0.0)
    hours = []
    for d in range(days):
        day = FIRST + timedelta(days=d)
        plan = plan_day(resident, day, ZONE, random.Random(d), None, traits, random.Random(-d))
        woke = local(plan.woke, ZONE)
        hours.append(woke.hour + woke.minute / 60)
    return hours


def test_a_long_lie_in_keeps_the_resident_in_bed_two_hours_or_more_past_the_usual() -> None:
    usual = _wakes(TIDY)
    lying_in = _wakes(dataclasses.replace(TIDY, long_lie_ins_per_month=4.0))
    later = [b - a for a, b in zip(usual, lying_in, strict=True) if b != a]
    # About four a month over four months, each two to four and a half hours late;
    # every other morning is the same as without them.
    assert 8 <= len(later) <= 30, later
    assert all(2.0 <= h <= 4.5 for h in later), later
    assert max(lying_in) > 9.5 > max(usual)


def test_no_long_lie_in_where_a_carer_calls_every_morning() -> None:
    carer = dataclasses.replace(STEADY, carer_visit_hour=8.5)
    traits = dataclasses.replace(TIDY, long_lie_ins_per_month=30.0)
    for d in range(20):
        day = FIRST + timedelta(days=d)
        plan = plan_day(carer, day, ZONE, random.Random(d), None, traits, random.Random(-d))
        # (A lie-in of two hours would put the usual getting up at 09:15 or later.)
        assert local(plan.usual_wake, ZONE).hour < 9
        assert local(plan.woke, ZONE).hour < 9


def test_back_door_turned_down_leaves_the_other_traits_as_drawn() -> None:
    for i in range(200):
        full = HomeTraits.draw(random.Random(i), Realism())
        off = HomeTraits.draw(random.Random(i), Realism(back_door=0.0))
        assert off.back_door_share == 0.0
        assert dataclasses.replace(full, back_door_share=0.0) == off


def _out_and_door(traits: HomeTraits) -> tuple[list[tuple[float, float]], list[float]]:
    """Each day's hours out (the plan's) and the front door's openings."""
    resident = dataclasses.replace(STEADY, outing_chance=0.9, rain_outing_factor=1.0)
    home = _home(dataclasses.replace(traits, errands_per_day=1.0), persona=resident)
    events = home.sensor_events_until(START + timedelta(days=20))
    door = [e.ts for e in events if e.sensor == "front-door" and e.value == 1.0]
    moves = sorted(e.ts for e in events if e.kind in ACTIVITY_KINDS and e.sensor != "front-door")
    return [(a, b) for a, b in itertools.pairwise(moves) if b - a > _HOUR], door


def test_trips_by_the_back_door_leave_the_front_door_shut_and_the_home_silent() -> None:
    _, front = _out_and_door(TIDY)
    silences, back = _out_and_door(dataclasses.replace(TIDY, back_door_share=1.0))
    # Every outing and errand through the front door, or none.
    assert len(front) >= 30
    assert back == []
    # The same trips, now silences at home: daytime hours with no movement at all.
    daytime = [(a, b) for a, b in silences if 9 <= local(a, ZONE).hour < 18]
    assert len(daytime) >= 15, daytime


def test_a_night_wander_still_goes_out_of_the_front_door() -> None:
    at = datetime.combine(FIRST + timedelta(days=3), time(3), ZONE).astimezone(UTC)
    wander = WanderOut(at=at, duration=timedelta(minutes=40))
    home = _home(dataclasses.replace(TIDY, back_door_share=1.0), incidents=[wander])
    events = home.sensor_events_until(START + timedelta(days=5))
    opened = [e.ts for e in events if e.sensor == "front-door" and e.value == 1.0]
    assert any(abs(ts - at.timestamp()) < 600 for ts in opened)

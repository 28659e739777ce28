"""Each persona's days look like that resident to someone who knows them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from statistics import mean, median
from zoneinfo import ZoneInfo

import pytest

from firmware_sim.devices import FRONT_DOOR, SensorEvent
from firmware_sim.home import SimulatedHome
from firmware_sim.persona import PERSONAS, Persona
from tests.sim.streams import local, night_toilet_visits, outings, wake_times

ZONE = ZoneInfo("Europe/London")
START = datetime.combine(date(2026, 10, 5), time(0), ZONE).astimezone(UTC)
DAYS = 56


def _stream(persona: Persona, seed: int) -> list[SensorEvent]:
    # No holidays: these statistics are about days at home.
    at_home = dataclasses.replace(persona, holidays_per_year=0.0)
    home = SimulatedHome(home_id="h", start=START, seed=seed, persona=at_home)
    return home.sensor_events_until(START + timedelta(days=DAYS))


@pytest.mark.parametrize("name", sorted(PERSONAS))
def test_wake_times_fall_within_the_personas_spread(name: str) -> None:
    persona = PERSONAS[name]
    woke = wake_times(_stream(persona, seed=21), ZONE)
    assert len(woke) >= DAYS - 2
    weekend_share = 2 / 7
    expected = persona.wake_hour + persona.weekend_lie_in_min * weekend_share / 60
    # The routine drifts over months (a few minutes a month) around the persona's clock.
    assert abs(median(woke.values()) - expected) < 25 / 60, sorted(woke.values())
    spread_h = persona.wake_spread_min / 60
    inside = [h for h in woke.values() if abs(h - expected) < 2.5 * spread_h + 0.5]
    assert len(inside) >= 0.9 * len(woke)


@pytest.mark.parametrize("name", sorted(PERSONAS))
def test_night_toilet_visits_per_night_match_the_persona(name: str) -> None:
    persona = PERSONAS[name]
    visits = night_toilet_visits(_stream(persona, seed=22), ZONE)
    per_night = sum(visits.values()) / DAYS
    # (A visit that would overlap another is not made, so a little under the mean.)
    assert 0.7 * persona.night_toilet_visits <= per_night <= 1.15 * persona.night_toilet_visits


def test_time_out_per_week_orders_the_personas() -> None:
    out_per_week: dict[str, float] = {}
    trips_per_week: dict[str, float] = {}
    for name in ("early_riser", "steady", "chair_bound"):
        trips = outings(_stream(PERSONAS[name], seed=23))
        weeks = DAYS / 7
        out_per_week[name] = sum(back - left for left, back in trips) / 3600 / weeks
        trips_per_week[name] = len(trips) / weeks
    # Out most days for a couple of hours; about every other day; hardly ever.
    assert trips_per_week["early_riser"] >= 4.0
    assert 2.0 <= trips_per_week["steady"] <= 4.5
    assert trips_per_week["chair_bound"] <= 1.0
    assert out_per_week["early_riser"] > out_per_week["steady"] > out_per_week["chair_bound"]


def test_the_carer_calls_every_morning() -> None:
    events = _stream(PERSONAS["with_carer"], seed=24)
    mornings = {
        local(e.ts, ZONE).date()
        for e in events
        if e.sensor == FRONT_DOOR and e.value == 1.0 and 8 <= local(e.ts, ZONE).hour < 10
    }
    assert len(mornings) >= 0.9 * DAYS


def test_the_night_waker_is_up_at_night_far_more_than_others() -> None:
    def night_motion_outside_bedroom(name: str) -> float:
        events = _stream(PERSONAS[name], seed=25)
        count = sum(
            1
            for e in events
            if e.kind == "motion"
            and e.sensor not in ("bedroom-pir", "bathroom-pir")
            and 1 <= local(e.ts, ZONE).hour < 5
        )
        return count / DAYS

    assert night_motion_outside_bedroom("night_waker") > 5 * (
        night_motion_outside_bedroom("steady") + 0.2
    )


def test_weekends_start_later_for_those_who_lie_in() -> None:
    woke = wake_times(_stream(PERSONAS["steady"], seed=26), ZONE)
    weekday = mean(h for d, h in woke.items() if d.weekday() < 5)
    weekend = mean(h for d, h in woke.items() if d.weekday() >= 5)
    assert 0.1 < weekend - weekday < 0.6


def test_rainy_days_keep_people_in() -> None:
    persona = dataclasses.replace(PERSONAS["steady"], holidays_per_year=0.0)
    home = SimulatedHome(home_id="h", start=START, seed=27, persona=persona)
    events = home.sensor_events_until(START + timedelta(days=120))
    out_days = {local(left, ZONE).date() for left, _ in outings(events)}
    days = [(START + timedelta(days=d, hours=12)).astimezone(ZONE).date() for d in range(120)]
    rain = [d for d in days if home.weather.on(d).rain]
    dry = [d for d in days if not home.weather.on(d).rain]
    share = {
        "rain": sum(d in out_days for d in rain) / len(rain),
        "dry": sum(d in out_days for d in dry) / len(dry),
    }
    assert share["rain"] < share["dry"] - 0.1, share

"""Residents' habits, as distributions: no two days of a persona are the same.

A persona says *around when* and *how often* (wake around 07:15 give or take
20 minutes; one night toilet visit on an average night), never an exact clock.
:mod:`firmware_sim.routine` draws each day from it.

>>> PERSONAS["early_riser"].wake_hour < PERSONAS["steady"].wake_hour
True
>>> sorted(PERSONAS)
['chair_bound', 'early_riser', 'night_waker', 'steady', 'with_carer']
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PERSONAS", "STEADY", "Persona"]


@dataclass(slots=True, frozen=True)
class Persona:
    """A resident's habits; hours are local clock hours, spreads are standard deviations."""

    name: str
    description: str = ""
    wake_hour: float = 7.25
    # The real homes' getting up and going to bed vary by 45 and 70 minutes
    # (median distance from their own median); a persona's spread is the
    # day-to-day part, lie-ins and late evenings (firmware_sim.realism) the rest.
    wake_spread_min: float = 30.0
    bed_hour: float = 22.5
    bed_spread_min: float = 35.0
    # Minutes later on Saturdays and Sundays.
    weekend_lie_in_min: float = 20.0
    breakfast_min: float = 25.0
    lunch_hour: float = 12.5
    dinner_hour: float = 17.75
    meal_spread_min: float = 20.0
    # Mean counts per day, drawn from a Poisson distribution.
    day_toilet_visits: float = 3.0
    night_toilet_visits: float = 1.3
    kitchen_drinks: float = 3.0
    # Night-time waking with a wander round the house (hall, kitchen, lounge).
    night_wanders: float = 0.0
    naps: float = 0.3
    # The chance of going out on a dry weekday; rain and weekends scale it.
    outing_chance: float = 0.5
    outing_hours: tuple[float, float] = (1.0, 3.0)
    rain_outing_factor: float = 0.5
    weekend_outing_factor: float = 1.0
    # Holidays away a year (whole days out of the home).
    holidays_per_year: float = 1.0
    # Mean seconds between movements a PIR could see while sitting in the lounge.
    lounge_pace_s: float = 240.0
    # A carer's daily visit: local hour and minutes, or None.
    carer_visit_hour: float | None = None
    carer_visit_min: float = 30.0
    # How much the routine's clock wanders over months (minutes per 30 days, sd).
    drift_min_per_month: float = 6.0
    kettle_chance: float = 0.8
    # Presses the "I'm OK" button after breakfast.
    checks_in: bool = False


STEADY = Persona(
    name="steady",
    description="Independent, regular habits; out about every other day; checks in daily.",
    checks_in=True,
)

PERSONAS: dict[str, Persona] = {
    p.name: p
    for p in (
        STEADY,
        Persona(
            name="early_riser",
            description="Active early riser who goes out most days (shops, club, walks).",
            wake_hour=6.0,
            wake_spread_min=20.0,
            bed_hour=21.75,
            bed_spread_min=30.0,
            weekend_lie_in_min=0.0,
            lunch_hour=12.0,
            dinner_hour=17.25,
            day_toilet_visits=2.5,
            night_toilet_visits=0.9,
            naps=0.05,
            outing_chance=0.85,
            outing_hours=(1.5, 4.0),
            rain_outing_factor=0.7,
            weekend_outing_factor=0.8,
            holidays_per_year=2.0,
            lounge_pace_s=150.0,
        ),
        Persona(
            name="chair_bound",
            description="Frail; spends most of the day in the lounge chair, rarely out, naps.",
            wake_hour=8.0,
            wake_spread_min=40.0,
            bed_hour=21.5,
            bed_spread_min=40.0,
            weekend_lie_in_min=0.0,
            breakfast_min=35.0,
            day_toilet_visits=4.0,
            night_toilet_visits=1.8,
            kitchen_drinks=2.0,
            naps=1.5,
            outing_chance=0.08,
            outing_hours=(1.0, 2.0),
            rain_outing_factor=0.2,
            holidays_per_year=0.0,
            lounge_pace_s=420.0,
            checks_in=True,
        ),
        Persona(
            name="night_waker",
            description="Living with dementia: irregular days, wakes and wanders at night.",
            wake_hour=7.5,
            wake_spread_min=60.0,
            bed_hour=21.75,
            bed_spread_min=60.0,
            weekend_lie_in_min=0.0,
            meal_spread_min=40.0,
            night_toilet_visits=1.5,
            night_wanders=1.2,
            naps=0.8,
            outing_chance=0.3,
            outing_hours=(0.75, 2.0),
            holidays_per_year=0.0,
            lounge_pace_s=200.0,
            drift_min_per_month=12.0,
        ),
        Persona(
            name="with_carer",
            description="A paid carer visits every morning for half an hour (a second person).",
            wake_hour=7.5,
            wake_spread_min=25.0,
            day_toilet_visits=3.5,
            night_toilet_visits=1.2,
            naps=0.5,
            outing_chance=0.25,
            holidays_per_year=0.5,
            lounge_pace_s=300.0,
            carer_visit_hour=9.0,
        ),
    )
}

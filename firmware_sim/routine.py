"""One day of a resident's life: where they are from midnight to midnight.

:func:`plan_day` draws a day from a :class:`~firmware_sim.persona.Persona` and
the day's :class:`DayConditions` (weekend, rain, the slow drift of the
routine, a holiday, and any incident that changes what the resident does). The
result is a list of stays, each a room (or ``out``) with a start, an end and an
activity. Times are UTC epoch seconds (floats): the offline mode draws
millions of them, and datetimes would be ten times slower.

>>> import random
>>> from datetime import date
>>> from zoneinfo import ZoneInfo
>>> from firmware_sim.persona import STEADY
>>> plan = plan_day(STEADY, date(2026, 11, 24), ZoneInfo("Europe/London"), random.Random(1))
>>> plan.stays[0].activity, plan.stays[-1].activity
('sleep', 'sleep')
>>> all(a.end == b.start for a, b in zip(plan.stays, plan.stays[1:]))
True
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from firmware_sim.persona import Persona
from firmware_sim.realism import TIDY, HomeTraits

__all__ = [
    "GARDEN",
    "OUT",
    "ROOMS",
    "DayConditions",
    "DayPlan",
    "Stay",
    "local_epoch",
    "plan_day",
]

ROOMS = ("bedroom", "bathroom", "kitchen", "lounge", "hall")
OUT = "out"
# In the garden or just outside the back door: no sensor sees the resident there,
# and they went out through the kitchen, not the front door.
GARDEN = "garden"
# Garden spells in the months from October to March, against a summer month's.
_WINTER_GARDEN_FACTOR = 1 / 3
_HOUR = 3600.0
_MIN = 60.0
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@dataclass(slots=True, frozen=True)
class Stay:
    """The resident in ``room`` from ``start`` to ``end`` (epoch seconds), doing ``activity``."""

    room: str
    start: float
    end: float
    activity: str

    @property
    def asleep(self) -> bool:
        """Sleeping in bed, or a nap in the chair."""
        return self.activity in ("sleep", "nap")


@dataclass(slots=True, frozen=True)
class DayConditions:
    """What shapes one day beyond the persona: calendar, weather, drift and incidents."""

    rain: bool = False
    # Minutes the whole routine has drifted from the persona's clock.
    drift_min: float = 0.0
    # 1.0 = the persona's usual activity; a slow decline lowers it.
    activity: float = 1.0
    # Out of the home for [start, end) (a holiday), epoch seconds.
    away: tuple[float, float] | None = None
    # Incidents that change behaviour.
    not_up_delay_min: float = 0.0
    night_toilet_factor: float = 1.0
    missed_meals: frozenset[str] = frozenset()
    # Out of the front door at night: (start, minutes out).
    wander_out: tuple[float, float] | None = None
    # A lie-in the resident would have had anyway (minutes), e.g. the day of a not-up.
    lie_in_min: float = 0.0
    # A night toilet trip at this moment (epoch seconds), e.g. the one a fall happens on.
    toilet_at: float | None = None
    # Up past midnight tonight: in bed this many hours into the next day (0 = before
    # this day ends). The day then ends with the resident still up.
    bed_past_midnight_h: float = 0.0
    # Up past midnight last night: went to bed this many hours into this day, which
    # begins with the resident still up and gets up later for it.
    up_from_last_night_h: float = 0.0


@dataclass(slots=True)
class DayPlan:
    """A day's stays in order, the carer's visits, when the resident meant to get up and eat."""

    stays: list[Stay]
    usual_wake: float
    woke: float
    meals: dict[str, float] = field(default_factory=dict)
    visitors: list[tuple[float, float]] = field(default_factory=list)
    # Family and friends calling (not carers with a key): (arrive, leave).
    guests: list[tuple[float, float]] = field(default_factory=list)


def local_epoch(day: date, hour: float, zone: ZoneInfo) -> float:
    """Epoch seconds of ``hour`` (local, may exceed 24) on ``day``.

    The offset is taken at noon, so on a clock-change day only the hours
    before 02:00 are an hour off, which no routine notices.
    """
    noon = datetime.combine(day, time(12), zone)
    offset = noon.utcoffset() or timedelta(0)
    midnight_utc = (day.toordinal() - _EPOCH_ORDINAL) * 86400.0
    return midnight_utc - offset.total_seconds() + hour * _HOUR


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw; Knuth's method is fine for the small means of daily habits."""
    if mean <= 0:
        return 0
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


_DAY = frozenset({"sit"})
# The evening television: most still spells are after dinner.
_EVENING_STILL_SHARE = 0.75
_NIGHT = frozenset({"sleep"})
# Residents who go out this often (early risers, steady ones) may be the ones out
# every weekday; the frail and the housebound are not.
_BUSY_OUTINGS = 0.4
# Night toilet trips at the least on a night of an infection (3-5 times the usual).
_INFECTION_LEAST_VISITS = 2
# After a night up past midnight: the share of the hours lost the resident sleeps
# on for, and the least sleep before getting up.
_SLEEP_ON_SHARE = (0.4, 0.9)
_LEAST_SLEEP_H = 5.0
# A long lie-in's minutes past the usual getting up.
_LONG_LIE_IN_MIN = (120.0, 270.0)


def _insert(stays: list[Stay], visit: Stay, *, hosts: frozenset[str] = _DAY) -> bool:
    """Put ``visit`` inside the host stay around its start, if it fits with a margin."""
    margin = 5 * _MIN
    for i, host in enumerate(stays):
        if not (host.start < visit.start < host.end):
            continue
        if host.activity not in hosts:
            return False
        if visit.start - margin <= host.start or visit.end + margin >= host.end:
            return False
        stays[i : i + 1] = [
            Stay(host.room, host.start, visit.start, host.activity),
            visit,
            Stay(host.room, visit.end, host.end, host.activity),
        ]
        return True
    return False


def _overlay(stays: list[Stay], over: Stay) -> list[Stay]:
    """``over`` replaces whatever the plan had between its start and end."""
    out: list[Stay] = []
    for s in stays:
        if s.end <= over.start or s.start >= over.end:
            out.append(s)
            continue
        if s.start < over.start:
            out.append(Stay(s.room, s.start, over.start, s.activity))
        if s.end > over.end:
            out.append(Stay(s.room, over.end, s.end, s.activity))
    out.append(over)
    out.sort(key=lambda s: s.start)
    return out


def plan_day(
    persona: Persona,
    day: date,
    zone: ZoneInfo,
    rng: random.Random,
    conditions: DayConditions | None = None,
    traits: HomeTraits = TIDY,
    realism_rng: random.Random | None = None,
) -> DayPlan:
    """Where the resident is on ``day``, local midnight to midnight, in order.

    A night up past midnight spans two plans: this day's ends with the resident
    still up (``conditions.bed_past_midnight_h``) and the next day's begins so
    (``up_from_last_night_h``), each covering its own side of midnight.

    The realism of ``traits`` draws from ``realism_rng`` (else ``rng``), so a
    home with its realism turned down lives the same days as a tidy one.
    """
    c = conditions or DayConditions()
    real = realism_rng or rng
    incident_day = bool(c.not_up_delay_min or c.missed_meals or c.wander_out)
    weekend = day.weekday() >= 5
    shift = c.drift_min + (persona.weekend_lie_in_min if weekend else 0.0)

    def at(hour: float, spread_min: float = 0.0) -> float:
        jitter = rng.gauss(0, spread_min) if spread_min else 0.0
        return local_epoch(day, hour + (shift + jitter) / 60, zone)

    def minutes(mean: float, spread: float) -> float:
        return max(mean / 3, rng.gauss(mean, spread)) * _MIN

    day_start, day_end = local_epoch(day, 0, zone), local_epoch(day, 24, zone)
    usual_wake = at(persona.wake_hour, persona.wake_spread_min)
    # Sleeping late some mornings is normal life; a not-up counts from then.
    # (Not where a carer calls every morning: the visit sets the morning.)
    lie_in = c.lie_in_min
    lie_in_chance = traits.lie_in_chance * (1.5 if weekend else 1.0)
    if persona.carer_visit_hour is None and lie_in_chance and real.random() < lie_in_chance:
        lie_in = max(lie_in, real.uniform(20, traits.lie_in_min))
    long_lie_in = traits.long_lie_ins_per_month / 30 * (1.5 if weekend else 1.0)
    if persona.carer_visit_hour is None and long_lie_in and real.random() < long_lie_in:
        # A long one: a bad night, a cold coming on, nothing to get up for.
        lie_in = max(lie_in, real.uniform(*_LONG_LIE_IN_MIN))
    usual_wake += lie_in * _MIN
    last_night_bed: float | None = None
    if c.up_from_last_night_h:
        # Asleep hours after the usual bed time: the resident sleeps on for most of
        # the hours lost (the alarm clock of a retired life is the body's), and a
        # few hours at the least.
        last_night_bed = day_start + c.up_from_last_night_h * _HOUR
        late_h = 24 + c.up_from_last_night_h - persona.bed_hour
        slept_on = real.uniform(*_SLEEP_ON_SHARE) * late_h * _HOUR
        usual_wake = max(usual_wake + slept_on, last_night_bed + _LEAST_SLEEP_H * _HOUR)
    wake = usual_wake + c.not_up_delay_min * _MIN
    visitors: list[tuple[float, float]] = []
    if persona.carer_visit_hour is not None:
        arrive = at(persona.carer_visit_hour, 15)
        visitors.append((arrive, arrive + minutes(persona.carer_visit_min, 5)))
        if usual_wake < arrive < wake:
            wake = arrive + _MIN  # the carer finds them still in bed and helps them up
    bed = at(persona.bed_hour, persona.bed_spread_min)
    if traits.late_evening_chance and real.random() < traits.late_evening_chance:
        # Up late (a film, a phone call, a restless evening), but settled in bed well
        # before midnight: the next day's plan starts asleep, and what the devices
        # report of getting into bed must stay on this day.
        bed += real.uniform(0.5, traits.late_evening_h) * _HOUR
    evening_out = bool(traits.evening_out_chance) and real.random() < traits.evening_out_chance
    evening_out = evening_out and bool(traits.evening_out_h) and not incident_day
    late_night_out = (
        evening_out
        and bool(traits.late_night_out_share)
        and real.random() < traits.late_night_out_share
    )
    if late_night_out:
        # Home after the usual bed time and straight to bed: a long empty evening,
        # which without a front-door sensor looks like an evening without a movement.
        bed += real.uniform(1.0, 3.0) * _HOUR
    bed = min(bed, day_end - 20 * _MIN)
    washed = wake + minutes(15, 4)
    breakfast_done = washed + minutes(persona.breakfast_min, 6)
    lunch = max(at(persona.lunch_hour, persona.meal_spread_min), breakfast_done + 60 * _MIN)
    lunch_done = lunch + minutes(30, 8)
    dinner = max(at(persona.dinner_hour, persona.meal_spread_min), lunch_done + 60 * _MIN)
    dinner_done = dinner + minutes(40, 10)
    ready_for_bed = max(bed - minutes(15, 3), dinner_done + 30 * _MIN)
    bed = max(bed, ready_for_bed + 5 * _MIN)
    if c.bed_past_midnight_h:
        # Still up at midnight: the next day's plan puts them to bed.
        ready_for_bed = bed = day_end

    def meal(name: str, start: float, end: float) -> Stay:
        # A skipped meal is more time in the chair (and not a time for a drink either).
        if name in c.missed_meals:
            return Stay("lounge", start, end, "no_meal")
        return Stay("kitchen", start, end, name)

    night = [Stay("bedroom", day_start, wake, "sleep")]
    if last_night_bed is not None:
        # The evening goes on from last night in the lounge, then the wash and bed.
        washing = min(real.uniform(8, 18) * _MIN, (last_night_bed - day_start) / 2)
        night = [
            Stay("lounge", day_start, last_night_bed - washing, "sit"),
            Stay("bathroom", last_night_bed - washing, last_night_bed, "wash"),
            Stay("bedroom", last_night_bed, wake, "sleep"),
        ]
    stays = [
        *night,
        Stay("bathroom", wake, washed, "wash"),
        meal("breakfast", washed, breakfast_done),
        Stay("lounge", breakfast_done, lunch, "sit"),
        meal("lunch", lunch, lunch_done),
        Stay("lounge", lunch_done, dinner, "sit"),
        meal("dinner", dinner, dinner_done),
        Stay("lounge", dinner_done, ready_for_bed, "sit"),
        Stay("bathroom", ready_for_bed, bed, "wash"),
        Stay("bedroom", bed, day_end, "sleep"),
    ]
    # (A day that ends still up has no wash or bed of its own.)
    stays = [s for s in stays if s.end > s.start]
    meals = {"breakfast": washed, "lunch": lunch, "dinner": dinner}

    day_out = False
    # (Each feature draws only where the home has it, as late evenings do: a home
    # without it lives the days it lived before the feature existed.)
    weekday_out = bool(traits.weekday_out_chance) and real.random() < traits.weekday_out_chance
    weekday_out = weekday_out and not weekend
    if traits.days_out_per_week and real.random() < traits.days_out_per_week / 7:
        # A whole day away (a day centre, family, work): lunch is eaten out.
        leave = max(local_epoch(day, real.uniform(8.0, 10.5), zone), breakfast_done + 10 * _MIN)
        back = min(local_epoch(day, real.uniform(15.5, 19.0), zone), ready_for_bed - 30 * _MIN)
        if back - leave >= 4 * _HOUR and not incident_day:
            stays = _overlay(stays, Stay(OUT, leave, back, "day_out"))
            day_out = True
    if weekday_out and not day_out and not incident_day and persona.outing_chance >= _BUSY_OUTINGS:
        # Out from the morning to the late afternoon (work, volunteering, a day centre),
        # as soon as breakfast is done: the home is empty for eight hours or more.
        leave = max(local_epoch(day, real.uniform(7.0, 9.0), zone), breakfast_done + 5 * _MIN)
        back = min(local_epoch(day, real.uniform(16.0, 18.5), zone), ready_for_bed - 30 * _MIN)
        if back - leave >= 4 * _HOUR:
            stays = _overlay(stays, Stay(OUT, leave, back, "weekday_out"))
            day_out = True
    outing = persona.outing_chance * c.activity
    outing *= persona.rain_outing_factor if c.rain else 1.0
    outing *= persona.weekend_outing_factor if weekend else 1.0
    if rng.random() < outing and not c.missed_meals and not day_out:
        # Out between breakfast and dinner; lunch, if it falls inside, is eaten out.
        leave = max(at(rng.uniform(10.0, 14.5)), breakfast_done + 10 * _MIN)
        hours = rng.uniform(*persona.outing_hours) * min(1.0, c.activity + 0.2)
        back = min(leave + hours * _HOUR, dinner - 10 * _MIN)
        if back - leave >= 30 * _MIN:
            stays = _overlay(stays, Stay(OUT, leave, back, "outing"))
    if evening_out:
        # Out after dinner (a club, family, the pub) and home in time for bed (or, on
        # a late night, for a bed time put back): the home is empty all evening,
        # which without a front-door sensor looks still.
        leave = dinner_done + real.uniform(10, 60) * _MIN
        back = min(
            leave + real.uniform(1.5, traits.evening_out_h) * _HOUR, ready_for_bed - 5 * _MIN
        )
        if late_night_out:
            back = ready_for_bed - 5 * _MIN
        if back - leave >= _HOUR:
            stays = _overlay(stays, Stay(OUT, leave, back, "evening_out"))
    rain = persona.rain_outing_factor if c.rain else 1.0
    errands = poisson(real, traits.errands_per_day * c.activity * rain)
    for _ in range(0 if incident_day else errands):
        # A short trip out of the chair (the shop, the post, a walk round the block),
        # when the resident is sitting (not at a meal or already out).
        length = real.uniform(15, 75) * _MIN
        for _attempt in range(3):
            start = local_epoch(day, real.uniform(9.5, 17.5), zone)
            if _insert(stays, Stay(OUT, start, start + length, "errand")):
                break
    if traits.garden_per_week and not c.rain and not incident_day:
        season = 1.0 if 4 <= day.month <= 9 else _WINTER_GARDEN_FACTOR
        for _ in range(poisson(real, traits.garden_per_week / 7 * season * c.activity)):
            # Out of the back door for a while, when sitting: unseen, the front door shut.
            length = real.uniform(20, 120) * _MIN
            for _attempt in range(3):
                start = local_epoch(day, real.uniform(10.0, 18.0), zone)
                if _insert(stays, Stay(GARDEN, start, start + length, "garden")):
                    break
    guests: list[tuple[float, float]] = []
    if traits.visitors_per_week and real.random() < traits.visitors_per_week / 7:
        # The resident sits with them in the lounge; the guest moves about (tea, the toilet).
        arrive = local_epoch(day, real.uniform(10.5, 19.0), zone)
        visit = Stay("lounge", arrive, arrive + real.uniform(30, 150) * _MIN, "visit")
        if _insert(stays, visit):
            guests.append((visit.start, visit.end))
    for _ in range(poisson(real, traits.still_spells_per_day)):
        # Television or a book: in the chair for an hour or more, hardly moving.
        evening = real.random() < _EVENING_STILL_SHARE
        start = local_epoch(
            day, real.uniform(18.5, 21.5) if evening else real.uniform(10.5, 17.0), zone
        )
        length = max(20.0, real.gauss(traits.still_spell_min, traits.still_spell_min / 3))
        # Longer on a slow day (a decline's or a tired one), shorter on a busy one.
        length /= min(max(c.activity, 0.5), 1.5)
        _insert(stays, Stay("lounge", start, start + length * _MIN, "still"))
    for _ in range(poisson(rng, persona.naps)):
        start = at(rng.uniform(13.5, 16.5))
        _insert(stays, Stay("lounge", start, start + rng.uniform(20, 60) * _MIN, "nap"))
    for _ in range(poisson(real, traits.extra_naps)):
        # Real homes nap longer and at any time of the afternoon.
        start = local_epoch(day, real.uniform(12.5, 18.0), zone)
        length = real.uniform(30, 100) * _MIN
        # Some lie down on the bed for it (drawn only where a home ever does).
        on_bed = bool(traits.nap_in_bed_share) and real.random() < traits.nap_in_bed_share
        _insert(stays, Stay("bedroom" if on_bed else "lounge", start, start + length, "nap"))
    for _ in range(poisson(rng, persona.day_toilet_visits)):
        start = at(rng.uniform(9.0, 21.5))
        _insert(stays, Stay("bathroom", start, start + rng.uniform(3, 8) * _MIN, "toilet"))
    for _ in range(poisson(rng, persona.kitchen_drinks * c.activity)):
        start = at(rng.uniform(9.5, 21.0))
        _insert(stays, Stay("kitchen", start, start + rng.uniform(4, 10) * _MIN, "drink"))

    asleep_from = day_start if last_night_bed is None else last_night_bed
    night_hours = (usual_wake - asleep_from) / _HOUR - 0.5
    if c.toilet_at is not None:
        toilet = Stay("bathroom", c.toilet_at, c.toilet_at + real.uniform(3, 7) * _MIN, "toilet")
        _insert(stays, toilet, hosts=_NIGHT)
    if night_hours > 0.75:
        visits = poisson(rng, persona.night_toilet_visits * c.night_toilet_factor)
        if c.night_toilet_factor > 1:
            # An infection's urgency gets the resident up every night, not on a
            # Poisson draw's whim: a night of it without a trip would make its label untrue.
            visits = max(visits, _INFECTION_LEAST_VISITS)
        for _ in range(visits):
            start = asleep_from + rng.uniform(0.5, night_hours) * _HOUR
            toilet = Stay("bathroom", start, start + rng.uniform(3, 7) * _MIN, "toilet")
            _insert(stays, toilet, hosts=_NIGHT)
        for _ in range(poisson(rng, persona.night_wanders)):
            start = asleep_from + rng.uniform(0.5, night_hours) * _HOUR
            room = rng.choice(("hall", "kitchen", "lounge"))
            wander = Stay(room, start, start + rng.uniform(8, 35) * _MIN, "wander")
            _insert(stays, wander, hosts=_NIGHT)
    if c.wander_out is not None:
        start, minutes_out = c.wander_out
        stays = _overlay(stays, Stay(OUT, start, start + minutes_out * _MIN, "wander_out"))
    if c.away is not None:
        start, end = max(c.away[0], day_start), min(c.away[1], day_end)
        if start < end:
            stays = _overlay(stays, Stay(OUT, start, end, "away"))
    return DayPlan(
        stays, usual_wake=usual_wake, woke=wake, meals=meals, visitors=visitors, guests=guests
    )

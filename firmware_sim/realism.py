"""What makes a home's days and devices look like a real home's, beyond its resident's persona.

Real homes (``../shared/realhomes/``, docs/simulator.md) are quieter and
messier than a persona's timetable: the resident sits still for an hour in
front of the television where the PIR cannot see the chair, naps, stays up
late some evenings and sleeps late some mornings, has visitors and whole days
out; the installer did not fit a sensor in every room, the pressure pads
pulse once per turn instead of holding "occupied", and PIRs have blind spots.

Each of those is a field of :class:`HomeTraits`. A trial draws every home's
traits from :class:`Realism` (the scenario's ``[realism]`` table), whose
values scale each feature from 0 (off: the tidy simulator of old) to 1 (as
the real homes show); :meth:`HomeTraits.draw` gives each home its own values
so no two homes are alike. A home built directly (``SimulatedHome(...)``)
without traits gets :data:`TIDY`, the tidy home, so unit tests of a
persona's habits measure the persona alone.

>>> import random
>>> tidy = HomeTraits.draw(random.Random(1), Realism.model_validate({"level": 0.0}))
>>> tidy == TIDY
True
>>> real = HomeTraits.draw(random.Random(1), Realism())
>>> real.still_spells_per_day > 0 and real.lounge_seen < 1.0
True
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["TIDY", "HomeTraits", "Realism", "realism_overrides"]

# Sensors other than the day rooms' PIRs an installer may not have fitted, with the
# share of real-world homes without them at full realism. House B of the real set
# has no front-door sensor.
_UNFITTED_CHANCE: dict[str, float] = {
    "front-door": 0.25,
    "chair": 0.3,
    "kettle": 0.3,
}
# The day rooms' PIRs come as a kit, not one by one: an installer fits the full
# kit, leaves out one PIR (the hall's most often: a small flat, or the lounge's:
# the resident would not have one watching the chair), or fits only the night kit
# (bed and bathroom, for falls on the way to the toilet and night wandering) and
# sees nothing of the day rooms. Missing PIRs therefore go together: one home in
# five sees nothing of where its resident spends the day, where drawing each PIR
# on its own made that one in fourteen. House B has no hall or lounge PIR and
# house C no kitchen, lounge or hall PIR; the shares here are a caseload's, about
# one missing PIR per home as before (hall 41 %, lounge 29 %, kitchen 25 %).
_DAY_PIRS = ("hall-pir", "lounge-pir", "kitchen-pir")
_NIGHT_KIT_SHARE = 0.2
_ONE_LEFT_OUT_SHARE = 0.35
# Which PIR a kit with one left out lacks, cumulative: hall 60 %, lounge 25 %, kitchen 15 %.
_LEFT_OUT = (("hall-pir", 0.6), ("lounge-pir", 0.85), ("kitchen-pir", 1.0))

# Errands a day, by home: some residents never pop out, some do most days, a
# few twice a day (house C goes in and out of its front door up to four times).
_ERRANDS_PER_DAY = (0.0, 0.0, 0.3, 0.8, 2.0)
# The share of evenings a home spends out after dinner (house B's resident is out
# for whole evenings; most older residents seldom are).
_EVENING_OUT_CHANCE = (0.0, 0.0, 0.05, 0.15, 0.35)
# Homes whose resident is out most weekdays (house C is at work 07:20-17:00), and
# the share of their weekdays out (holidays, a day off, a cold).
_BUSY_WEEKDAYS_SHARE = 0.15
_BUSY_WEEKDAY_CHANCE = 0.85
# Stuck or silent spells a month, log-uniform: the real homes' research sensors
# stuck for days six times in 27 days (house B) and twice in 18 (house C); a
# telecare installation's few sensors, checked by an installer, far less often.
_STUCK_PER_MONTH = (0.1, 1.0)
# Of a home's evenings out, the share that end after the usual bed time: an evening
# with family or at a show seldom ends by nine.
_LATE_NIGHT_OUT_SHARE = (0.2, 0.6)
# The share of afternoon naps a home takes on the bed, by home: many nod off in the
# chair, some go and lie down, where the bedroom PIR sees a sleeper's turns only
# now and then and a pulsing bed pad says "out of bed" between its presses.
_NAP_IN_BED_SHARE = (0.0, 0.0, 0.3, 0.6, 1.0)
# Garden spells a dry summer week, by home: a flat has none, a keen gardener is out
# most days. (A winter week has a third as many; firmware_sim.routine.)
_GARDEN_PER_WEEK = (0.0, 0.0, 1.0, 3.0, 6.0)
# The spread (sd of the log) of a day's pace of movement, by home: the real homes'
# motion readings a day vary six-fold between a median day and a busy one (p90),
# a persona's by half. Part of that is research hardware; a third of it is people.
_DAY_TO_DAY_SD = (0.15, 0.6)
# The share of nights a home goes to bed after midnight, by home: most older
# residents never do, a night owl (poor sleep, the late film, a radio
# phone-in, a lifelong habit) on a third of nights or more. Insomnia, the
# commonest sleep complaint of later life, puts bed time back as often as it
# wakes people early.
_PAST_MIDNIGHT_CHANCE = (0.0, 0.0, 0.0, 0.1, 0.35)
# How late (hours after midnight) a late night runs at most, by home.
_PAST_MIDNIGHT_H = (1.0, 3.5)
# Long lie-ins a month, by home: a bad night, a cold coming on, a low spell, a
# Sunday with nothing to get up for; two to four and a half hours past the usual
# getting up. The ordinary lie-ins (``lie_ins``) reach 45-150 minutes; the real
# homes' getting up strays 230 minutes from its own median one morning in ten.
_LONG_LIE_INS_PER_MONTH = (0.0, 0.5, 1.0, 2.0, 4.0)
# The share of a home's trips out made by the back door, by home: telecare wires
# the front door, but many houses' everyday door is the back one (to the car, the
# garage, the side gate, the shops across the back lane); most flats have only a
# front door. House B's balcony and both homes' back doors are unwired.
_BACK_DOOR_SHARE = (0.0, 0.0, 0.0, 0.3, 0.8)


class Realism(BaseModel):
    """How real the trial's homes are: each feature from 0 (off) to 1 (as real homes), times ``level``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Scales every feature at once (0 = the tidy simulator).
    level: float = Field(default=1.0, ge=0, le=1)
    still_spells: float = Field(default=1.0, ge=0, le=1)
    naps: float = Field(default=1.0, ge=0, le=1)
    late_evenings: float = Field(default=1.0, ge=0, le=1)
    lie_ins: float = Field(default=1.0, ge=0, le=1)
    visitors: float = Field(default=1.0, ge=0, le=1)
    days_out: float = Field(default=1.0, ge=0, le=1)
    pulsing_pads: float = Field(default=1.0, ge=0, le=1)
    pir_blind_spots: float = Field(default=1.0, ge=0, le=1)
    uncovered_rooms: float = Field(default=1.0, ge=0, le=1)
    errands: float = Field(default=1.0, ge=0, le=1)
    evenings_out: float = Field(default=1.0, ge=0, le=1)
    busy_weekdays: float = Field(default=1.0, ge=0, le=1)
    stuck_devices: float = Field(default=1.0, ge=0, le=1)
    garden: float = Field(default=1.0, ge=0, le=1)
    slow_days: float = Field(default=1.0, ge=0, le=1)
    past_midnight: float = Field(default=1.0, ge=0, le=1)
    long_lie_ins: float = Field(default=1.0, ge=0, le=1)
    back_door: float = Field(default=1.0, ge=0, le=1)


@dataclass(slots=True, frozen=True)
class HomeTraits:
    """One home's realism: what its resident does beyond the persona, and how its devices fall short."""

    # Long still spells in the lounge chair (television, reading): a day's
    # mean count and each one's mean minutes; movement is then this rare.
    still_spells_per_day: float = 0.0
    still_spell_min: float = 60.0
    still_pace_s: float = 1500.0
    # Naps a day on top of the persona's.
    extra_naps: float = 0.0
    # Evenings: the chance an evening runs late, and by how many hours at most.
    late_evening_chance: float = 0.0
    late_evening_h: float = 0.0
    # Mornings: the chance of sleeping late, and by how many minutes at most.
    lie_in_chance: float = 0.0
    lie_in_min: float = 0.0
    # Visitors (family, friends) a week: a second person moving while the resident sits.
    visitors_per_week: float = 0.0
    # Whole days out (a day centre, family, work) a week.
    days_out_per_week: float = 0.0
    # Pressure pads report a burst of presses for each turn, not a held
    # "occupied": turns an hour in bed and in the chair (0 = the pad holds its state).
    bed_turns_per_hour: float = 0.0
    chair_shifts_per_hour: float = 0.0
    # Share of the resident's movement each room's PIR sees (the chair or bed
    # out of its view): 1.0 sees everything a PIR could.
    lounge_seen: float = 1.0
    bedroom_seen: float = 1.0
    # Sensor ids the installer did not fit.
    unfitted: frozenset[str] = frozenset()
    # Short trips out (the shop, the post, a walk) a day, fitted into the day's sitting.
    errands_per_day: float = 0.0
    # Evenings out after dinner (a club, family, the pub): the chance, and hours out at most.
    evening_out_chance: float = 0.0
    evening_out_h: float = 0.0
    # Out most weekdays from morning to late afternoon (work, volunteering, a day
    # centre): the chance on a weekday (0 = not such a home).
    weekday_out_chance: float = 0.0
    # Devices that stick "on" (a door left ajar, a PIR latched, a pad held down) or go
    # quiet for days: spells a month.
    stuck_per_month: float = 0.0
    # The share of evenings out that run past the usual bed time (home late from
    # family, a party, the theatre, and straight to bed).
    late_night_out_share: float = 0.0
    # The share of the afternoon naps taken lying on the bed rather than in the chair.
    nap_in_bed_share: float = 0.0
    # Spells a week in the garden or out of the back door (the washing, the bins, a
    # chat over the fence) on a dry summer day: out of every sensor's sight, and
    # not through the front door.
    garden_per_week: float = 0.0
    # Good days and slow days: the day's pace of movement (and its drinks, outings
    # and still spells) is the persona's times a log-normal factor with this spread
    # (0 = every day alike). Tired, unwell, low, or a lazy Sunday.
    day_to_day_sd: float = 0.0
    # Nights up past midnight: the chance a night is one, and how many hours after
    # midnight it runs at most. The resident sits on in the lounge (or comes home
    # late), goes to bed the next calendar day and sleeps late after it.
    past_midnight_chance: float = 0.0
    past_midnight_h: float = 0.0
    # Long lie-ins a month (two hours or more past the usual getting up).
    long_lie_ins_per_month: float = 0.0
    # The share of trips out made by the back door, which no telecare sensor watches.
    back_door_share: float = 0.0

    @property
    def pulsing_pads(self) -> bool:
        """Whether the bed and chair pads pulse rather than hold."""
        return self.bed_turns_per_hour > 0 or self.chair_shifts_per_hour > 0

    @classmethod
    def draw(cls, rng: random.Random, realism: Realism) -> HomeTraits:
        """This home's traits, drawn around what the real homes show and scaled by ``realism``."""

        def scale(feature: float) -> float:
            return feature * realism.level

        def log_uniform(low: float, high: float) -> float:
            return math.exp(rng.uniform(math.log(low), math.log(high)))

        # Every draw happens whatever the scale, so turning one feature down
        # leaves the others' values (and the home's other randomness) alone.
        still = scale(realism.still_spells)
        still_count, still_min = rng.uniform(1.5, 4.0), rng.uniform(75, 200)
        naps = scale(realism.naps) * rng.uniform(0.2, 1.0)
        late = scale(realism.late_evenings)
        late_chance, late_h = rng.uniform(0.1, 0.4), rng.uniform(1.0, 3.0)
        lie = scale(realism.lie_ins)
        lie_chance, lie_min = rng.uniform(0.1, 0.35), rng.uniform(45, 150)
        visitors = scale(realism.visitors) * rng.uniform(0.5, 4.0)
        days_out = scale(realism.days_out) * rng.choice((0.0, 0.3, 1.0, 3.0))
        pads = scale(realism.pulsing_pads)
        pulsing = rng.random() < 0.85 * pads
        bed_turns, chair_shifts = log_uniform(0.5, 4), log_uniform(0.2, 1.5)
        blind = scale(realism.pir_blind_spots)
        lounge_seen = 1 - blind * rng.uniform(0.3, 0.9)
        bedroom_seen = 1 - blind * rng.uniform(0.2, 0.8)
        cover = scale(realism.uncovered_rooms)
        # Six draws, as when each of six sensors was drawn on its own: the same homes
        # lack a front door, a chair pad or a kettle plug as before, and the draws
        # after these are unchanged.
        kit, which, _, *others = (rng.random() for _ in range(6))
        unfitted = _day_pirs_unfitted(kit, which, cover) | frozenset(
            s for (s, p), u in zip(_UNFITTED_CHANCE.items(), others, strict=True) if u < p * cover
        )
        # (Drawn after the features above, so adding these left those homes' values alone.)
        errands = scale(realism.errands) * rng.choice(_ERRANDS_PER_DAY)
        evenings = scale(realism.evenings_out)
        evening_chance, evening_h = rng.choice(_EVENING_OUT_CHANCE), rng.uniform(2.0, 4.5)
        busy = rng.random() < _BUSY_WEEKDAYS_SHARE * scale(realism.busy_weekdays)
        stuck = scale(realism.stuck_devices) * log_uniform(*_STUCK_PER_MONTH)
        # (Drawn last, for the same reason.)
        late_night_out = evenings * rng.uniform(*_LATE_NIGHT_OUT_SHARE)
        nap_in_bed = scale(realism.naps) * rng.choice(_NAP_IN_BED_SHARE)
        garden = scale(realism.garden) * rng.choice(_GARDEN_PER_WEEK)
        slow_days = scale(realism.slow_days) * rng.uniform(*_DAY_TO_DAY_SD)
        # (Drawn last, for the same reason.)
        past_midnight = scale(realism.past_midnight)
        owl_chance, owl_h = rng.choice(_PAST_MIDNIGHT_CHANCE), rng.uniform(*_PAST_MIDNIGHT_H)
        long_lie_ins = scale(realism.long_lie_ins) * rng.choice(_LONG_LIE_INS_PER_MONTH)
        back_door = scale(realism.back_door) * rng.choice(_BACK_DOOR_SHARE)
        return cls(
            still_spells_per_day=still * still_count,
            still_spell_min=still_min if still else 60.0,
            extra_naps=naps,
            late_evening_chance=late * late_chance,
            late_evening_h=late_h if late else 0.0,
            lie_in_chance=lie * lie_chance,
            lie_in_min=lie_min if lie else 0.0,
            visitors_per_week=visitors,
            days_out_per_week=days_out,
            bed_turns_per_hour=bed_turns if pulsing else 0.0,
            chair_shifts_per_hour=chair_shifts if pulsing else 0.0,
            lounge_seen=lounge_seen,
            bedroom_seen=bedroom_seen,
            unfitted=unfitted,
            errands_per_day=errands,
            evening_out_chance=evenings * evening_chance,
            evening_out_h=evening_h if evenings else 0.0,
            weekday_out_chance=_BUSY_WEEKDAY_CHANCE if busy else 0.0,
            stuck_per_month=stuck,
            late_night_out_share=late_night_out if evening_chance else 0.0,
            nap_in_bed_share=nap_in_bed if naps else 0.0,
            garden_per_week=garden,
            day_to_day_sd=slow_days,
            past_midnight_chance=past_midnight * owl_chance,
            past_midnight_h=owl_h if past_midnight * owl_chance else 0.0,
            long_lie_ins_per_month=long_lie_ins,
            back_door_share=back_door,
        )


def _day_pirs_unfitted(kit: float, which: float, cover: float) -> frozenset[str]:
    """The day rooms' PIRs a home lacks, from two uniform draws: the kit, and which PIR is left out.

    >>> sorted(_day_pirs_unfitted(0.1, 0.5, 1.0)), sorted(_day_pirs_unfitted(0.3, 0.7, 1.0))
    (['hall-pir', 'kitchen-pir', 'lounge-pir'], ['lounge-pir'])
    >>> _day_pirs_unfitted(0.1, 0.5, 0.0), _day_pirs_unfitted(0.9, 0.5, 1.0)
    (frozenset(), frozenset())
    """
    if kit < _NIGHT_KIT_SHARE * cover:
        return frozenset(_DAY_PIRS)
    if kit < (_NIGHT_KIT_SHARE + _ONE_LEFT_OUT_SHARE) * cover:
        return frozenset({next(pir for pir, upto in _LEFT_OUT if which < upto)})
    return frozenset()


TIDY = HomeTraits()
"""A home with none of the realism: every room covered, pads that hold, a resident on the timetable."""


def realism_overrides(items: Sequence[str]) -> dict[str, float]:
    """``key=value`` pairs of the scenario's ``[realism]`` table, checked against its keys.

    >>> realism_overrides(["level=0.5", "visitors=0"])
    {'level': 0.5, 'visitors': 0.0}
    """
    found: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in Realism.model_fields:
            raise ValueError(
                f"--realism {item!r}: give KEY=VALUE with KEY one of {', '.join(Realism.model_fields)}"
            )
        try:
            found[key] = float(value)
        except ValueError:
            raise ValueError(f"--realism {item!r}: {value!r} is not a number") from None
    return found

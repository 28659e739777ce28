"""A trial: how many homes, who lives in them, and how often what goes wrong.

A scenario file is TOML; every key is optional and the defaults are a
plausible mixed caseload (see docs/simulator.md). From a scenario and its
seed, :meth:`Scenario.homes` draws each home's persona and incidents, the same
every time.

>>> trial = Scenario.model_validate({"trial": {"homes": 3, "days": 30, "seed": 4}})
>>> [h.hub for h in trial.homes()]
['hub-sim-0001', 'hub-sim-0002', 'hub-sim-0003']
>>> [h.persona.name for h in trial.homes()] == [h.persona.name for h in trial.homes()]
True
"""

from __future__ import annotations

import random
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from firmware_sim.climate import Weather
from firmware_sim.devices import SENSORS
from firmware_sim.home import SimulatedHome
from firmware_sim.incidents import (
    BatteryFlat,
    ColdHome,
    Decline,
    Fall,
    HubOffline,
    Incident,
    MissedMeals,
    NotUp,
    PendantPress,
    Uti,
    WanderOut,
)
from firmware_sim.persona import PERSONAS, Persona
from firmware_sim.realism import TIDY, HomeTraits, Realism
from firmware_sim.routine import poisson

__all__ = ["HomeSpec", "Scenario", "ScenarioError", "load_scenario"]


class ScenarioError(ValueError):
    """A scenario file that cannot be used, with what to change."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trial(_Strict):
    """The trial as a whole."""

    homes: int = Field(default=10, ge=1, le=100_000)
    days: int = Field(default=30, ge=1, le=3650)
    seed: int = 1
    start: date = date(2026, 10, 5)
    timezone: str = "Europe/London"
    hub_prefix: str = "hub-sim-"
    # No incidents in the first days: detectors learn the routine first.
    quiet_days: int = Field(default=14, ge=0)
    sensor_dropouts_per_month: float = Field(default=0.2, ge=0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/London)") from None
        return value


class Incidents(_Strict):
    """Expected incidents per home per 30 days, by kind."""

    fall: float = Field(default=0.25, ge=0)
    # Of the falls: the share at night on the way to the toilet, and of the
    # others the share in the bathroom or hall (where most falls at home happen).
    fall_at_night_share: float = Field(default=0.3, ge=0, le=1)
    fall_bathroom_or_hall_share: float = Field(default=0.6, ge=0, le=1)
    not_up: float = Field(default=0.25, ge=0)
    # Of the not-ups: the share on a day the resident would have slept late anyway.
    not_up_after_lie_in_share: float = Field(default=0.35, ge=0, le=1)
    wander_out: float = Field(default=0.05, ge=0)
    # Night wanderers go out of the door this many times more often.
    wander_out_night_waker_factor: float = Field(default=8.0, ge=0)
    uti: float = Field(default=0.1, ge=0)
    missed_meals: float = Field(default=0.2, ge=0)
    cold_home: float = Field(default=0.08, ge=0)
    decline: float = Field(default=0.03, ge=0)
    hub_offline: float = Field(default=0.3, ge=0)
    battery_flat: float = Field(default=0.05, ge=0)
    pendant: float = Field(default=0.3, ge=0)


class Scenario(_Strict):
    """A whole scenario file."""

    trial: Trial = Trial()
    personas: dict[str, float] = Field(
        default_factory=lambda: {
            "steady": 3.0,
            "early_riser": 2.0,
            "chair_bound": 2.0,
            "night_waker": 1.0,
            "with_carer": 2.0,
        }
    )
    incidents: Incidents = Incidents()
    realism: Realism = Realism()

    @field_validator("personas")
    @classmethod
    def _known_personas(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(PERSONAS))
        if unknown:
            raise ValueError(f"unknown persona {unknown[0]!r}; choose from {sorted(PERSONAS)}")
        if not any(w > 0 for w in value.values()) or any(w < 0 for w in value.values()):
            raise ValueError("persona weights must be zero or more, and one of them positive")
        return value

    def with_trial(self, **changes: object) -> Scenario:
        """The same scenario with some trial settings replaced (command-line overrides)."""
        given = {k: v for k, v in changes.items() if v is not None}
        trial = Trial.model_validate(self.trial.model_dump() | given)
        return self.model_copy(update={"trial": trial})

    def start(self) -> datetime:
        """Local midnight of the first day, in UTC."""
        zone = ZoneInfo(self.trial.timezone)
        return datetime.combine(self.trial.start, time(0), zone).astimezone(UTC)

    def weather(self) -> Weather:
        """The trial's weather, shared by every home."""
        return Weather(seed=self.trial.seed)

    def homes(self) -> Iterator[HomeSpec]:
        """Each home of the trial: hub id, seed, persona and incidents."""
        for i in range(self.trial.homes):
            yield self.home(i)

    def home(self, index: int) -> HomeSpec:
        """Home number ``index`` (from 0)."""
        t = self.trial
        rng = random.Random(f"trial:{t.seed}:home:{index}")
        names = [n for n, w in self.personas.items() if w > 0]
        persona = PERSONAS[rng.choices(names, weights=[self.personas[n] for n in names])[0]]
        # Its own generator: turning realism down leaves personas and incidents as they were.
        traits = HomeTraits.draw(random.Random(f"trial:{t.seed}:home:{index}:traits"), self.realism)
        return HomeSpec(
            hub=f"{t.hub_prefix}{index + 1:04d}",
            seed=t.seed * 1_000_003 + index,
            persona=persona,
            incidents=tuple(_draw_incidents(self, persona, traits, rng, index)),
            traits=traits,
        )

    def build(self, spec: HomeSpec, *, start: datetime | None = None) -> SimulatedHome:
        """The simulated home a spec describes, from the trial's start or ``start``."""
        return SimulatedHome(
            home_id=spec.hub,
            start=start or self.start(),
            seed=spec.seed,
            tz=self.trial.timezone,
            persona=spec.persona,
            incidents=spec.incidents,
            weather=self.weather(),
            sensor_dropouts_per_month=self.trial.sensor_dropouts_per_month,
            traits=spec.traits,
        )


@dataclass(slots=True, frozen=True)
class HomeSpec:
    """One home of a trial before it is simulated."""

    hub: str
    seed: int
    persona: Persona
    incidents: tuple[Incident, ...]
    traits: HomeTraits = TIDY


def _draw_incidents(
    scenario: Scenario, persona: Persona, traits: HomeTraits, rng: random.Random, index: int
) -> Iterator[Incident]:
    t, rates = scenario.trial, scenario.incidents
    # Where and how (night falls, lie-ins) from a generator of their own, so the
    # incidents' kinds and days stay those a tidy trial of the same seed draws.
    how = random.Random(f"trial:{t.seed}:home:{index}:how")
    zone = ZoneInfo(t.timezone)
    months = t.days / 30
    days = list(range(t.quiet_days, t.days))
    if not days:
        return
    # At most one behavioural incident a day, so each label has one cause.
    taken: set[int] = set()

    def some_day() -> date | None:
        free = [d for d in days if d not in taken and d - 1 not in taken and d + 1 not in taken]
        if not free:
            return None
        d = rng.choice(free)
        taken.add(d)
        return t.start + timedelta(days=d)

    def local(day: date, hour: float) -> datetime:
        midnight = datetime.combine(day, time(0), zone)
        return (midnight + timedelta(hours=hour)).astimezone(UTC)

    def count(rate: float) -> int:
        return poisson(rng, rate * months)

    for _ in range(count(rates.fall)):
        if (day := some_day()) is None:
            continue
        at = local(day, rng.uniform(8.5, 20.0))
        if how.random() < rates.fall_at_night_share:
            # Up in the small hours for the toilet, and down in the hall or bathroom.
            at = local(day, how.uniform(0.5, 5.0))
            yield Fall(at, rooms=("hall", "bathroom"), on_way_to_toilet=True)
        elif how.random() < rates.fall_bathroom_or_hall_share:
            yield Fall(at, rooms=("bathroom", "hall"))
        else:
            yield Fall(at)
    for _ in range(count(rates.not_up)):
        # On a day they would have slept late anyway (a late night, a lazy
        # morning), not where a carer calls every morning and gets them up.
        lie_in = how.random() < rates.not_up_after_lie_in_share
        lie_in = lie_in and persona.carer_visit_hour is None
        if (day := some_day()) is not None:
            late = timedelta(minutes=how.uniform(45, 150)) if lie_in else timedelta(0)
            yield NotUp(day, timedelta(minutes=rng.uniform(120, 300)), lie_in=late)
    wander = rates.wander_out * (
        rates.wander_out_night_waker_factor if persona.night_wanders > 0 else 1.0
    )
    for _ in range(count(wander)):
        if (day := some_day()) is not None:
            yield WanderOut(
                local(day, rng.uniform(0.5, 4.5)), timedelta(minutes=rng.uniform(15, 60))
            )
    for _ in range(count(rates.missed_meals)):
        if (day := some_day()) is not None:
            yield MissedMeals(day, rng.choice((("lunch",), ("dinner",), ("lunch", "dinner"))))
    for _ in range(count(rates.uti)):
        if (day := some_day()) is not None:
            yield Uti(day, days=rng.randint(4, 7), factor=rng.uniform(3.0, 5.0))
    for _ in range(count(rates.decline)):
        yield Decline(t.start + timedelta(days=rng.choice(days)), days=rng.randint(20, 45))
    for _ in range(count(rates.cold_home)):
        day = t.start + timedelta(days=rng.choice(days))
        yield ColdHome(local(day, rng.uniform(0, 24)), timedelta(hours=rng.uniform(12, 48)))
    for _ in range(count(rates.hub_offline)):
        day = t.start + timedelta(days=rng.choice(days))
        yield HubOffline(local(day, rng.uniform(0, 24)), timedelta(hours=rng.uniform(0.5, 12)))
    batteries = [
        d.sensor
        for d in SENSORS
        if d.kind not in ("power", "pendant") and d.sensor not in traits.unfitted
    ]
    for _ in range(count(rates.battery_flat)):
        day = t.start + timedelta(days=rng.choice(days))
        yield BatteryFlat(local(day, rng.uniform(0, 24)), sensor=rng.choice(batteries))
    for _ in range(count(rates.pendant)):
        day = t.start + timedelta(days=rng.choice(days))
        yield PendantPress(local(day, rng.uniform(8.0, 21.0)))


def load_scenario(path: Path) -> Scenario:
    """Read a scenario file; a mistake is a :class:`ScenarioError` naming the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"scenario {path} is not valid TOML: {exc}") from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ScenarioError(f"scenario {path}: {problems}") from None

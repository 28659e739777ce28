"""Weather outside and warmth inside: what the room thermometers report.

The weather is shared by every home of a trial (the same rain on the same
day), drawn from the trial's seed and the date, around UK monthly means. Each
home's heating keeps the lounge at its day set point and no lower than 18.5 °C
at night; when it fails, rooms cool towards the outside temperature over
hours, which is what a cold-home incident looks like to the thermometers.

>>> from datetime import date
>>> Weather(seed=1).on(date(2026, 1, 10)).mean_c < Weather(seed=1).on(date(2026, 7, 10)).mean_c
True
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

__all__ = ["COLD_LIMIT_C", "DayWeather", "Heating", "Weather"]

# Public Health England: at least 18 °C in the rooms older people live in.
COLD_LIMIT_C = 18.0
# Mean daily temperature by month in lowland England (Met Office 1991-2020, rounded).
_MONTHLY_MEAN_C = (5.0, 5.2, 7.0, 9.2, 12.3, 15.2, 17.3, 17.0, 14.6, 11.3, 7.8, 5.3)
_RAIN_CHANCE = (0.45, 0.4, 0.38, 0.35, 0.35, 0.33, 0.33, 0.36, 0.36, 0.42, 0.45, 0.45)
_STEP_S = 600.0
# How fast rooms lose heat with the heating off, and gain it with the heating on.
_COOL_TAU_S = 20 * 3600.0
_WARM_TAU_S = 3600.0
_NIGHT_SET_POINT_C = 18.5
_COOL_STEP = 1 - math.exp(-_STEP_S / _COOL_TAU_S)
_WARM_STEP = 1 - math.exp(-_STEP_S / _WARM_TAU_S)


@dataclass(slots=True, frozen=True)
class DayWeather:
    """One day's weather: rain and the mean outdoor temperature."""

    rain: bool
    mean_c: float


@dataclass(slots=True, frozen=True)
class Weather:
    """The region's weather, the same for every home of a trial."""

    seed: int

    def on(self, day: date) -> DayWeather:
        """The weather on ``day``."""
        rng = random.Random(f"weather:{self.seed}:{day.isoformat()}")
        month = day.month - 1
        return DayWeather(
            rain=rng.random() < _RAIN_CHANCE[month],
            mean_c=_MONTHLY_MEAN_C[month] + rng.gauss(0, 2.5),
        )


def outside_c(weather: DayWeather, local_hour: float) -> float:
    """Outdoor temperature: coldest about 05:00, warmest about 15:00."""
    return weather.mean_c + 3.0 * math.cos((local_hour - 15.0) / 24 * 2 * math.pi)


@dataclass(slots=True)
class _Room:
    sensor: str
    offset_c: float
    temp_c: float
    reported_at: float = -math.inf
    reported_c: float = math.nan


@dataclass(slots=True)
class Heating:
    """A home's heating and its two room thermometers (lounge, bedroom)."""

    set_point_c: float
    on_hour: float = 6.5
    off_hour: float = 22.5
    # [start, end) epoch seconds when the heating does not work.
    failures: list[tuple[float, float]] = field(default_factory=list)
    rooms: list[_Room] = field(default_factory=list)
    # When the lounge went below the limit during a failure, while it stays so.
    cold_since: float | None = None
    clock_s: float | None = None
    _spells: list[tuple[float, float]] = field(default_factory=list)

    @classmethod
    def fitted(cls, rng: random.Random) -> Heating:
        """A home's heating with its own set point (19.5 to 22 °C)."""
        set_point = round(rng.uniform(19.5, 22.0), 1)
        return cls(
            set_point_c=set_point,
            rooms=[_Room("lounge-temp", 0.0, set_point), _Room("bedroom-temp", -1.5, set_point)],
        )

    def failed(self, ts: float) -> bool:
        """Whether the heating is broken at ``ts``."""
        return any(a <= ts < b for a, b in self.failures)

    def run(
        self,
        start: float,
        end: float,
        local_hour_at_start: float,
        weather: DayWeather,
        rng: random.Random,
    ) -> Iterator[tuple[str, float, float, float]]:
        """Step from ``start`` to ``end``: (sensor, ts, °C, humidity %) whenever a thermometer reports.

        Also tracks :attr:`cold_since`; :meth:`take_cold_spells` hands over
        finished spells.
        """
        t = start if self.clock_s is None else self.clock_s
        while t < end:
            hour = (local_hour_at_start + (t - start) / 3600) % 24
            outside = outside_c(weather, hour)
            working = not self.failed(t)
            for room in self.rooms:
                wanted = self.set_point_c + room.offset_c
                if not (self.on_hour <= hour < self.off_hour):
                    wanted = _NIGHT_SET_POINT_C + room.offset_c / 2
                # Rooms leak heat towards outside (plus what the house gains).
                cooled = room.temp_c + (outside + 3.0 - room.temp_c) * (
                    1 - math.exp(-_STEP_S / _COOL_TAU_S)
                )
                if working and cooled < wanted:
                    room.temp_c += (wanted - room.temp_c) * _WARM_STEP
                    room.temp_c = max(room.temp_c, cooled)
                else:
                    room.temp_c = cooled
                seen = room.temp_c + rng.gauss(0, 0.08)
                # Like Aqara thermometers: on a change of 0.3 °C, or at least hourly.
                if abs(seen - room.reported_c) >= 0.3 or t - room.reported_at >= 3600:
                    room.reported_at, room.reported_c = t, seen
                    humidity = 50.0 + 8 * math.sin(hour / 24 * 2 * math.pi) + rng.gauss(0, 2)
                    yield room.sensor, t, round(seen, 2), round(humidity, 1)
            lounge = self.rooms[0].temp_c
            if lounge < COLD_LIMIT_C and not working and self.cold_since is None:
                self.cold_since = t
            elif self.cold_since is not None and lounge >= COLD_LIMIT_C:
                self._spells.append((self.cold_since, t))
                self.cold_since = None
            t += _STEP_S
        self.clock_s = t

    def take_cold_spells(self) -> list[tuple[float, float]]:
        """Spells (start, end) of a failed heating's lounge below the limit, ended since last asked."""
        spells, self._spells = self._spells, []
        return spells

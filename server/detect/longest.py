"""Each day's longest silence, by place and time of day, and a limit set from a false-alarm budget.

A no-movement alert is raised when a silence outlasts its limit, so a limit is
passed at most once a day in a place and band exactly when that day's
*longest* silence there is longer than it. The limit is therefore set from the
distribution of each day's longest silence (block maxima), not from a share of
all gaps: "99.9 % of gaps are shorter" raises every ten days per band for
someone with a hundred gaps a day, and never for someone with ten. Here the
chance that a day's longest silence passes the limit is chosen so that the
expected false alerts of the home add up to a budget per resident-month,
whatever the number of gaps:

- each cell (a place and a three-hour band) gets an equal share of the daily budget
  among the cells the resident actually uses on a typical day;
- the cell's daily longest silences (minutes, on the days it was used) are
  fitted with a Gumbel distribution by moments (extreme-value theory: the
  maximum of many gaps), blended with a population prior worth
  ``PRIOR_DAYS`` days, so a new home starts from the prior and its own days
  take over as they come; the prior can only make a limit longer than the
  resident's own days say, never shorter;
- the limit is the Gumbel quantile for that chance plus one standard error of
  the estimate, so it is honestly wider while there are few days.

The last ``DAYS`` days are kept (older ones are forgotten, so a changed routine
is followed). Pure: the caller hands in each completed gap with its local day.

>>> longest = Longest()
>>> for day in range(20):
...     longest.learn(day=day, cell=cell_of(band=4, place=0), minutes=30.0 + day % 5)
>>> longest.learn(day=20, cell=0, minutes=1.0)  # closes day 19
>>> round(longest.limit(cell_of(band=4, place=0), place=0, per_day=0.5 / 30))
54
"""

from __future__ import annotations

import math
import sys
from array import array
from collections import deque

from server.detect.gaps import BANDS, BATHROOM, IN_BED, IN_CHAIR, PLACES, UP

__all__ = ["CELLS", "DAYS", "PRIOR_DAYS", "Longest", "cell_of"]

CELLS = BANDS * len(PLACES)
DAYS = 28
# The population prior counts as this many days of the resident's own: enough to
# steady the first week, little enough that a month of their own days rules.
PRIOR_DAYS = 4.0
# A population's daily longest silence per place (mean and spread, minutes), from
# typical older residents' days (the simulator's population, rounded up): someone up
# and about is still for 40 min at most in a band on a usual day, 12 min in the
# bathroom, an hour in the chair, 90 min on the bed by day.
_PRIOR_MINUTES = {
    UP: (40.0, 20.0),
    BATHROOM: (12.0, 8.0),
    IN_CHAIR: (60.0, 30.0),
    IN_BED: (90.0, 45.0),
}
# The share of days a cell is used before the home has shown its own.
_PRIOR_ACTIVE = 0.5
_EULER = 0.5772156649
_GUMBEL_SCALE = math.sqrt(6) / math.pi


def _empty() -> array[float]:
    return array("f", bytes(4 * CELLS))


def cell_of(*, band: int, place: int) -> int:
    """The index of a (band, place) cell."""
    return band * len(PLACES) + place


class Longest:
    """The last ``DAYS`` days' longest silence per cell, today's so far, and held silences."""

    __slots__ = ("_active_sum", "day", "days", "held", "today")

    def __init__(self) -> None:
        # The local day being collected (a date's ordinal) and its longest silences.
        self.day: int | None = None
        # Single-precision arrays: 28 days of 32 cells is 3.5 KiB, not 30 as Python floats.
        self.today = _empty()
        # Closed days, oldest first: (ordinal, minutes per cell; 0 = not used that day).
        self.days: deque[tuple[int, array[float]]] = deque(maxlen=DAYS)
        # Alerted silences waiting to be learned: [day, cell, minutes, learn after, began]
        # (times in epoch s).
        self.held: list[list[float]] = []
        self._active_sum: float | None = None

    def learn(self, *, day: int, cell: int, minutes: float) -> None:
        """A completed silence that began on local ``day`` in ``cell``."""
        if self.day != day:
            if self.day is not None and day < self.day:
                return  # older than the day being collected: it cannot be the day's news
            self._close()
            self.day = day
        if minutes > self.today[cell]:
            self.today[cell] = minutes

    def _close(self) -> None:
        if self.day is not None and any(self.today):
            self.days.append((self.day, self.today))
        self.today = _empty()
        self._active_sum = None

    def hold(
        self, *, day: int, cell: int, minutes: float, learn_after: float, began: float
    ) -> None:
        """An alerted silence that ended in movement: learned unless an incident is confirmed.

        ``began`` (epoch s) names the silence, so a person's outcome finds it.
        """
        self.held.append([float(day), float(cell), minutes, learn_after, began])

    def withdraw(self, began: float) -> bool:
        """A person confirmed the silence that began at ``began`` was an incident: not routine."""
        kept = [item for item in self.held if item[4] != began]
        had = len(kept) < len(self.held)
        self.held = kept
        return had

    def mature(self, now: float) -> None:
        """Learn the held silences nobody confirmed as an incident by their time."""
        kept = []
        for item in self.held:
            day, cell, minutes, after, _ = item
            if after > now:
                kept.append(item)
                continue
            if int(day) == self.day:
                self.today[int(cell)] = max(self.today[int(cell)], minutes)
            else:
                for ordinal, cells in self.days:
                    if ordinal == int(day):
                        cells[int(cell)] = max(cells[int(cell)], minutes)
                        break
                else:
                    if self.day is not None and int(day) > self.day:
                        self.learn(day=int(day), cell=int(cell), minutes=minutes)
            self._active_sum = None
        self.held = kept

    def days_seen(self) -> int:
        """How many days of the resident's own there are."""
        return len(self.days)

    def _active_cells(self) -> float:
        """The number of cells a typical day uses (shrunk towards the prior)."""
        if self._active_sum is None:
            n = len(self.days)
            used = [0] * CELLS
            for _, cells in self.days:
                for i, minutes in enumerate(cells):
                    if minutes > 0:
                        used[i] += 1
            self._active_sum = sum(
                (u + PRIOR_DAYS * _PRIOR_ACTIVE) / (n + PRIOR_DAYS) for u in used
            )
        return self._active_sum

    def limit(self, cell: int, *, place: int, per_day: float, spreads: float = 1.0) -> float:
        """Minutes a silence in ``cell`` may last so that false alerts stay within ``per_day``.

        ``per_day`` is the home's budget of false alerts a day (a month's over 30);
        ``spreads`` the standard errors added for the uncertainty of the fit.
        """
        values = [cells[cell] for _, cells in self.days if cells[cell] > 0]
        n = len(self.days)
        k = len(values)
        share = (k + PRIOR_DAYS * _PRIOR_ACTIVE) / (n + PRIOR_DAYS)
        # The chance a used day's longest silence may pass the limit.
        chance = min(0.5, per_day / max(self._active_cells(), 1.0) / share)
        prior_mean, prior_sd = _PRIOR_MINUTES[place]
        mean = sum(values) / k if k else prior_mean
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (k - 1)) if k > 1 else prior_sd
        weight = k + PRIOR_DAYS
        # The prior may make the limit more patient while days are few, never less
        # patient than the resident's own days have shown: blended, but not below theirs.
        beta = max(sd, (k * sd + PRIOR_DAYS * prior_sd) / weight) * _GUMBEL_SCALE
        mu = max(mean, (k * mean + PRIOR_DAYS * prior_mean) / weight) - _EULER * beta
        y = -math.log(-math.log(1 - chance))
        # The standard error of a moments-fitted Gumbel quantile (Gumbel 1958; Cunnane 1989).
        error = beta * math.sqrt((1.1589 + 0.1919 * y + 1.1 * y * y) / weight)
        return mu + beta * y + spreads * error

    def usual(self, cell: int) -> tuple[float, float, int] | None:
        """The median and longest of the cell's daily longest silences, and on how many days."""
        values = sorted(cells[cell] for _, cells in self.days if cells[cell] > 0)
        if not values:
            return None
        return values[len(values) // 2], values[-1], len(values)

    def state(self) -> dict[str, object]:
        """The checkpoint form: each day's cells as little-endian float32 bytes, as kept."""
        return {
            "day": self.day,
            "today": _to_bytes(self.today),
            "days": [[d, _to_bytes(cells)] for d, cells in self.days],
            "held": self.held,
        }

    @classmethod
    def restore(cls, state: dict[str, object] | None) -> Longest:
        """From :meth:`state`, or its JSON form (checkpoint formats up to 4: cells as lists).

        An older checkpoint without it starts empty.
        """
        longest = cls()
        if not state:
            return longest
        day = state["day"]
        longest.day = int(day) if isinstance(day, int) else None
        today = state["today"]
        days = state["days"]
        held = state["held"]
        if not isinstance(days, list) or not isinstance(held, list):
            raise ValueError("malformed daily longest silences")
        longest.today = _cells(today)
        longest.days.extend((int(d), _cells(cells)) for d, cells in days)
        longest.held = [[float(x) for x in item] for item in held]
        return longest


def _to_bytes(cells: array[float]) -> bytes:
    if sys.byteorder == "little":
        return cells.tobytes()
    swapped = array("f", cells)
    swapped.byteswap()
    return swapped.tobytes()


def _cells(stored: object) -> array[float]:
    """One day's cells from a checkpoint: float32 bytes, or (formats up to 4) a list."""
    if isinstance(stored, bytes):
        if len(stored) != 4 * CELLS:
            raise ValueError("daily longest silences of another shape")
        cells = array("f", stored)
        if sys.byteorder != "little":
            cells.byteswap()
        return cells
    if not isinstance(stored, list):
        raise ValueError("malformed daily longest silences")
    if len(stored) != CELLS:
        raise ValueError("daily longest silences of another shape")
    return array("f", [float(m) for m in stored])

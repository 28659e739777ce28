"""The whole day at once: several measures a little off together, for several days.

The other drift detectors watch one measure each (night toilet visits, movements,
meals). Illness, pain or low mood often shows as many small changes at once:
up later, fewer trips to the kitchen, not going out, restless nights, none of
them far enough off on its own. This view scores each finished day on seven
measures together against the resident's own last four weeks:

1. each measure as a robust z-score (median and MAD of their own days, with a
   floor so a very regular resident is not flagged for a few minutes);
2. the z-scores' covariance, refitted each day on their own days with
   scikit-learn's Ledoit-Wolf shrinkage (four weeks of seven measures is too
   few for a plain covariance), so measures that move together (a day out is
   fewer movements at home *and* hours out) count once;
3. the squared Mahalanobis distance of the day; past the chi-squared 99.5 %
   point it is an unusual day.

Three unusual days of the last four raise an advisory that names the measures
that moved, with their usual values. Unusual days are not learned as usual
(so a drift is not learned away) until an advisory has told someone, or they
have gone on for a fortnight: then they are the resident's new normal.

Its own state (:class:`DayProfile`: the usual days, the last few days' scores, and
today's counts so far) and checkpoint section, ``day_profile``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.covariance import LedoitWolf

from server.detect.hours import clock
from server.domain.alerts import AlertKind
from server.domain.findings import Condition

if TYPE_CHECKING:  # feedback reads the home's state, which holds this one
    from server.detect.feedback import Eagerness

__all__ = [
    "MEASURES",
    "DayCounts",
    "DayModel",
    "DayProfile",
    "close_profile_day",
    "covered_lately",
    "learn_recent_days",
]

MEASURES = (
    "wake",
    "night_toilets",
    "movements",
    "kitchen_visits",
    "hours_out",
    "night_moves",
    "bed",
)
# The smallest spread each measure is judged with: a resident up at 07:00 sharp
# every day is not unusual at 07:20.
_FLOORS = np.array([0.4, 0.7, 0.2, 1.5, 0.75, 2.0, 0.4])
# The way each measure moves when something is wrong: up later, more night toilet visits,
# fewer movements, fewer trips to the kitchen, less time out, more up at night; to bed
# either earlier (tired, low) or later (restless).
_WORRYING = np.array([1, 1, -1, -1, -1, 1, 0])
_LEARNED_DAYS = 14
_Z_CLIP = 6.0
_Z_VARIANCE_FLOOR = 0.5
# chi-squared with seven degrees of freedom, 99.5 % (scipy.stats.chi2.ppf(0.995, 7)).
_UNUSUAL = 20.28
# The last days kept (DayProfile.recent's length), and how many must be unusual.
_WINDOW = 4
_NEEDED = 3
_NEW_NORMAL = 14
_QUIET_DAYS = 14
# A measure this many standard errors off over the unusual days is named in the reason.
_NAMED_OFF = 2.5


@dataclass(slots=True)
class DayCounts:
    """Today's counts so far: kitchen visits, hours out, movements about the house at night
    (away from bed, the toilet and the way between), and the hour they went to bed (NaN
    until they do)."""

    kitchen_visits: float = 0.0
    hours_out: float = 0.0
    night_moves: float = 0.0
    bed_time: float = math.nan

    def as_list(self) -> list[float]:
        """In the order checkpoints hold them."""
        return [self.kitchen_visits, self.hours_out, self.night_moves, self.bed_time]


@dataclass(slots=True)
class DayProfile:
    """The usual days, the last few days' scores, and today's getting-up hour, night
    toilet visits and counts."""

    days: deque[list[float]] = field(default_factory=lambda: deque(maxlen=28))
    recent: deque[list[float]] = field(default_factory=lambda: deque(maxlen=_WINDOW))
    # Recent unusual days kept out of the baseline, to learn if people say they were fine.
    held: deque[list[float]] = field(default_factory=lambda: deque(maxlen=_WINDOW))
    run: int = 0
    raised_on: date | None = None
    wake: float | None = None
    toilets: int | None = None
    today: DayCounts = field(default_factory=DayCounts)

    def section(self) -> dict[str, Any]:
        """The checkpoint section (the names are those of the first checkpoints)."""
        return {
            "profile_raised_on": self.raised_on.isoformat() if self.raised_on else None,
            "profile_run": self.run,
            "profile_wake": self.wake,
            "profile_toilets": self.toilets,
            "profile_counts": self.today.as_list(),
            "profile_days": list(self.days),
            "profile_recent": list(self.recent),
            "profile_held": list(self.held),
        }

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> DayProfile:
        """A state from :meth:`section`; a checkpoint from before the profile has none of it."""
        raised_on = section.get("profile_raised_on")
        counts = section.get("profile_counts")
        state = cls(
            run=section.get("profile_run", 0),
            raised_on=date.fromisoformat(raised_on) if raised_on else None,
            wake=section.get("profile_wake"),
            toilets=section.get("profile_toilets"),
            today=DayCounts(*counts) if counts is not None else DayCounts(),
        )
        state.days.extend(section.get("profile_days", []))
        state.recent.extend(section.get("profile_recent", []))
        state.held.extend(section.get("profile_held", []))
        return state


class DayModel:
    """A resident's usual days, fitted: what each measure usually is, and how they vary together.

    >>> days = [[7.0 + (i % 3) * 0.2, 1, 6.8, 8, 2, 1, 22.5] for i in range(20)]
    >>> model = DayModel(days)
    >>> model.distance([[7.2, 1, 6.8, 8, 2, 1, 22.5]]) < 3
    True
    >>> model.distance([[9.5, 4, 6.2, 2, 0, 9, 22.5]]) > _UNUSUAL
    True
    """

    def __init__(self, history: Sequence[Sequence[float]]) -> None:
        past = np.asarray(history, dtype=float)
        # A measure never seen (no getting-up time in four weeks) counts as always usual.
        self._seen = ~np.isnan(past).all(axis=0)
        past[:, ~self._seen] = 0.0
        self.usual = np.nanmedian(past, axis=0)
        self.spread = np.maximum(1.4826 * np.nanmedian(np.abs(past - self.usual), axis=0), _FLOORS)
        # Centred on the mean z, not zero: hours out are mostly 0 with a few long days, so
        # their mean is well above their median, and a run of usual days must score as usual.
        fitted = LedoitWolf().fit(self.z(past))
        self._centre = fitted.location_
        # A measure that never varied (never out) would make any change in it infinitely
        # unusual: its variance is floored, so it counts, but only as much as a usual one.
        covariance = fitted.covariance_ + np.diag(
            np.maximum(_Z_VARIANCE_FLOOR - np.diag(fitted.covariance_), 0.0)
        )
        self._precision = np.linalg.inv(covariance)
        self._sd = np.sqrt(np.diag(covariance))

    def z(self, days: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
        """Robust z-scores, one row per day; a NaN measure (not seen that day) counts as usual."""
        raw = (np.asarray(days, dtype=float) - self.usual) / self.spread * self._seen
        clipped: np.ndarray = np.clip(np.nan_to_num(raw), -_Z_CLIP, _Z_CLIP)
        return clipped

    def distance(self, days: Sequence[Sequence[float]]) -> float:
        """Squared Mahalanobis distance of the days' mean; chi-squared(7) when they are usual.

        The mean of n usual days varies n times less, so it is scaled back up: the
        same limit then holds for one day and for a week.
        """
        mean = self.z(days).mean(axis=0) - self._centre
        return float(len(days) * mean @ self._precision @ mean)

    def moved(self, days: Sequence[Sequence[float]]) -> dict[str, float]:
        """The measures off the worrying way over ``days``, most first, with their usual values."""
        mean_z = self.z(days).mean(axis=0) - self._centre
        # How many standard errors off: a week a little off is as telling as a day far off.
        off = np.abs(mean_z) / self._sd * math.sqrt(len(days))
        worrying = (np.sign(mean_z) == _WORRYING) | (_WORRYING == 0)
        order = sorted(range(len(MEASURES)), key=lambda i: -off[i])
        return {
            MEASURES[i]: float(self.usual[i]) for i in order if off[i] >= _NAMED_OFF and worrying[i]
        }


def close_profile_day(
    hub: str,
    profile: DayProfile,
    day: date,
    measures: list[float],
    *,
    closed_at: datetime,
    eagerness: Eagerness,
    covered: set[str],
) -> Condition | None:
    """A finished day: scored, learned if usual, and an advisory after several unusual ones.

    ``covered``: the measures a single-measure detector raised lately (:func:`covered_lately`).
    """
    history = list(profile.days)
    if len(history) < _LEARNED_DAYS:
        profile.days.append(measures)
        return None
    model = DayModel(history)
    today = model.distance([measures])
    limit = _UNUSUAL * eagerness.factor
    profile.recent.append([today, *measures])
    recent = list(profile.recent)
    days = [r[1:] for r in recent if r[0] > limit]
    unusual = today > limit
    # Unusual days are kept out of the baseline, so a change is not learned away before
    # anyone hears of it; once they have (an advisory lately), or it has gone on for a
    # fortnight (a usual day in between only slows the count), it is the new normal.
    profile.run = profile.run + 1 if unusual else max(0, profile.run - 1)
    raised = profile.raised_on
    told = raised is not None and (day - raised).days < _QUIET_DAYS
    if not unusual or told or profile.run > _NEW_NORMAL:
        profile.days.append(measures)
    else:
        profile.held.append(measures)
    if not unusual or told or len(days) < _NEEDED:
        return None
    moved = model.moved(days)
    # One measure off is the single-measure detectors' to judge; and a change they
    # have just raised (night toilet visits, a decline) is not news to the carer.
    if len(moved) < 2 or not set(moved) - covered:
        return None
    profile.raised_on = day
    changes = [_words(m, [d[MEASURES.index(m)] for d in days], u) for m, u in moved.items()]
    return Condition(
        hub=hub,
        kind=AlertKind.ROUTINE_CHANGE,
        event_at=closed_at,
        reason=(
            f"{len(days)} of the last {len(recent)} days were unlike their usual days in several "
            f"ways at once: {'; '.join(changes)}. Together this can mean illness, pain or low "
            f"mood: consider a call or a visit.{eagerness.note}"
        ),
        details={
            "days": len(days),
            "distance": round(today, 1),
            "moved": list(moved),
        },
    )


def learn_recent_days(profile: DayProfile) -> None:
    """People said the last change was nothing to worry about: its days are usual for them."""
    profile.days.extend(profile.held)
    profile.held.clear()
    profile.recent.clear()
    profile.run = 0


def covered_lately(
    day: date, *, toilets_raised_on: date | None, decline_raised_on: date | None
) -> set[str]:
    """Measures a single-measure detector (night toilets, the decline) raised lately."""
    covered = set()
    if toilets_raised_on is not None and (day - toilets_raised_on).days <= _QUIET_DAYS:
        covered |= {"night_toilets", "night_moves"}
    declined = decline_raised_on
    if declined is not None and (day - declined).days <= _QUIET_DAYS:
        covered |= {"movements"}
    return covered


def _words(measure: str, values: list[float], usual: float) -> str:
    def each(fmt: str) -> str:
        return ", ".join("not seen" if math.isnan(v) else fmt.format(v) for v in values)

    if measure in ("wake", "bed"):
        times = ", ".join("not seen" if math.isnan(v) else clock(v) for v in values)
        return (
            f"{'up' if measure == 'wake' else 'to bed'} at {times} (usually about {clock(usual)})"
        )
    if measure == "night_toilets":
        return f"night toilet visits {each('{:.0f}')} (usually {usual:.0f})"
    if measure == "movements":
        counts = ", ".join(f"{math.exp(v):.0f}" for v in values)
        return f"movements at home {counts} (usually {math.exp(usual):.0f})"
    if measure == "kitchen_visits":
        return f"in the kitchen {each('{:.0f}')} times a day (usually {usual:.0f})"
    if measure == "hours_out":
        return f"out {each('{:.1f}')} h a day (usually {usual:.1f} h)"
    return f"up and about at night {each('{:.0f}')} times (usually {usual:.0f})"

"""Night toilet visits rising over several nights against the resident's own baseline.

A CUSUM on each night's count, judged every morning: an advisory, "possible
infection". Its own state (tonight's count, the usual nights, the CUSUM) and
checkpoint section, ``night_toilets``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from server.detect.hours import MORNING_RECKONING, NIGHT_COUNT_UNTIL
from server.domain.alerts import AlertKind
from server.domain.findings import Condition, Finding

if TYPE_CHECKING:
    from server.detect.feedback import Eagerness

__all__ = ["NightToilets", "close_night", "count_toilet"]

# Ten nights of visits before a rise is judged against their own usual.
_NIGHTS_LEARNED = 10
# Raised again at most once a week: a rise lasts for days.
_AGAIN_DAYS = 7
# Bathroom readings closer together than this are one visit.
_ONE_VISIT = timedelta(minutes=10)


@dataclass(slots=True)
class NightToilets:
    """Tonight's visits, the usual nights, and the CUSUM of how far above usual."""

    counts: deque[int] = field(default_factory=lambda: deque(maxlen=28))
    tonight: int = 0
    # The night being counted, named by the morning it ends in.
    night_of: date | None = None
    last_bathroom: datetime | None = None
    raised_on: date | None = None
    # The last morning a night was judged on.
    closed_night: date | None = None
    cusum: float = 0.0
    recent: deque[int] = field(default_factory=lambda: deque(maxlen=3))

    def section(self) -> dict[str, Any]:
        """The checkpoint section (the names are those of the first checkpoints)."""
        return {
            "night_counts": list(self.counts),
            "tonight": self.tonight,
            "night_of": self.night_of.isoformat() if self.night_of else None,
            "last_bathroom": self.last_bathroom.isoformat() if self.last_bathroom else None,
            "toilets_raised_on": self.raised_on.isoformat() if self.raised_on else None,
            "closed_night": self.closed_night.isoformat() if self.closed_night else None,
            "toilet_cusum": self.cusum,
            "recent_nights": list(self.recent),
        }

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> NightToilets:
        """A state from :meth:`section`."""
        state = cls(
            tonight=section["tonight"],
            night_of=_day(section["night_of"]),
            last_bathroom=_time(section["last_bathroom"]),
            raised_on=_day(section["toilets_raised_on"]),
            closed_night=_day(section["closed_night"]),
            cusum=section["toilet_cusum"],
        )
        state.counts.extend(section["night_counts"])
        state.recent.extend(section["recent_nights"])
        return state


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def count_toilet(toilets: NightToilets, ts: datetime, *, hour: int, day: date) -> None:
    """A reading in the bathroom at local ``hour`` of ``day``: a visit if at night.

    >>> from datetime import UTC
    >>> toilets, day = NightToilets(), date(2026, 11, 3)
    >>> for h, m in ((2, 0), (2, 5), (3, 30), (6, 30)):  # 02:05 is the same visit
    ...     count_toilet(toilets, datetime(2026, 11, 3, h, m, tzinfo=UTC), hour=h, day=day)
    >>> toilets.tonight, toilets.night_of
    (2, datetime.date(2026, 11, 3))
    """
    if hour >= NIGHT_COUNT_UNTIL:
        toilets.last_bathroom = ts
        return
    # Visits before 06:00 belong to the night that ends that morning.
    if toilets.night_of != day:
        toilets.night_of, toilets.tonight = day, 0
    if toilets.last_bathroom is None or ts - toilets.last_bathroom > _ONE_VISIT:
        toilets.tonight += 1
    toilets.last_bathroom = ts


def close_night(
    hub: str, toilets: NightToilets, local: datetime, *, eagerness: Eagerness
) -> tuple[list[Finding], int | None]:
    """Each morning at 07:00: last night's visits against this resident's own nights.

    Returns the findings and last night's count (None: no night closed this time).
    """
    today = local.date()
    if local.hour < MORNING_RECKONING or toilets.closed_night == today:
        return [], None
    toilets.closed_night = today
    counted = toilets.tonight if toilets.night_of == today else 0
    toilets.recent.append(counted)
    history = list(toilets.counts)
    if len(history) < _NIGHTS_LEARNED:
        toilets.counts.append(counted)
        return [], counted
    # CUSUM on the nightly count against the resident's own usual (a trimmed
    # mean, so one bad night does not move it): slow rises add up.
    kept = sorted(history)[: int(0.9 * len(history)) + 1]
    usual = max(0.3, sum(kept) / len(kept))
    slack = 0.5 * max(0.5, usual)
    toilets.cusum = max(0.0, toilets.cusum + counted - usual - slack)
    if toilets.cusum < 4 * max(1.0, usual**0.5) * eagerness.factor:
        toilets.counts.append(counted)
        return [], counted
    toilets.cusum = 0.0
    if toilets.raised_on is not None and (today - toilets.raised_on).days <= _AGAIN_DAYS:
        return [], counted
    toilets.raised_on = today
    recent = list(toilets.recent)[-3:]
    low, top = min(history), sorted(history)[int(0.9 * (len(history) - 1))]
    return [
        Condition(
            hub=hub,
            kind=AlertKind.NIGHT_TOILET_VISITS,
            event_at=local,
            reason=(
                f"Night toilet visits {', '.join(str(n) for n in recent)} in the last "
                f"{len(recent)} nights; usually {low} to {top}: possible infection, "
                f"consider a check.{eagerness.note}"
            ),
            details={"recent": recent, "usual": round(usual, 2)},
        )
    ], counted

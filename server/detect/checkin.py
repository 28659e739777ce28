"""The daily "I'm OK": missed when the resident's own time passes without one. Pure.

A check-in counts for the local day it was made on, from the page or the
button on the hub; one made after the alert was raised clears it.

>>> from zoneinfo import ZoneInfo
>>> london = ZoneInfo("Europe/London")
>>> now = datetime(2026, 12, 1, 10, 30, tzinfo=london)
>>> missed = checkin_finding(
...     hub="hub-1", resident="Mrs Clarke", checkin_by=time(10), zone=london,
...     now=now, last_checkin=None, last_raised=None, active=False)
>>> print(missed.reason)
Mrs Clarke has not said "I'm OK" today; the check-in is due by 10:00.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from server.domain.alerts import AlertKind
from server.domain.findings import Cleared, Condition, Finding

__all__ = ["checkin_finding", "deadline_on"]


def deadline_on(now: datetime, checkin_by: time, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """(start of the resident's local day, today's check-in deadline) around ``now``."""
    local = now.astimezone(zone)
    day_start = datetime.combine(local.date(), time(0), zone)
    return day_start, datetime.combine(local.date(), checkin_by, zone)


def checkin_finding(
    *,
    hub: str,
    resident: str,
    checkin_by: time,
    zone: ZoneInfo,
    now: datetime,
    last_checkin: datetime | None,
    last_raised: datetime | None,
    active: bool,
    away: bool = False,
) -> Finding | None:
    """What to do about today's check-in.

    ``last_raised`` is the deadline of the latest ``checkin_missed`` alert and
    ``active`` whether it is still open: a deadline is never raised twice, even
    after a person closed its alert. Away from home, no check-in is expected.
    """
    day_start, deadline = deadline_on(now, checkin_by, zone)
    if (
        active
        and last_raised is not None
        and last_checkin is not None
        and last_checkin >= _day_start_of(last_raised, zone)
    ):
        return Cleared(
            hub=hub,
            kind=AlertKind.CHECKIN_MISSED,
            event_at=last_checkin,
            reason=f"{resident} checked in at {last_checkin.astimezone(zone):%H:%M}.",
        )
    if active or away or now < deadline:
        return None
    if last_checkin is not None and last_checkin >= day_start:
        return None
    if last_raised is not None and last_raised >= deadline:
        return None
    return Condition(
        hub=hub,
        kind=AlertKind.CHECKIN_MISSED,
        event_at=deadline,
        reason=f'{resident} has not said "I\'m OK" today; the check-in is due by '
        f"{checkin_by:%H:%M}.",
        details={"checkin_by": checkin_by.isoformat(), "deadline": deadline.isoformat()},
    )


def _day_start_of(moment: datetime, zone: ZoneInfo) -> datetime:
    return datetime.combine(moment.astimezone(zone).date(), time(0), zone)

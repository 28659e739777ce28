"""The daily "I'm OK": raised once per day after its time, cleared by a late check-in."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from server.detect.checkin import checkin_finding
from server.domain.alerts import AlertKind, Severity
from server.domain.findings import Cleared, Condition

LONDON = ZoneInfo("Europe/London")
YESTERDAY_MORNING = datetime(2026, 11, 30, 9, tzinfo=LONDON)


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=LONDON)


def finding(
    now: datetime,
    *,
    last_checkin: datetime | None = None,
    last_raised: datetime | None = None,
    active: bool = False,
) -> object:
    return checkin_finding(
        hub="hub-1",
        resident="Mrs Clarke",
        checkin_by=time(10),
        zone=LONDON,
        now=now,
        last_checkin=last_checkin,
        last_raised=last_raised,
        active=active,
    )


def test_nothing_before_the_time() -> None:
    assert finding(at(9, 59)) is None


def test_missed_after_the_time_without_a_check_in_today() -> None:
    missed = finding(at(10, 1), last_checkin=YESTERDAY_MORNING)
    assert isinstance(missed, Condition)
    assert missed.kind is AlertKind.CHECKIN_MISSED
    assert missed.severity is Severity.URGENT
    assert missed.event_at == at(10)


def test_no_check_in_is_expected_while_away() -> None:
    away = checkin_finding(
        hub="hub-1",
        resident="Mrs Clarke",
        checkin_by=time(10),
        zone=LONDON,
        now=at(11),
        last_checkin=YESTERDAY_MORNING,
        last_raised=None,
        active=False,
        away=True,
    )
    assert away is None


def test_a_check_in_this_morning_counts() -> None:
    assert finding(at(11), last_checkin=at(7, 45)) is None


def test_raised_once_per_day_even_after_someone_closed_it() -> None:
    assert finding(at(15), last_raised=at(10), active=False) is None
    assert isinstance(finding(at(10, 1, day=2), last_raised=at(10), active=False), Condition)


def test_a_late_check_in_clears_the_open_alert() -> None:
    cleared = finding(at(10, 20), last_checkin=at(10, 15), last_raised=at(10), active=True)
    assert isinstance(cleared, Cleared)
    assert "10:15" in cleared.reason
    assert (
        finding(at(10, 20), last_checkin=YESTERDAY_MORNING, last_raised=at(10), active=True) is None
    )


def test_the_deadline_follows_the_clocks_change() -> None:
    # 10:00 in London is 09:00 UTC in summer and 10:00 UTC in winter.
    summer = checkin_finding(
        hub="h",
        resident="R",
        checkin_by=time(10),
        zone=LONDON,
        now=datetime(2026, 7, 1, 9, 30, tzinfo=ZoneInfo("UTC")),
        last_checkin=None,
        last_raised=None,
        active=False,
    )
    assert isinstance(summer, Condition)
    assert summer.event_at == datetime(2026, 7, 1, 10, tzinfo=LONDON)

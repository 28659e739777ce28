"""Getting up and "not up", judged by server.detect.mornings over its own state."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.detect.local_hour import local_hour
from server.detect.mornings import Mornings, judge_not_up, learn_morning
from server.domain.alerts import AlertKind
from server.domain.findings import Condition

HUB = "hub-mornings"
# Summer time in London: local is UTC + 1, so a wrong conversion shows in the hours.
LONDON = ZoneInfo("Europe/London")
DAY = datetime(2026, 7, 1, tzinfo=UTC)  # a Wednesday


def _at(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


def _learn(
    mornings: Mornings, room: str, ts: datetime, bed_left: datetime | None = None
) -> float | None:
    return learn_morning(mornings, room, ts, local_hour(ts, LONDON), bed_left=bed_left, zone=LONDON)


def test_the_first_day_room_of_the_morning_is_getting_up_and_only_once_a_day() -> None:
    mornings = Mornings()
    assert _learn(mornings, "bedroom", _at(6)) is None  # still in the bedroom
    assert _learn(mornings, "bathroom", _at(6.2)) is None  # a trip to the toilet
    assert _learn(mornings, "kitchen", _at(6.5)) == 7.5  # 07:30 local
    assert mornings.woke_on == DAY.date()
    assert list(mornings.wakes) == [7.5]
    assert _learn(mornings, "lounge", _at(7)) is None  # up already today
    assert list(mornings.wakes) == [7.5]


def test_getting_up_is_when_the_bed_was_left_if_shortly_before() -> None:
    mornings = Mornings()
    assert _learn(mornings, "kitchen", _at(6.5), bed_left=_at(6)) == 7.0
    later = Mornings()
    # Left the bed more than an hour before: that was something else (a night trip).
    assert _learn(later, "kitchen", _at(6.5), bed_left=_at(5)) == 7.5


def test_a_night_in_the_lounge_is_not_getting_up() -> None:
    assert _learn(Mornings(), "lounge", _at(1)) is None  # 02:00 local


def _judge(mornings: Mornings, ts: datetime, *, held: bool = False) -> Condition | None:
    return judge_not_up(
        HUB, mornings, ts, local_hour(ts, LONDON), latest=time(9, 30), zone=LONDON, held=held
    )


def test_in_bed_past_the_latest_usual_time_is_not_up_once() -> None:
    mornings = Mornings()
    assert _judge(mornings, _at(8.25)) is None  # 09:15 local: not yet
    alert = _judge(mornings, _at(8.75))  # 09:45 local
    assert alert is not None
    assert alert.kind is AlertKind.NOT_UP
    assert alert.event_at == datetime(2026, 7, 1, 9, 30, tzinfo=LONDON)
    assert "Still in bed at 09:45" in alert.reason
    assert "Not up by 09:30" in alert.reason  # no week of mornings learned yet
    assert mornings.not_up_on == DAY.date()
    assert _judge(mornings, _at(9)) is None  # raised already today


def test_not_up_is_not_raised_when_held_up_already_or_in_the_afternoon() -> None:
    held = Mornings()
    assert _judge(held, _at(8.75), held=True) is None
    assert held.not_up_on is None  # still to be raised once the silence or absence ends
    up = Mornings(woke_on=DAY.date())
    assert _judge(up, _at(8.75)) is None  # back in bed after getting up: a lie-down
    assert _judge(Mornings(), _at(13.5)) is None  # 14:30 local

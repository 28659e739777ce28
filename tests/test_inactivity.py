"""The inactivity detector, in event time, with no clock and no sockets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from edge.protocol import Reading, ReadingKind
from server.detect.hub_health import HubHealth
from server.detect.inactivity import InactivityDetector
from server.domain.alerts import AlertKind, Severity
from server.domain.findings import Cleared, Condition

HUB = "hub-1"
DAY = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


def motion(room: str, at: datetime) -> Reading:
    return Reading(f"{room}-pir", ReadingKind.MOTION, at, 1.0)


def door(at: datetime, value: float = 1.0) -> Reading:
    return Reading("front-door", ReadingKind.CONTACT, at, value)


def detector() -> InactivityDetector:
    d = InactivityDetector(day_limit=timedelta(minutes=90), bathroom_limit=timedelta(minutes=60))
    d.set_timezone(HUB, ZoneInfo("UTC"))
    return d


def test_daytime_silence_past_the_limit_raises_once() -> None:
    d = detector()
    d.observe(HUB, motion("kitchen", DAY.replace(hour=9, minute=14)))
    assert d.advance(HUB, DAY.replace(hour=10, minute=44)) == []  # exactly 90 min
    (found,) = d.advance(HUB, DAY.replace(hour=11, minute=24))
    assert isinstance(found, Condition)
    assert found.kind is AlertKind.NO_MOVEMENT
    assert found.severity is Severity.URGENT
    assert found.reason.startswith("No movement for 2 h 10 min since 09:14 (kitchen).")
    assert found.event_at == DAY.replace(hour=10, minute=44)
    assert d.advance(HUB, DAY.replace(hour=12)) == []  # not again while it lasts


def test_movement_again_clears_and_rearms() -> None:
    d = detector()
    d.observe(HUB, motion("lounge", DAY.replace(hour=9)))
    assert d.advance(HUB, DAY.replace(hour=11))
    (cleared,) = d.observe(HUB, motion("kitchen", DAY.replace(hour=11, minute=5)))
    assert isinstance(cleared, Cleared)
    assert cleared.reason == "Movement again in the kitchen at 11:05."
    assert d.advance(HUB, DAY.replace(hour=13))  # a new silence raises again


def test_bathroom_has_a_shorter_limit() -> None:
    d = detector()
    d.observe(HUB, motion("bathroom", DAY.replace(hour=15)))
    (found,) = d.advance(HUB, DAY.replace(hour=16, minute=1))
    assert "(bathroom)" in found.reason


def test_sleep_is_not_inactivity_until_the_latest_wake_time() -> None:
    d = detector()
    d.observe(HUB, motion("bedroom", DAY.replace(hour=22, minute=40)))
    assert d.advance(HUB, DAY.replace(hour=9, minute=59) + timedelta(days=1)) == []
    (found,) = d.advance(HUB, DAY.replace(hour=10, minute=1) + timedelta(days=1))
    assert "not up by 10:00" in found.reason


def test_out_of_the_front_door_is_out_not_fallen() -> None:
    d = detector()
    d.observe(HUB, motion("hall", DAY.replace(hour=10)))
    d.observe(HUB, door(DAY.replace(hour=10, minute=1)))
    d.observe(HUB, door(DAY.replace(hour=10, minute=1, second=5), 0.0))
    assert d.advance(HUB, DAY.replace(hour=15)) == []
    d.observe(HUB, door(DAY.replace(hour=15, minute=10)))
    d.observe(HUB, motion("hall", DAY.replace(hour=15, minute=10, second=20)))
    assert d.advance(HUB, DAY.replace(hour=16, minute=30)) == []
    assert d.advance(HUB, DAY.replace(hour=16, minute=45))


def test_late_readings_are_folded_in_before_judging() -> None:
    # The hub was offline 10:00-12:00 and delivers the readings afterwards:
    # the watermark held back, so nothing is raised, and the late movement counts.
    d = detector()
    d.observe(HUB, motion("kitchen", DAY.replace(hour=10)))
    assert d.advance(HUB, DAY.replace(hour=10, minute=5)) == []
    d.observe(HUB, motion("lounge", DAY.replace(hour=11, minute=30)))
    assert d.advance(HUB, DAY.replace(hour=12)) == []


def test_an_old_reading_does_not_move_last_seen_backwards() -> None:
    d = detector()
    d.observe(HUB, motion("kitchen", DAY.replace(hour=10)))
    d.observe(HUB, motion("bedroom", DAY.replace(hour=8)))
    (found,) = d.advance(HUB, DAY.replace(hour=12))
    assert "since 10:00 (kitchen)" in found.reason


def test_a_watermark_going_backwards_is_ignored() -> None:
    d = detector()
    d.observe(HUB, motion("kitchen", DAY.replace(hour=10)))
    assert d.advance(HUB, DAY.replace(hour=11)) == []
    assert d.advance(HUB, DAY.replace(hour=9)) == []
    assert d.advance(HUB, DAY.replace(hour=11, minute=31))


def test_restored_state_does_not_raise_again() -> None:
    d = detector()
    d.restore(HUB, last_motion=DAY.replace(hour=9), last_room="lounge", last_door=None, raised=True)
    assert d.advance(HUB, DAY.replace(hour=14)) == []
    fresh = detector()
    fresh.restore(
        HUB, last_motion=DAY.replace(hour=9), last_room="lounge", last_door=None, raised=False
    )
    assert fresh.advance(HUB, DAY.replace(hour=14))


def test_homes_are_independent() -> None:
    d = detector()
    d.observe("hub-a", motion("kitchen", DAY.replace(hour=9)))
    d.observe("hub-b", motion("kitchen", DAY.replace(hour=9)))
    assert d.advance("hub-a", DAY.replace(hour=12))
    assert d.advance("hub-b", DAY.replace(hour=10)) == []


def test_local_time_decides_what_is_night() -> None:
    d = InactivityDetector()
    d.set_timezone(HUB, ZoneInfo("Australia/Sydney"))  # 12:00 UTC is 23:00 in Sydney
    d.observe(HUB, motion("bedroom", DAY.replace(hour=12)))
    assert d.advance(HUB, DAY.replace(hour=20)) == []


def test_a_hub_outage_raises_once_and_clears_when_the_hub_is_back() -> None:
    health = HubHealth(grace=timedelta(minutes=10), silence_limit=timedelta(minutes=15))
    t = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    assert health.check("h", state=None, last_seen=None, now=t) == []
    assert health.check("h", state="online", last_seen=t, now=t + timedelta(minutes=14)) == []
    (silent,) = health.check("h", state="online", last_seen=t, now=t + timedelta(minutes=15))
    assert "stopped sending heartbeats" in silent.reason
    assert health.check("h", state="offline", last_seen=t, now=t + timedelta(hours=2)) == []
    (back,) = health.check(
        "h", state="online", last_seen=t + timedelta(hours=2), now=t + timedelta(hours=2)
    )
    assert back.kind.value == "hub_offline"
    restored = HubHealth()
    restored.restore(["h"])
    assert restored.check("h", state="offline", last_seen=t, now=t + timedelta(hours=1)) == []

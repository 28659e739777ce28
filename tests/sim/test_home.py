"""Simulated homes: days a carer would recognise, replayable, and incidents that show."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from edge.agent.drivers import AlarmTrigger, DriverEvent
from edge.protocol import Reading, ReadingKind
from firmware_sim.home import PIR_BLIND_TIME, SimulatedHome
from firmware_sim.incidents import Fall, PendantPress
from server.detect.inactivity import InactivityDetector
from server.domain.alerts import AlertKind
from server.domain.findings import Condition

ZONE = ZoneInfo("Europe/London")
START = datetime.combine(date(2026, 10, 5), time(0, 0), ZONE).astimezone(UTC)


def _motions(events: list[DriverEvent]) -> list[Reading]:
    return [e for e in events if isinstance(e, Reading) and e.kind is ReadingKind.MOTION]


def test_the_same_seed_gives_the_same_days_however_the_home_is_polled() -> None:
    end = START + timedelta(days=3)
    once = SimulatedHome(home_id="h", start=START, seed=3).events_until(end)
    polled = SimulatedHome(home_id="h", start=START, seed=3)
    in_steps: list[DriverEvent] = []
    t = START
    while t < end:
        t += timedelta(minutes=7)
        in_steps.extend(polled.events_until(min(t, end)))
    assert in_steps == once
    assert once != SimulatedHome(home_id="h", start=START, seed=4).events_until(end)


def test_a_pir_reports_no_faster_than_its_blind_time() -> None:
    events = SimulatedHome(home_id="h", start=START, seed=1).events_until(START + timedelta(days=2))
    last: dict[str, datetime] = {}
    for reading in _motions(events):
        if reading.sensor in last:
            assert reading.ts - last[reading.sensor] >= PIR_BLIND_TIME
        last[reading.sensor] = reading.ts


def _run_detector(home: SimulatedHome, days: float) -> list[Condition]:
    """Feed a home's events to the inactivity detector with a heartbeat every 5 minutes."""
    detector = InactivityDetector()
    detector.set_timezone("h", ZONE)
    raised: list[Condition] = []
    t = home.start
    while t < home.start + timedelta(days=days):
        t += timedelta(minutes=5)
        for event in home.events_until(t):
            if isinstance(event, Reading):
                detector.observe("h", event)
        raised += [f for f in detector.advance("h", t) if isinstance(f, Condition)]
    return raised


def test_ordinary_days_raise_no_inactivity_alert() -> None:
    for seed in range(3):
        home = SimulatedHome(home_id="h", start=START, seed=seed)
        assert _run_detector(home, days=14) == [], f"false alert in home {seed}"


def test_after_a_fall_the_home_is_silent_and_the_detector_raises() -> None:
    fall = START + timedelta(days=1, hours=10, minutes=40)
    home = SimulatedHome(home_id="h", start=START, seed=2, incidents=[Fall(at=fall)])
    raised = _run_detector(home, days=2)
    (label,) = [lb for lb in home.take_labels() if lb.kind == "fall"]
    assert fall <= label.start < fall + timedelta(hours=3)
    assert label.end == label.start + timedelta(hours=8)
    events = SimulatedHome(
        home_id="h", start=START, seed=2, incidents=[Fall(at=fall)]
    ).events_until(label.end)
    assert not _motions([e for e in events if e.ts > label.start])
    assert [c.kind for c in raised] == [AlertKind.NO_MOVEMENT]
    # Raised within the daytime limit (90 min) of the last movement before the fall.
    assert (
        label.start - timedelta(hours=1) < raised[0].event_at <= label.start + timedelta(minutes=90)
    )


def test_a_pendant_press_is_an_alarm_at_its_moment() -> None:
    press = START + timedelta(hours=9, minutes=30)
    home = SimulatedHome(home_id="h", start=START, seed=2, incidents=[PendantPress(at=press)])
    events = home.events_until(START + timedelta(days=1))
    alarms = [e for e in events if isinstance(e, AlarmTrigger)]
    assert [(a.sensor, a.ts) for a in alarms] == [("pendant", press)]
    assert any(isinstance(e, Reading) and e.ts > press for e in events), "life goes on"

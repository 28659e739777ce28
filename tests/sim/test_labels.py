"""Every label matches what the stream shows: the ground truth is true."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from statistics import mean
from zoneinfo import ZoneInfo

import pytest

from firmware_sim.climate import COLD_LIMIT_C
from firmware_sim.devices import BATTERY_LOW, FRONT_DOOR, SensorEvent
from firmware_sim.home import SimulatedHome
from firmware_sim.incidents import INCIDENT_KINDS, IncidentLabel
from firmware_sim.scenario import Scenario
from tests.sim.streams import ACTIVITY_KINDS, local, night_toilet_visits

DAYS = 50
# Far more incidents than a real caseload, so that every kind happens several times.
BUSY = Scenario.model_validate(
    {
        "trial": {"homes": 16, "days": DAYS, "seed": 5, "quiet_days": 7},
        "incidents": {
            kind: 1.5
            for kind in (
                "fall",
                "not_up",
                "wander_out",
                "uti",
                "missed_meals",
                "cold_home",
                "hub_offline",
                "battery_flat",
                "pendant",
                "decline",
            )
        }
        | {"wander_out_night_waker_factor": 2.0},
    }
)


def _homes() -> Iterator[tuple[SimulatedHome, list[SensorEvent], list[IncidentLabel]]]:
    end = BUSY.start() + timedelta(days=DAYS)
    for spec in BUSY.homes():
        home = BUSY.build(spec)
        events = home.sensor_events_until(end)
        labels = [label for label in home.take_labels() if label.start < end]
        yield home, events, labels


@pytest.fixture(scope="module")
def homes() -> list[tuple[SimulatedHome, list[SensorEvent], list[IncidentLabel]]]:
    return list(_homes())


def _between(events: list[SensorEvent], start: float, end: float) -> list[SensorEvent]:
    return [e for e in events if start <= e.ts < end]


def test_every_incident_kind_happens(
    homes: list[tuple[SimulatedHome, list[SensorEvent], list[IncidentLabel]]],
) -> None:
    kinds = Counter(label.kind for _, _, labels in homes for label in labels)
    assert set(INCIDENT_KINDS) <= set(kinds), kinds


def test_a_fall_is_followed_by_silence_until_someone_comes(
    homes: list[tuple[SimulatedHome, list[SensorEvent], list[IncidentLabel]]],
) -> None:
    checked = 0
    for _, events, labels in homes:
        for label in (lb for lb in labels if lb.kind == "fall"):
            assert label.end is not None
            assert label.detail in ("bathroom", "hall", "lounge")
            # (A door bounce can land a second after the fall; nothing later.)
            start, end = label.start.timestamp() + 2, label.end.timestamp()
            moved = [e for e in _between(events, start, end) if e.kind in ACTIVITY_KINDS]
            assert moved == [], label
            before = [e for e in _between(events, start - 3600, start) if e.kind == "motion"]
            assert before, "the resident was up and about before the fall"
            checked += 1
    assert checked >= 5


def test_not_up_means_still_in_bed_past_the_usual_time(
    homes: list[tuple[SimulatedHome, list[SensorEvent], list[IncidentLabel]]],
) -> None:
    checked = 0
    for home, events, labels in homes:
        # A pulsing pad's 0 ends a turn in bed, not a night: only a held pad's 0 is getting up.
        held = not home.traits.pulsing_pads
        for label in (lb for lb in labels if lb.kind == "not_up"):
            assert label.end is not None
            window = _between(events, label.start.timestamp(), label.end.timestamp() - 60)
            up = [
                e
                for e in window
                if (e.kind == "motion" and e.sensor != "bedroom-pir")
                or (e.sensor == "bed" and e.value == 0.0 and held)
            ]
            assert up == [], label
            # Two to five hours, or until the carer's morning visit finds them.
            assert label.end - label.start >= timedelta(hours=1)
            checked += 1
    assert checked >= 5


def test_wandering_out_is_the_front_door_at_night_and_an_empty_home(
    homes: list[tuple[SimulatedHome, list[SensorEvent], list[IncidentLabel]]],
) -> None:
    checked = 0
    for home, events, labels in homes:
        for label in (lb for lb in labels if lb.kind == "wander_out"):
            assert label.end is not None
            start, end = label.start.timestamp(), label.end.timestamp()
            if home.firmware.silent(FRONT_DOOR, start) or home.firmware.silent(FRONT_DOOR, end):
                continue  # the door's battery is flat or its link lost: it says nothing
            assert local(start, home.zone).hour < 6
            door = [e for e in _between(events, start, start + 60) if e.sensor == FRONT_DOOR]
            assert door, label
            assert door[0].value == 1.0, label
            inside = [e for e in _between(events, start + 60, end) if e.kind == "motion"]
            assert inside == [], label
            # (Devices stamp to the millisecond, labels to the microsecond.)
            back = [e for e in _between(events, end - 0.001, end + 60) if e.sensor == FRONT_DOOR]
            assert back
            assert back[0].value == 1.0
            checked += 1
    assert checked >= 3


def test_a_uti_shows_as_more_night_toilet_visits(
    homes: list[tuple[SimulatedHome, list[SensorEvent], list[IncidentLabel]]],
) -> None:
    checked = 0
    for home, events, labels in homes:
        visits = night_toilet_visits(events, home.zone)
        utis = [lb for lb in labels if lb.kind == "uti"]
        for label in utis:
            assert label.end is not None
            first = local(label.start.timestamp() + 1, home.zone).date()
            recorded_until = BUSY.start() + timedelta(days=DAYS)
            nights = (min(label.end, recorded_until) - label.start).days
            # The week before, leaving out nights of an earlier infection.
            earlier = [
                first - timedelta(days=d)
                for d in range(1, 8)
                if not _disturbed(labels, first - timedelta(days=d), home)
            ]
            during = [
                visits.get(first + timedelta(days=d), 0)
                for d in range(nights)
                if not _disturbed(
                    [lb for lb in labels if lb is not label], first + timedelta(days=d), home
                )
            ]
            usual = mean(visits.get(night, 0) for night in earlier) if earlier else 1.0
            if not during:
                continue
            assert mean(during) >= 1.5 * max(1.0, usual), (label, during, usual)
            checked += 1
    assert checked >= 3


def _disturbed(labels: list[IncidentLabel], night: date, home: SimulatedHome) -> bool:
    """Whether anything but the ordinary happened on ``night`` (away, a fall, a silent sensor, an infection)."""
    start = datetime.combine(night, time(0), home.zone)
    end = start + timedelta(hours=12)
    return any(
        lb.start < end and (lb.end or lb.start) > start
        for lb in labels
        if lb.kind in ("away", "fall", "uti", "not_up", "wander_out")
        or lb.detail in ("bathroom-pir", "bed")
    )


def test_missed_meals_leave_the_kitchen_quiet(
    homes: list[tuple[SimulatedHome, list[SensorEvent], list[IncidentLabel]]],
) -> None:
    checked = 0
    for _, events, labels in homes:
        for label in (lb for lb in labels if lb.kind == "missed_meals"):
            start = label.start.timestamp()
            kitchen = [
                e
                for e in _between(events, start, start + 25 * 60)
                if e.sensor in ("kitchen-pir", "fridge-door", "kettle")
            ]
            assert kitchen == [], label
            checked += 1
    assert checked >= 5


def test_a_cold_home_label_is_a_lounge_below_the_limit(
    homes: list[tuple[SimulatedHome, list[SensorEvent], list[IncidentLabel]]],
) -> None:
    checked = 0
    for _, events, labels in homes:
        for label in (lb for lb in labels if lb.kind == "cold_home"):
            assert label.end is not None
            lounge = [
                e.value
                for e in _between(
                    events, label.start.timestamp() + 600, label.end.timestamp() - 600
                )
                if e.sensor == "lounge-temp" and e.kind == "temperature"
            ]
            assert lounge
            assert min(lounge) < COLD_LIMIT_C
            # Within the thermometer's noise of the limit, never warm.
            assert max(lounge) < COLD_LIMIT_C + 0.35, label
            checked += 1
    assert checked >= 3


def test_a_flat_battery_silences_its_sensor_after_low_battery_days(
    homes: list[tuple[SimulatedHome, list[SensorEvent], list[IncidentLabel]]],
) -> None:
    checked = 0
    for home, events, labels in homes:
        for label in (lb for lb in labels if lb.kind in ("battery_flat", "sensor_dropout")):
            assert label.end is not None
            heard = [
                e
                for e in _between(events, label.start.timestamp(), label.end.timestamp())
                if e.sensor == label.detail
            ]
            assert heard == [], label
            if label.kind == "battery_flat":
                battery = home.firmware.batteries[label.detail]
                two_days_before = label.start.timestamp() - 2 * 86400
                assert battery.at(two_days_before, home.firmware.start) < BATTERY_LOW
                checked += 1
    assert checked >= 3


def test_a_pendant_press_is_an_alarm_at_its_moment(
    homes: list[tuple[SimulatedHome, list[SensorEvent], list[IncidentLabel]]],
) -> None:
    checked = 0
    for _, events, labels in homes:
        alarms = {e.ts for e in events if e.kind == "pendant"}
        for label in (lb for lb in labels if lb.kind == "pendant"):
            assert round(label.start.timestamp(), 3) in alarms
            checked += 1
    assert checked >= 5


def test_a_decline_lowers_daily_activity() -> None:
    from firmware_sim.incidents import Decline
    from firmware_sim.persona import STEADY

    start = BUSY.start()
    day = date(2026, 10, 26)
    home = SimulatedHome(
        home_id="h", start=start, seed=3, persona=STEADY, incidents=[Decline(day, days=28, to=0.5)]
    )
    events = home.sensor_events_until(start + timedelta(days=60))
    zone = ZoneInfo("Europe/London")
    per_day = Counter(local(e.ts, zone).date() for e in events if e.kind == "motion")
    before = mean(per_day[day - timedelta(days=d)] for d in range(1, 15))
    after = mean(per_day[day + timedelta(days=d)] for d in range(28, 42))
    assert after < 0.8 * before
    (label,) = [lb for lb in home.take_labels() if lb.kind == "decline"]
    assert label.end is not None
    assert (label.end - label.start).days == 28

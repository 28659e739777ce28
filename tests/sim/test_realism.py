"""Real-home realism: per-home traits that can be turned down, and labels that stay true."""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from edge.protocol import ReadingKind
from firmware_sim.devices import FRONT_DOOR, Firmware, Physical, SensorEvent
from firmware_sim.driver import SimDriver
from firmware_sim.home import SimulatedHome
from firmware_sim.incidents import CONTEXT_KINDS, Fall, NotUp
from firmware_sim.offline import export_trial
from firmware_sim.persona import PERSONAS, STEADY
from firmware_sim.realism import TIDY, HomeTraits, Realism
from firmware_sim.recording import RecordedReading, read_labels, read_stream
from firmware_sim.scenario import Scenario
from tests.sim.streams import ACTIVITY_KINDS, outings

ZONE = ZoneInfo("Europe/London")
START = datetime.combine(date(2026, 10, 5), time(0), ZONE).astimezone(UTC)
_PULSING = dataclasses.replace(TIDY, bed_turns_per_hour=3.0, chair_shifts_per_hour=1.0)


def _local(day: int, hour: float) -> datetime:
    return START + timedelta(days=day, hours=hour)


def test_realism_level_zero_is_the_tidy_home_and_leaves_personas_and_incidents_alone() -> None:
    real = Scenario.model_validate({"trial": {"homes": 20, "seed": 3}})
    tidy = real.model_copy(update={"realism": Realism(level=0.0)})
    for i in range(20):
        a, b = real.home(i), tidy.home(i)
        assert b.traits == TIDY
        assert (a.persona, a.incidents) == (b.persona, b.incidents)
    traits = [real.home(i).traits for i in range(20)]
    # Drawn per home: no two alike, and some of every feature across the trial.
    assert len({t.still_spell_min for t in traits}) == 20
    assert any(t.pulsing_pads for t in traits)
    assert any("hall-pir" in t.unfitted for t in traits)
    assert all(t.lounge_seen < 1.0 for t in traits)


def test_one_feature_turned_down_leaves_the_others_as_drawn() -> None:
    full = Scenario.model_validate({"trial": {"homes": 5, "seed": 8}})
    no_pads = Scenario.model_validate(
        {"trial": {"homes": 5, "seed": 8}, "realism": {"pulsing_pads": 0.0}}
    )
    for i in range(5):
        a, b = full.home(i).traits, no_pads.home(i).traits
        assert not b.pulsing_pads
        assert dataclasses.replace(a, bed_turns_per_hour=0.0, chair_shifts_per_hour=0.0) == b


def test_pulsing_pads_press_and_release_within_seconds() -> None:
    home = SimulatedHome(home_id="h", start=START, seed=4, traits=_PULSING)
    events = home.sensor_events_until(START + timedelta(days=3))
    pads = [e for e in events if e.kind in ("bed", "chair")]
    presses = [e for e in pads if e.value == 1.0]
    # A few turns a night, each a burst: far more than a held pad's two a night.
    assert len([e for e in presses if e.kind == "bed"]) > 3 * 10
    for on, off in itertools.pairwise(pads):
        if on.value == 1.0 and off.sensor == on.sensor:
            assert off.value == 0.0, (on, off)
            assert off.ts - on.ts <= 3.0, (on, off)


def test_a_sensor_the_installer_did_not_fit_never_reports_and_is_not_in_the_map(
    tmp_path: Path,
) -> None:
    traits = dataclasses.replace(TIDY, unfitted=frozenset({"hall-pir", "front-door", "kettle"}))
    home = SimulatedHome(home_id="h", start=START, seed=6, traits=traits)
    events = home.sensor_events_until(START + timedelta(days=4))
    assert not {e.sensor for e in events} & traits.unfitted
    assert {"lounge-pir", "bed"} <= {e.sensor for e in events}
    assert not {d.sensor for d in home.sensors} & traits.unfitted
    health = home.firmware.health(START.timestamp(), random.Random(1))
    assert not {sensor for sensor, _, _ in health} & traits.unfitted

    out = tmp_path / "trial"
    export_trial(
        Scenario.model_validate({"trial": {"homes": 12, "days": 2, "seed": 5}}), out, workers=1
    )
    manifest = json.loads((out / "trial.json").read_text())
    specs = Scenario.model_validate({"trial": {"homes": 12, "days": 2, "seed": 5}})
    for i, entry in enumerate(manifest["homes"]):
        unfitted = specs.home(i).traits.unfitted
        mapped = {s["sensor"] for s in entry["sensors"]}
        assert not mapped & unfitted
        seen = {
            r.reading.sensor
            for r in read_stream(out / entry["stream"])
            if isinstance(r, RecordedReading)
        }
        assert seen <= mapped, entry["home"]


def test_pads_wait_in_the_hub_during_an_outage_like_every_other_sensor(tmp_path: Path) -> None:
    trial = Scenario.model_validate(
        {
            "trial": {"homes": 8, "days": 20, "seed": 31, "quiet_days": 2},
            "incidents": {"hub_offline": 10.0, "fall": 0.0, "not_up": 0.0},
            "realism": {"pulsing_pads": 1.0},
        }
    )
    out = tmp_path / "trial"
    export_trial(trial, out, workers=1)
    outages = [lb for lb in read_labels(out / "labels.jsonl") if lb.kind == "hub_offline"]
    checked = 0
    for i in range(8):
        spec = trial.home(i)
        if not spec.traits.pulsing_pads:
            continue
        mine = [(o.start, o.end) for o in outages if o.home == spec.hub and o.end is not None]
        for record in read_stream(out / "homes" / f"{spec.hub}.jsonl"):
            if not isinstance(record, RecordedReading):
                continue
            ts = record.reading.ts
            for went, back in mine:
                if went <= ts < back:
                    # Nothing reaches the server while the hub is offline, pads included.
                    assert record.received >= back, record
                    checked += record.reading.kind in (ReadingKind.BED, ReadingKind.CHAIR)
    assert checked > 20


def _activity(events: list[SensorEvent], start: float, end: float) -> list[SensorEvent]:
    return [e for e in events if start < e.ts < end and e.kind in ACTIVITY_KINDS]


def test_a_guest_who_calls_during_a_fall_gets_no_answer_and_the_label_runs_on() -> None:
    # A guest nearly every afternoon, and a fall just before one of them.
    traits = dataclasses.replace(_PULSING, visitors_per_week=7.0)
    for seed in range(30):
        fall = Fall(_local(3, 11.0), found_after=timedelta(hours=8))
        home = SimulatedHome(home_id="h", start=START, seed=seed, traits=traits, incidents=[fall])
        events = home.sensor_events_until(START + timedelta(days=5))
        (label,) = [lb for lb in home.take_labels() if lb.kind == "fall"]
        assert label.end == label.start + timedelta(hours=8)  # no guest ends it early
        start, end = label.start.timestamp() + 2, label.end.timestamp()
        assert _activity(events, start, end) == []
        assert [e for e in events if start < e.ts < end and e.sensor == FRONT_DOOR] == []


def test_a_fall_at_night_happens_on_the_way_to_the_toilet() -> None:
    for seed in range(6):
        at = _local(2, 2.5)
        fall = Fall(at, rooms=("hall", "bathroom"), on_way_to_toilet=True)
        home = SimulatedHome(home_id="h", start=START, seed=seed, persona=STEADY, incidents=[fall])
        events = home.sensor_events_until(START + timedelta(days=3))
        (label,) = [lb for lb in home.take_labels() if lb.kind == "fall"]
        assert label.detail in ("hall", "bathroom")
        assert at <= label.start < at + timedelta(minutes=5)
        assert label.end is not None
        start = label.start.timestamp()
        assert _activity(events, start + 2, label.end.timestamp()) == []
        # Seen getting up and going: the bedroom, then the hall or the bathroom.
        before = [
            e.sensor for e in events if start - 300 < e.ts <= start + 2 and e.kind == "motion"
        ]
        assert "bedroom-pir" in before


def test_a_not_up_after_a_lie_in_counts_from_when_they_would_have_got_up() -> None:
    day = (START + timedelta(days=4)).astimezone(ZONE).date()
    plain = SimulatedHome(home_id="h", start=START, seed=9, incidents=[NotUp(day)])
    late = SimulatedHome(
        home_id="h", start=START, seed=9, incidents=[NotUp(day, lie_in=timedelta(minutes=90))]
    )
    plain.sensor_events_until(START + timedelta(days=6))
    late.sensor_events_until(START + timedelta(days=6))
    (a,) = [lb for lb in plain.take_labels() if lb.kind == "not_up"]
    (b,) = [lb for lb in late.take_labels() if lb.kind == "not_up"]
    assert b.start - a.start == timedelta(minutes=90)
    assert b.end is not None
    assert a.end is not None
    assert b.end - b.start == a.end - a.start


def test_still_spells_and_blind_spots_leave_long_silences_in_the_evening() -> None:
    still = dataclasses.replace(
        TIDY, still_spells_per_day=3.0, still_spell_min=120.0, lounge_seen=0.3
    )

    def longest_evening_gap_h(traits: HomeTraits) -> float:
        home = SimulatedHome(home_id="h", start=START, seed=12, traits=traits)
        events = home.sensor_events_until(START + timedelta(days=14))
        gaps = []
        for d in range(14):
            t0, t1 = _local(d, 18).timestamp(), _local(d, 23).timestamp()
            moves = [t0] + [e.ts for e in _activity(events, t0, t1)] + [t1]
            gaps.append(max(b - a for a, b in itertools.pairwise(moves)))
        return sorted(gaps)[len(gaps) // 2] / 3600

    assert longest_evening_gap_h(TIDY) < 0.75
    assert longest_evening_gap_h(still) > 1.0


def test_a_live_hub_lists_only_the_sensors_its_installer_fitted() -> None:
    traits = dataclasses.replace(TIDY, unfitted=frozenset({"hall-pir", "chair"}))
    driver = SimDriver(SimulatedHome(home_id="h", start=START, seed=2, traits=traits))
    driver.poll(START + timedelta(days=1))
    listed = {s.sensor for s in driver.sensors()}
    assert "lounge-pir" in listed
    assert not listed & traits.unfitted


def _outings(traits: HomeTraits, days: int = 14, seed: int = 21) -> list[tuple[float, float]]:
    home = SimulatedHome(home_id="h", start=START, seed=seed, traits=traits)
    return outings(home.sensor_events_until(START + timedelta(days=days)))


def test_errands_are_short_trips_out_of_the_front_door_by_day() -> None:
    tidy = _outings(TIDY)
    errands = _outings(dataclasses.replace(TIDY, errands_per_day=2.0))
    assert len(errands) >= len(tidy) + 14  # about two more a day
    short = [(a, b) for a, b in errands if b - a <= 80 * 60]
    assert len(short) >= 14
    for a, _ in short:
        assert 9 <= datetime.fromtimestamp(a, ZONE).hour < 18


def test_an_evening_out_leaves_the_home_empty_after_dinner() -> None:
    out = _outings(dataclasses.replace(TIDY, evening_out_chance=1.0, evening_out_h=4.0))
    evenings = [
        (a, b) for a, b in out if datetime.fromtimestamp(a, ZONE).hour >= 18 and b - a >= 3600
    ]
    # Most evenings (not when dinner runs into bedtime, or a late evening is planned).
    assert len(evenings) >= 10
    for _, back in evenings:
        assert datetime.fromtimestamp(back, ZONE).hour < 24


def test_a_busy_resident_is_out_on_weekdays_only() -> None:
    home = SimulatedHome(
        home_id="h", start=START, seed=5, traits=dataclasses.replace(TIDY, weekday_out_chance=1.0)
    )
    events = home.sensor_events_until(START + timedelta(days=14))
    for d in range(14):
        midday = _activity(events, _local(d, 10.0).timestamp(), _local(d, 15.5).timestamp())
        weekday = (START + timedelta(days=d)).astimezone(ZONE).weekday() < 5
        assert (midday == []) == weekday, (d, midday[:3])
    # The frail stay in: a chair-bound resident is never such a home.
    chair_bound = SimulatedHome(
        home_id="h",
        start=START,
        seed=5,
        persona=PERSONAS["chair_bound"],
        traits=dataclasses.replace(TIDY, weekday_out_chance=1.0),
    )
    events = chair_bound.sensor_events_until(START + timedelta(days=7))
    assert _activity(events, _local(0, 10.0).timestamp(), _local(0, 15.5).timestamp())


def test_a_stuck_device_reports_its_next_on_then_nothing_until_the_spell_ends() -> None:
    firmware = Firmware.fitted(0.0, random.Random(1))
    firmware.stuck[FRONT_DOOR] = [(100.0, 1000.0)]
    firmware.stuck["kitchen-pir"] = [(100.0, 1000.0)]
    physical = [
        Physical(50.0, "contact", FRONT_DOOR, 1.0),
        Physical(60.0, "contact", FRONT_DOOR, 0.0),  # works before the spell
        Physical(200.0, "contact", FRONT_DOOR, 1.0),  # sticks open here
        Physical(210.0, "contact", FRONT_DOOR, 0.0),
        Physical(500.0, "contact", FRONT_DOOR, 1.0),
        Physical(510.0, "contact", FRONT_DOOR, 0.0),
        Physical(1100.0, "contact", FRONT_DOOR, 1.0),  # still "open" as far as it knows
        Physical(1110.0, "contact", FRONT_DOOR, 0.0),  # the next real change
        *(Physical(t, "move", "kitchen", 1.0) for t in (300.0, 400.0, 500.0, 1200.0)),
    ]
    reported = list(firmware.report(sorted(physical), _NoQuirks(0)))
    door = [(e.ts, e.value) for e in reported if e.sensor == FRONT_DOOR]
    assert door == [(50.0, 1.0), (60.0, 0.0), (200.0, 1.0), (1110.0, 0.0)]
    pir = [e.ts for e in reported if e.sensor == "kitchen-pir"]
    assert pir == [300.0, 1200.0]


class _NoQuirks(random.Random):
    """A generator whose every draw says "no miss, no bounce", so only sticking shows."""

    def random(self) -> float:
        return 0.99


def test_stuck_and_silent_spells_are_labelled_as_context() -> None:
    traits = dataclasses.replace(TIDY, stuck_per_month=6.0)
    home = SimulatedHome(home_id="h", start=START, seed=9, traits=traits)
    home.sensor_events_until(START + timedelta(days=60))
    labels = home.take_labels()
    stuck = [lb for lb in labels if lb.kind == "sensor_stuck"]
    silent = [lb for lb in labels if lb.kind == "sensor_dropout"]
    assert stuck
    assert silent
    for label in stuck + silent:
        assert label.end is not None
        assert timedelta(days=1) <= label.end - label.start <= timedelta(days=10)
        assert label.detail in {d.sensor for d in home.sensors}
    assert "sensor_stuck" in CONTEXT_KINDS

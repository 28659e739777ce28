"""``carewatch-eval --inject`` and ``--feedback`` on a small recording built here, of known days.

The home's days are written by the test, so where an injection may fall is
checked against what the test knows happened (getting-up, bed, the afternoon
out), not against the evaluation's own reading of the recording.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from edge.protocol import Reading, ReadingKind, SensorHealth
from firmware_sim.incidents import IncidentLabel
from firmware_sim.recording import (
    FORMAT,
    Record,
    RecordedReading,
    RecordedStatus,
    StreamWriter,
    read_recording,
    read_stream,
)
from server.detect.watch import HomeWatch
from server.domain.alerts import AlertKind
from server.domain.findings import Finding
from server.evaluation.baselines import FixedTimer
from server.evaluation.cli import evaluate_homes, main
from server.evaluation.forks import replay_with_forks
from server.evaluation.inject import Injection, inject, routine_of
from server.evaluation.replay import replay

ZONE = ZoneInfo("Europe/London")
HOME = "hub-test-1"
# A winter Monday: local time is UTC.
DAY0 = datetime(2026, 1, 5, tzinfo=UTC)
DAYS = 12
SENSORS = [
    ("kitchen-pir", "motion", "kitchen"),
    ("lounge-pir", "motion", "lounge"),
    ("bedroom-pir", "motion", "bedroom"),
    ("bed-pad", "bed", "bedroom"),
    ("bathroom-pir", "motion", "bathroom"),
    ("front-door", "contact", "front_door"),
]
ROOMS = {sensor: room for sensor, _, room in SENSORS}


@dataclass
class Truth:
    """What the test knows of the resident's days."""

    ups: dict[int, datetime] = field(default_factory=dict)  # day index -> getting-up
    beds: dict[int, datetime] = field(default_factory=dict)  # day index -> to bed
    out: list[tuple[datetime, datetime]] = field(default_factory=list)


def _write_home(folder: Path, *, night_walk: bool = False, seed: int = 7) -> Truth:
    """A resident who gets up about 07:00, is out 14:00-15:00 and in bed by 22:30."""
    rng = random.Random(seed)
    truth = Truth()
    (folder / "homes").mkdir(parents=True)
    with (folder / "homes" / f"{HOME}.jsonl").open("w", encoding="utf-8") as out:
        stream = StreamWriter(out)
        stream.status(DAY0.timestamp(), True)

        def moves(sensor: str, kind: str, a: datetime, b: datetime, every: float) -> None:
            t = a.timestamp()
            while t < b.timestamp():
                stream.reading(t, sensor, kind, 1.0)
                if kind == "motion":
                    stream.reading(t + 2, sensor, kind, 0.0)  # a PIR that reports its clears
                t += rng.uniform(0.5, 1.5) * every

        for d in range(DAYS):
            day = DAY0 + timedelta(days=d)
            # Whole seconds: the recording keeps milliseconds.
            up = day + timedelta(hours=7, seconds=round(rng.uniform(-20, 20) * 60))
            bed = day + timedelta(hours=22, seconds=round(rng.uniform(0, 30) * 60))
            truth.ups[d], truth.beds[d] = up, bed
            asleep = day + timedelta(minutes=1)
            if night_walk:
                # Out with the dog at 02:30 every night, for 20 minutes.
                walk = day + timedelta(hours=2, minutes=30)
                back = walk + timedelta(minutes=20)
                moves("bed-pad", "bed", asleep, walk - timedelta(minutes=5), 600)
                for at in (walk, back):
                    stream.reading(at.timestamp(), "front-door", "contact", 1.0)
                    stream.reading(at.timestamp() + 20, "front-door", "contact", 0.0)
                stream.reading(back.timestamp() + 40, "bedroom-pir", "motion", 1.0)
                asleep = back + timedelta(minutes=2)
            moves("bed-pad", "bed", asleep, up - timedelta(minutes=5), 600)
            moves("bathroom-pir", "motion", up - timedelta(minutes=4), up, 60)
            leave, back = day + timedelta(hours=14), day + timedelta(hours=15)
            moves("kitchen-pir", "motion", up, up + timedelta(hours=2), 300)
            moves("lounge-pir", "motion", up + timedelta(hours=2), leave, 400)
            stream.reading(leave.timestamp(), "front-door", "contact", 1.0)
            stream.reading(leave.timestamp() + 15, "front-door", "contact", 0.0)
            stream.reading(back.timestamp(), "front-door", "contact", 1.0)
            stream.reading(back.timestamp() + 15, "front-door", "contact", 0.0)
            truth.out.append((leave, back))
            moves(
                "kitchen-pir",
                "motion",
                back + timedelta(seconds=30),
                back + timedelta(hours=1),
                300,
            )
            moves(
                "lounge-pir", "motion", back + timedelta(hours=1), bed - timedelta(minutes=10), 400
            )
            moves("bedroom-pir", "motion", bed - timedelta(minutes=10), bed, 120)
            stream.flush()
    manifest = {
        "format": FORMAT,
        "generator": "tests",
        "start": DAY0.isoformat().replace("+00:00", "Z"),
        "end": (DAY0 + timedelta(days=DAYS)).isoformat().replace("+00:00", "Z"),
        "heartbeat_s": 60.0,
        "homes": [
            {
                "home": HOME,
                "timezone": "Europe/London",
                "persona": None,
                "stream": f"homes/{HOME}.jsonl",
                "sensors": [{"sensor": s, "kind": k, "room": r} for s, k, r in SENSORS],
            }
        ],
    }
    (folder / "trial.json").write_text(json.dumps(manifest), encoding="utf-8")
    return truth


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Truth]:
    folder = tmp_path_factory.mktemp("home")
    return folder, _write_home(folder)


def _injections(folder: Path, kind: str, *, seed: int = 3, count: int = 12) -> list[Injection]:
    recording = read_recording(folder)
    readings = [
        r.reading for r in read_stream(recording.homes[0].stream) if isinstance(r, RecordedReading)
    ]
    return inject(
        kind,
        home=HOME,
        readings=readings,
        rooms=ROOMS,
        zone=ZONE,
        start=recording.start,
        end=recording.end,
        count=count,
        seed=seed,
    )


def _day(at: datetime) -> int:
    return (at - DAY0).days


def test_injections_are_the_same_for_a_seed_and_differ_between_seeds(
    home: tuple[Path, Truth],
) -> None:
    folder, _ = home
    for kind in ("fall", "not_up", "wander_out"):
        first = _injections(folder, kind, seed=3)
        assert len(first) == 12
        assert _injections(folder, kind, seed=3) == first
        assert _injections(folder, kind, seed=4) != first


def test_an_injected_fall_lies_where_the_resident_is_home_and_up(home: tuple[Path, Truth]) -> None:
    folder, truth = home
    falls = _injections(folder, "fall")
    assert len(falls) == 12
    for fall in falls:
        d = _day(fall.cut)
        assert d >= 7, "the detector first learns a week of the resident's days"
        assert truth.ups[d] < fall.cut < truth.beds[d]
        assert time(8) <= fall.cut.astimezone(ZONE).time() < time(21)
        assert not any(left <= fall.cut < back for left, back in truth.out), "out, not fallen"
        assert fall.resume - fall.cut == timedelta(hours=8)
        assert fall.label.kind == "fall"
        assert fall.label.start == fall.cut
    # Drawn across the days, not all at one moment.
    assert len({f.cut.date() for f in falls}) >= 3


def test_a_not_up_cut_lies_in_the_night_before_that_days_getting_up(
    home: tuple[Path, Truth],
) -> None:
    folder, truth = home
    for not_up in _injections(folder, "not_up"):
        d = _day(not_up.cut)
        assert truth.beds[d - 1] < not_up.cut < truth.ups[d]
        assert truth.ups[d] - not_up.cut <= timedelta(minutes=90 + 40)
        assert not_up.resume - not_up.cut == timedelta(hours=8)
        assert not_up.cut < not_up.label.start <= truth.ups[d]


def test_a_wander_opens_the_front_door_at_night_then_nothing_for_hours(
    home: tuple[Path, Truth],
) -> None:
    folder, truth = home
    for wander in _injections(folder, "wander_out"):
        d = _day(wander.cut)
        doors = [r for r in wander.inserted if ROOMS[r.sensor] == "front_door"]
        assert [r.value for r in doors] == [1.0, 0.0]
        opened = doors[0].ts.astimezone(ZONE)
        assert time(2) <= opened.time() < time(4)
        assert truth.beds[d - 1] < doors[0].ts < truth.ups[d]
        assert timedelta(hours=1) <= wander.resume - wander.cut <= timedelta(hours=3)
        assert wander.label.start == doors[0].ts


def test_a_home_with_no_front_door_sensor_gets_no_wandering(home: tuple[Path, Truth]) -> None:
    folder, _ = home
    recording = read_recording(folder)
    readings = [
        r.reading for r in read_stream(recording.homes[0].stream) if isinstance(r, RecordedReading)
    ]
    no_door = {s: r for s, r in ROOMS.items() if r != "front_door"}
    made = inject(
        "wander_out",
        home=HOME,
        readings=readings,
        rooms=no_door,
        zone=ZONE,
        start=recording.start,
        end=recording.end,
        count=5,
        seed=1,
    )
    assert made == []
    routine = routine_of(readings, ROOMS, ZONE)
    assert len(routine.days) >= DAYS - 1


def test_the_fixed_timer_finds_an_injected_fall_at_its_timer(home: tuple[Path, Truth]) -> None:
    folder, _ = home
    recording = read_recording(folder)
    records = list(read_stream(recording.homes[0].stream))
    done = evaluate_homes(
        recording, ["fixed-timer"], inject=["fall"], inject_count=12, seed=3, workers=1
    )
    column = done.columns["fixed-timer"]
    assert column.injected.labelled["fall"] == 12
    motions = sorted(
        r.reading.ts
        for r in records
        if isinstance(r, RecordedReading)
        and r.reading.kind is ReadingKind.MOTION
        and r.reading.value >= 1
    )
    found = 0
    for injection, caught in column.injections:
        last = max(t for t in motions if t < injection.cut)
        timer = last + timedelta(hours=3)
        if timer.astimezone(ZONE).time() < time(21, 59):
            assert caught is not None, f"the timer should have gone off at {timer}"
            assert abs(caught.raised_at - timer) <= timedelta(minutes=1)
            found += 1
        else:
            assert caught is None, "the timer is off after 22:00"
    assert found >= 6
    assert column.injected.detected["fall"] == found


def test_a_fork_that_injects_nothing_replays_exactly_as_the_recording(tmp_path: Path) -> None:
    # Walks at night, so that there are alerts to compare.
    _write_home(tmp_path, night_walk=True)
    recording = read_recording(tmp_path)
    records = list(read_stream(recording.homes[0].stream))
    end = recording.end
    whole = list(replay(HOME, ZONE, records, HomeWatch(), end=end, rooms=ROOMS))
    at = DAY0 + timedelta(days=8, hours=10)
    until = at + timedelta(days=3)
    label = IncidentLabel("fall", HOME, at, until, "nothing")
    nothing = Injection(label, at, at)
    forked = replay_with_forks(HOME, ZONE, records, HomeWatch(), [nothing], end=end, rooms=ROOMS)
    assert forked.alerts == whole
    ((_, fork_alerts),) = forked.injected
    assert fork_alerts == [a for a in whole if at <= a.raised_at < until + timedelta(hours=1)]
    assert whole, "the recording should raise something, or this compares nothing"


def test_feedback_closes_alerts_and_carewatch_learns_from_it(tmp_path: Path) -> None:
    # The resident walks the dog at 02:30 every night: the door at night, every night.
    _write_home(tmp_path, night_walk=True)
    recording = read_recording(tmp_path)
    done = evaluate_homes(recording, ["carewatch"], feedback=timedelta(minutes=30), workers=1)
    without = done.columns["carewatch"].raised
    with_feedback = done.columns["carewatch+feedback"].raised
    doors = [a for a in without if a.kind is AlertKind.DOOR_AT_NIGHT]
    doors_fed_back = [a for a in with_feedback if a.kind is AlertKind.DOOR_AT_NIGHT]
    assert len(doors) >= DAYS - 2, "without feedback, every night's walk is raised"
    assert len(doors_fed_back) < len(doors)
    assert len(with_feedback) <= len(without)
    score = done.columns["carewatch+feedback"].score
    assert score.false_alerts["urgent"] < done.columns["carewatch"].score.false_alerts["urgent"]


def test_the_command_injects_and_writes_a_summary_per_home(
    home: tuple[Path, Truth], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = home
    out = tmp_path / "result.json"
    argv = [str(folder), "--detectors", "carewatch,fixed-timer", "--workers", "1"]
    code = main(
        [
            *argv,
            *("--inject", "falls,not_up", "--inject", "wander_out", "--inject-count", "4"),
            *("--seed", "9", "--feedback", "45", "--json", str(out)),
        ]
    )
    assert code == 0
    table = capsys.readouterr().out
    assert "injected fall, not_up, wander_out (seed 9)" in table
    assert "| injected incident | n |" in table
    assert "| fall | 4 |" in table
    figures = json.loads(out.read_text())
    assert set(figures) == {"carewatch", "carewatch+feedback", "fixed-timer"}
    ours = figures["carewatch"]
    assert ours["injected"]["fall"]["labelled"] == 4
    assert len(ours["injections"]) == 12
    assert figures["carewatch+feedback"]["feedback_minutes"] == 45
    summary = ours["homes"][HOME]
    assert set(summary["false_per_resident_month"]) >= {"urgent", "advisory", "technical"}
    assert set(summary["injected"]) == {"fall", "not_up", "wander_out"}
    assert summary["resident_months"] == pytest.approx(DAYS / 30)
    assert len(ours["raised"]) == ours["alerts"]

    assert main([*argv, "--inject", "earthquake"]) == 2
    assert "cannot inject 'earthquake'" in capsys.readouterr().err


def test_an_injected_silence_keeps_the_hubs_own_statuses() -> None:
    # The resident stops; the hub's broadband does not care: its outage is still replayed.
    day = DAY0 + timedelta(days=1)
    records: list[Record] = [RecordedStatus(DAY0, True)]
    t = DAY0
    while t < day + timedelta(hours=10):
        records.append(RecordedReading(Reading("kitchen-pir", ReadingKind.MOTION, t, 1.0), t))
        t += timedelta(minutes=10)
    cut = day + timedelta(hours=10)
    records += [
        RecordedStatus(cut + timedelta(hours=1), False),
        RecordedStatus(cut + timedelta(hours=2), True),
    ]
    label = IncidentLabel("fall", HOME, cut, cut + timedelta(hours=8), "test")
    forked = replay_with_forks(
        HOME,
        ZONE,
        records,
        FixedTimer(),
        [Injection(label, cut, cut + timedelta(hours=8))],
        end=day + timedelta(days=1),
        rooms=ROOMS,
    )
    ((_, raised),) = forked.injected
    kinds = [a.kind for a in raised]
    assert AlertKind.HUB_OFFLINE in kinds
    assert AlertKind.NO_MOVEMENT in kinds


class _Listener(FixedTimer):
    """The fixed timer, remembering the sensor maps it was handed."""

    def __init__(self) -> None:
        super().__init__()
        self.maps: list[tuple[datetime, tuple[SensorHealth, ...]]] = []

    def health(self, hub: str, sensors: Sequence[SensorHealth], ts: datetime) -> list[Finding]:
        self.maps.append((ts, tuple(sensors)))
        return []


def test_the_replay_hands_the_recordings_sensor_map_over_once_at_the_start(
    home: tuple[Path, Truth],
) -> None:
    # As the hub's first heartbeat would: kinds and rooms, so coverage can be judged.
    folder, _ = home
    recording = read_recording(folder)
    entry = recording.homes[0]
    records = list(read_stream(entry.stream))
    listener = _Listener()
    end = recording.start + timedelta(days=1)
    list(replay(HOME, ZONE, records, listener, end=end, rooms=ROOMS, sensors=entry.sensors))
    assert listener.maps == [(recording.start, entry.sensors)]
    assert {(s.sensor, s.kind, s.room) for s in entry.sensors} == set(SENSORS)

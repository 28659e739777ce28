"""Offline mode: a trial on disk in the documented recording format, the same for the same seed."""

from __future__ import annotations

import filecmp
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from firmware_sim.cli import main
from firmware_sim.offline import export_trial
from firmware_sim.recording import (
    RecordedAlarm,
    RecordedReading,
    RecordedStatus,
    RecordingError,
    read_labels,
    read_recording,
    read_stream,
)
from firmware_sim.scenario import Scenario

SMALL = Scenario.model_validate(
    {
        "trial": {"homes": 4, "days": 4, "seed": 3, "quiet_days": 0},
        "incidents": {"hub_offline": 30.0, "pendant": 30.0, "fall": 0.0},
    }
)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_the_same_seed_writes_the_same_recording_with_any_number_of_workers(tmp_path: Path) -> None:
    export_trial(SMALL, tmp_path / "a", workers=1)
    export_trial(SMALL, tmp_path / "b", workers=2)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    export_trial(SMALL.with_trial(seed=4), tmp_path / "c", workers=1)
    different = filecmp.dircmp(tmp_path / "a" / "homes", tmp_path / "c" / "homes").diff_files
    assert different


def test_a_recording_reads_back_in_order_with_outages_delivered_late(tmp_path: Path) -> None:
    summary = export_trial(SMALL, tmp_path / "rec", workers=1)
    recording = read_recording(tmp_path / "rec")
    assert [h.home for h in recording.homes] == [f"hub-sim-000{i}" for i in range(1, 5)]
    assert recording.end - recording.start == timedelta(days=4)
    assert recording.labels is not None
    labels = read_labels(recording.labels)
    assert len(labels) == summary.labels
    lines = 0
    for home in recording.homes:
        records = list(read_stream(home.stream))
        lines += len(records)
        times = [r.reading.ts if isinstance(r, RecordedReading) else r.ts for r in records]
        assert times == sorted(times)
        assert all(recording.start <= t < recording.end for t in times)
        outages: list[tuple[datetime, datetime]] = []
        for lb in sorted(labels, key=lambda lb: lb.start):
            if lb.kind != "hub_offline" or lb.home != home.home or lb.end is None:
                continue
            # Outages that overlap are one long one.
            if outages and lb.start <= outages[-1][1]:
                outages[-1] = (outages[-1][0], max(outages[-1][1], lb.end))
            else:
                outages.append((lb.start, lb.end))
        assert outages, "the scenario gives every home outages"
        statuses = [r for r in records if isinstance(r, RecordedStatus)]
        for went, back in outages:
            if back >= recording.end:
                continue
            # Offline at the start, online at the end, no heartbeat between.
            assert any(not s.online and s.ts == went for s in statuses)
            assert any(s.online and s.ts == back for s in statuses)
            assert not [s for s in statuses if s.online and went < s.ts < back]
            late = [
                r for r in records if isinstance(r, RecordedReading) and went <= r.reading.ts < back
            ]
            assert late
            assert all(r.received == back for r in late)
        on_time = [
            r for r in records if isinstance(r, RecordedReading) and r.received == r.reading.ts
        ]
        assert len(on_time) > 100
        heartbeats = [s for s in statuses if s.online and s.sensors]
        assert heartbeats
        # Every device the installer fitted, as the home's sensor map lists them.
        fitted = {s.sensor for s in home.sensors}
        assert {"bedroom-pir", "bathroom-pir", "bed"} <= fitted
        assert {s.sensor for s in heartbeats[0].sensors} == fitted
        alarms = [r for r in records if isinstance(r, RecordedAlarm)]
        pendants = [lb.start for lb in labels if lb.kind == "pendant" and lb.home == home.home]
        assert sorted(a.ts for a in alarms) == sorted(p for p in pendants if p < recording.end)
    assert lines == summary.lines


def test_a_bad_line_names_the_file_and_line(tmp_path: Path) -> None:
    stream = tmp_path / "home.jsonl"
    good = {
        "type": "reading",
        "ts": "2026-11-24T09:00:00.000Z",
        "sensor": "s",
        "kind": "motion",
        "value": 1,
    }
    stream.write_text(json.dumps(good) + "\n" + json.dumps(good | {"kind": "teleport"}) + "\n")
    with pytest.raises(RecordingError, match=r"home\.jsonl, line 2: 'teleport'"):
        list(read_stream(stream))
    (tmp_path / "trial.json").write_text('{"format": "something-else/9"}')
    with pytest.raises(RecordingError, match="expected 'carewatch-recording/1'"):
        read_recording(tmp_path)


def test_the_export_command_writes_a_recording_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "trial"
    argv = [
        "export",
        "--homes",
        "2",
        "--days",
        "2",
        "--seed",
        "9",
        "--out",
        str(out),
        "--workers",
        "1",
    ]
    assert main(argv) == 0
    printed = capsys.readouterr()
    assert "2 homes x 2 days (seed 9)" in printed.out
    assert "2/2" in printed.err  # the progress bar
    assert len(read_recording(out).homes) == 2
    assert main(argv) == 2
    assert "is not empty" in capsys.readouterr().err

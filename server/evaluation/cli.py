"""``carewatch-eval``: carewatch's detectors and today's baselines, side by side on the same homes.

    carewatch-eval /tmp/trial                    # every detector, a table on stdout
    carewatch-eval /tmp/trial --json result.json # and the figures, and every alert, as JSON

Reads a recording (docs/recording-format.md): simulated homes from
``carewatch-sim export``, or real homes converted to the format. With a
labels file it reports, per incident kind, recall and the median and 90th
percentile time to detect, and false alerts per resident-month by severity;
without one, the alerts raised per resident-month by kind and severity.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from firmware_sim.incidents import INCIDENT_KINDS
from firmware_sim.progress import Progress
from firmware_sim.recording import (
    HomeEntry,
    Recording,
    RecordingError,
    read_labels,
    read_recording,
    read_stream,
)
from server.detect.inactivity import InactivityDetector
from server.detect.watch import HomeWatch
from server.evaluation.baselines import FixedTimer, RuleSet
from server.evaluation.replay import Detector, RaisedAlert, replay
from server.evaluation.scoring import Score, score

__all__ = ["DETECTORS", "evaluate", "main"]

# Name → a fresh detector for one home.
DETECTORS: dict[str, Callable[[], Detector]] = {
    "carewatch": HomeWatch,
    "fixed-limits": InactivityDetector,
    "fixed-timer": FixedTimer,
    "rules": RuleSet,
}


def _replay_home(job: tuple[Recording, HomeEntry, tuple[str, ...]]) -> dict[str, list[RaisedAlert]]:
    recording, home, detectors = job
    records = list(read_stream(home.stream))
    zone = ZoneInfo(home.timezone)
    rooms = {s.sensor: s.room for s in home.sensors if s.room}
    return {
        name: list(
            replay(home.home, zone, records, DETECTORS[name](), end=recording.end, rooms=rooms)
        )
        for name in detectors
    }


def evaluate(
    recording: Recording,
    detectors: Sequence[str],
    *,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, tuple[Score, list[RaisedAlert]]]:
    """Replay every home through each detector and score them against the labels."""
    jobs = [(recording, home, tuple(detectors)) for home in recording.homes]
    alerts: dict[str, list[RaisedAlert]] = {name: [] for name in detectors}
    workers = workers or min(os.cpu_count() or 1, len(jobs)) or 1

    def collect(result: dict[str, list[RaisedAlert]]) -> None:
        for name, raised in result.items():
            alerts[name].extend(raised)

    if workers == 1:
        for done, job in enumerate(jobs, start=1):
            collect(_replay_home(job))
            if progress:
                progress(done, len(jobs))
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for done, result in enumerate(pool.imap_unordered(_replay_home, jobs), start=1):
                collect(result)
                if progress:
                    progress(done, len(jobs))
    labels = read_labels(recording.labels) if recording.labels else []
    return {
        name: (
            score(
                raised,
                labels,
                homes=len(recording.homes),
                start=recording.start,
                end=recording.end,
            ),
            raised,
        )
        for name, raised in alerts.items()
    }


def _kinds(s: Score) -> list[str]:
    """Incident kinds in the simulator's order, then any other labelled kind scored."""
    return [*INCIDENT_KINDS, *sorted(k for k in s.labelled if k not in INCIDENT_KINDS)]


def _minutes(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} min" if value < 120 else f"{value / 60:.1f} h"


def _table(results: dict[str, tuple[Score, list[RaisedAlert]]], labelled: bool) -> str:
    names = list(results)
    lines = []
    if labelled:
        lines.append(
            "| incident | n | "
            + " | ".join(f"{n}: recall, median / p90 to detect" for n in names)
            + " |"
        )
        lines.append("| --- | --- |" + " --- |" * len(names))
        first = results[names[0]][0]
        for kind in _kinds(first):
            if not first.labelled[kind]:
                continue
            cells = []
            for name in names:
                s = results[name][0]
                recall = s.recall(kind)
                cells.append(
                    "-"
                    if recall is None
                    else f"{recall:.0%}, {_minutes(s.minutes_to_detect(kind, 0.5))} / "
                    f"{_minutes(s.minutes_to_detect(kind, 0.9))}"
                )
            lines.append(f"| {kind} | {first.labelled[kind]} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append("| false alerts per resident-month | " + " | ".join(names) + " |")
        lines.append("| --- |" + " --- |" * len(names))
        for severity in ("emergency", "urgent", "advisory", "technical"):
            lines.append(
                f"| {severity} | "
                + " | ".join(
                    f"{results[n][0].false_per_resident_month(severity):.2f}" for n in names
                )
                + " |"
            )
        lines.append(
            "| no-movement / not-up from a hub outage | "
            + " | ".join(str(results[n][0].silences_in_outages) for n in names)
            + " |"
        )
        return "\n".join(lines)
    months = results[names[0]][0].resident_months
    lines.append("| alerts per resident-month | " + " | ".join(names) + " |")
    lines.append("| --- |" + " --- |" * len(names))
    kinds = sorted(
        {(a.kind.value, a.severity.value) for _, raised in results.values() for a in raised}
    )
    counts = {
        n: Counter((a.kind.value, a.severity.value) for a in raised)
        for n, (_, raised) in results.items()
    }
    for kind, severity in kinds:
        lines.append(
            f"| {kind} ({severity}) | "
            + " | ".join(f"{counts[n][(kind, severity)] / months:.2f}" for n in names)
            + " |"
        )
    return "\n".join(lines)


def _json(results: dict[str, tuple[Score, list[RaisedAlert]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (s, raised) in results.items():
        out[name] = {
            "resident_months": s.resident_months,
            "incidents": {
                kind: {
                    "labelled": s.labelled[kind],
                    "detected": s.detected[kind],
                    "recall": s.recall(kind),
                    "median_minutes": s.minutes_to_detect(kind, 0.5),
                    "p90_minutes": s.minutes_to_detect(kind, 0.9),
                }
                for kind in _kinds(s)
                if s.labelled[kind]
            },
            "false_per_resident_month": {
                sev: s.false_per_resident_month(sev)
                for sev in ("emergency", "urgent", "advisory", "technical")
            },
            "false_per_resident_month_by_kind": {
                kind: n / s.resident_months for kind, n in sorted(s.false_by_kind.items())
            },
            "silences_in_outages": s.silences_in_outages,
            "alerts": len(raised),
            # Every alert with its reason, so a false one can be read and its cause found.
            "raised": [
                {
                    "home": a.home,
                    "kind": a.kind.value,
                    "severity": a.severity.value,
                    "raised_at": a.raised_at.isoformat(),
                    "event_at": a.event_at.isoformat(),
                    "reason": a.reason,
                }
                for a in sorted(raised, key=lambda a: (a.home, a.raised_at))
            ],
        }
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``carewatch-eval``."""
    parser = argparse.ArgumentParser(
        prog="carewatch-eval",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "recording", type=Path, help="a recording directory (trial.json, homes/, labels.jsonl)"
    )
    parser.add_argument(
        "--detectors",
        default=",".join(DETECTORS),
        help=f"comma-separated, from {', '.join(DETECTORS)} (default: all)",
    )
    parser.add_argument("--workers", type=int, help="processes (default: one per core)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.detectors.split(",") if n.strip()]
    unknown = [n for n in names if n not in DETECTORS]
    if unknown or not names:
        print(
            f"carewatch-eval: unknown detector {unknown[0] if unknown else ''!r}; choose from {', '.join(DETECTORS)}",
            file=sys.stderr,
        )
        return 2
    try:
        recording = read_recording(args.recording)
        started = time.monotonic()
        results = evaluate(
            recording,
            names,
            workers=args.workers,
            progress=Progress(f"{len(recording.homes)} homes"),
        )
    except RecordingError as exc:
        print(f"carewatch-eval: {exc}", file=sys.stderr)
        return 2
    days = (recording.end - recording.start).total_seconds() / 86400
    seed = recording.meta.get("scenario", {}).get("trial", {}).get("seed")
    print(
        f"\n{len(recording.homes)} homes x {days:g} days"
        + (f", seed {seed}" if seed is not None else "")
        + f" ({time.monotonic() - started:.0f} s)\n"
    )
    print(_table(results, labelled=recording.labels is not None))
    if args.json:
        args.json.write_text(json.dumps(_json(results), indent=1) + "\n", encoding="utf-8")
    return 0

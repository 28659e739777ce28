"""``carewatch-eval``: carewatch's detectors and today's baselines, side by side on the same homes.

    carewatch-eval /tmp/trial                    # every detector, a table on stdout
    carewatch-eval /tmp/trial --json result.json # and the figures, and every alert, as JSON
    carewatch-eval realhomes/house --inject falls,not_up,wander_out --feedback 30

Reads a recording (docs/recording-format.md): simulated homes from
``carewatch-sim export``, or real homes converted to the format. With a
labels file it reports, per incident kind, recall and the median and 90th
percentile time to detect, and false alerts per resident-month by severity;
without one, the alerts raised per resident-month by kind and severity.

``--inject`` makes labelled copies of each home's stream, each with one
injected incident (a fall, a resident not up, a resident out of the front door
at night; docs/evaluation.md), and scores them the same way. ``--feedback``
replays a carer closing each alert that many minutes after it was raised (as a
false alarm unless it was about an incident), next to the run without.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from firmware_sim.incidents import INCIDENT_KINDS, IncidentLabel
from firmware_sim.progress import Progress
from firmware_sim.recording import (
    HomeEntry,
    RecordedReading,
    Recording,
    RecordingError,
    read_labels,
    read_recording,
    read_stream,
)
from server.detect.inactivity import InactivityDetector
from server.detect.watch import HomeWatch
from server.evaluation.baselines import FixedTimer, RuleSet
from server.evaluation.forks import Forked, replay_with_forks
from server.evaluation.inject import INJECTABLE, Injection, inject, routine_of
from server.evaluation.replay import Detector, RaisedAlert
from server.evaluation.scoring import DETECTED_BY, Score, is_false_alarm, score

__all__ = ["DETECTORS", "Column", "Evaluation", "evaluate", "evaluate_homes", "main"]

# Name → a fresh detector for one home.
DETECTORS: dict[str, Callable[[], Detector]] = {
    "carewatch": HomeWatch,
    "fixed-limits": InactivityDetector,
    "fixed-timer": FixedTimer,
    "rules": RuleSet,
}
# What --inject accepts: the incident kinds, and "falls" as people say it.
_INJECT_WORDS = {"falls": "fall", **{k: k for k in INJECTABLE}}
_SEVERITIES = ("emergency", "urgent", "advisory", "technical")


@dataclass(slots=True, frozen=True)
class _Job:
    recording: Recording
    home: HomeEntry
    detectors: tuple[str, ...]
    labels: tuple[IncidentLabel, ...]
    inject: tuple[str, ...]
    inject_count: int
    seed: int
    warmup: timedelta
    feedback: timedelta | None


def _columns(detectors: Sequence[str], feedback: timedelta | None) -> list[tuple[str, str, bool]]:
    """(column, detector, with feedback): a detector that learns from feedback gets both."""
    out = []
    for name in detectors:
        out.append((name, name, False))
        if feedback is not None and hasattr(DETECTORS[name](), "feedback"):
            out.append((f"{name}+feedback", name, True))
    return out


def _replay_home(job: _Job) -> tuple[str, dict[str, Forked], list[str]]:
    recording, home = job.recording, job.home
    records = list(read_stream(home.stream))
    zone = ZoneInfo(home.timezone)
    rooms = {s.sensor: s.room for s in home.sensors if s.room}
    injections: list[Injection] = []
    notes: list[str] = []
    if job.inject:
        readings = [r.reading for r in records if isinstance(r, RecordedReading)]
        routine = routine_of(readings, rooms, zone)
        for kind in job.inject:
            made = inject(
                kind,
                home=home.home,
                readings=readings,
                rooms=rooms,
                zone=zone,
                start=recording.start,
                end=recording.end,
                count=job.inject_count,
                seed=job.seed,
                warmup=job.warmup,
                routine=routine,
            )
            injections += made
            if len(made) < job.inject_count:
                why = (
                    "no front-door sensor in its map"
                    if kind == "wander_out" and "front_door" not in rooms.values()
                    else f"{len(routine.days)} days with a getting-up found, "
                    f"{job.warmup.days} of warm-up first"
                )
                notes.append(
                    f"{home.home}: {len(made)} of {job.inject_count} {kind} injected ({why})"
                )
    labels = [label for label in job.labels if label.home == home.home]
    is_false = partial(_is_false, labels=labels, end=recording.end)
    out = {
        column: replay_with_forks(
            home.home,
            zone,
            records,
            DETECTORS[name](),
            injections,
            end=recording.end,
            rooms=rooms,
            sensors=home.sensors,
            feedback_after=job.feedback if with_feedback else None,
            is_false=is_false,
        )
        for column, name, with_feedback in _columns(job.detectors, job.feedback)
    }
    return home.home, out, notes


def _is_false(alert: RaisedAlert, *, labels: Sequence[IncidentLabel], end: Any) -> bool:
    return is_false_alarm(alert, labels, end=end)


@dataclass(slots=True)
class Column:
    """One detector's (or one detector with feedback's) figures."""

    score: Score  # the recording as it is, against its labels (if any)
    raised: list[RaisedAlert] = field(default_factory=list)
    injected: Score = field(default_factory=Score)  # the injected incidents
    homes: dict[str, Score] = field(default_factory=dict)
    injected_homes: dict[str, Score] = field(default_factory=dict)
    # Each injection and the first alert that caught it (or None).
    injections: list[tuple[Injection, RaisedAlert | None]] = field(default_factory=list)


@dataclass(slots=True)
class Evaluation:
    """Every column's figures, and what could not be injected."""

    columns: dict[str, Column]
    notes: list[str]
    feedback: timedelta | None = None
    inject: tuple[str, ...] = ()


def _caught(injection: Injection, raised: Sequence[RaisedAlert]) -> RaisedAlert | None:
    """The first alert that caught ``injection`` (as :func:`score` judges), or None."""
    label = injection.label
    probe = score(raised, [label], homes=0, start=injection.cut, end=injection.resume)
    if not probe.detected[label.kind]:
        return None
    wanted = DETECTED_BY[label.kind]
    return min((a for a in raised if a.kind in wanted), key=lambda a: a.raised_at, default=None)


def evaluate_homes(
    recording: Recording,
    detectors: Sequence[str],
    *,
    inject: Sequence[str] = (),
    inject_count: int = 40,
    seed: int = 1,
    warmup: timedelta = timedelta(days=7),
    feedback: timedelta | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Replay every home through each detector (with its injected copies) and score them."""
    labels = read_labels(recording.labels) if recording.labels else []
    jobs = [
        _Job(
            recording,
            home,
            tuple(detectors),
            tuple(labels),
            tuple(inject),
            inject_count,
            seed,
            warmup,
            feedback,
        )
        for home in recording.homes
    ]
    results: list[tuple[str, dict[str, Forked], list[str]]] = []
    workers = workers or min(os.cpu_count() or 1, len(jobs)) or 1
    if workers == 1:
        for done, job in enumerate(jobs, start=1):
            results.append(_replay_home(job))
            if progress:
                progress(done, len(jobs))
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for done, result in enumerate(pool.imap_unordered(_replay_home, jobs), start=1):
                results.append(result)
                if progress:
                    progress(done, len(jobs))
    results.sort(key=lambda r: r[0])
    by_home: dict[str, list[IncidentLabel]] = defaultdict(list)
    for label in labels:
        by_home[label.home].append(label)
    columns: dict[str, Column] = {}
    notes: list[str] = []
    start, end = recording.start, recording.end
    for home, forked, home_notes in results:
        notes += home_notes
        for name, run in forked.items():
            column = columns.setdefault(name, Column(Score()))
            column.raised.extend(run.alerts)
            column.homes[home] = score(run.alerts, by_home[home], homes=1, start=start, end=end)
            mine = column.injected_homes.setdefault(home, Score())
            for injection, raised in run.injected:
                # Only the incident's own label: its fork's other alerts are about it.
                for into in (column.injected, mine):
                    score(raised, [injection.label], homes=0, into=into, start=start, end=end)
                column.injections.append((injection, _caught(injection, raised)))
    for column in columns.values():
        score(
            column.raised,
            labels,
            homes=len(recording.homes),
            into=column.score,
            start=start,
            end=end,
        )
    return Evaluation(columns, notes, feedback, tuple(inject))


def evaluate(
    recording: Recording,
    detectors: Sequence[str],
    *,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, tuple[Score, list[RaisedAlert]]]:
    """Replay every home through each detector and score them against the labels."""
    done = evaluate_homes(recording, detectors, workers=workers, progress=progress)
    return {name: (c.score, c.raised) for name, c in done.columns.items()}


def _kinds(s: Score) -> list[str]:
    """Incident kinds in the simulator's order, then any other labelled kind scored."""
    return [*INCIDENT_KINDS, *sorted(k for k in s.labelled if k not in INCIDENT_KINDS)]


def _minutes(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} min" if value < 120 else f"{value / 60:.1f} h"


def _incident_rows(scores: dict[str, Score], title: str) -> list[str]:
    names = list(scores)
    lines = [
        f"| {title} | n | "
        + " | ".join(f"{n}: recall, median / p90 to detect" for n in names)
        + " |",
        "| --- | --- |" + " --- |" * len(names),
    ]
    first = scores[names[0]]
    for kind in _kinds(first):
        if not first.labelled[kind]:
            continue
        cells = []
        for name in names:
            s = scores[name]
            recall = s.recall(kind)
            cells.append(
                "-"
                if recall is None
                else f"{recall:.0%}, {_minutes(s.minutes_to_detect(kind, 0.5))} / "
                f"{_minutes(s.minutes_to_detect(kind, 0.9))}"
            )
        lines.append(f"| {kind} | {first.labelled[kind]} | " + " | ".join(cells) + " |")
    return lines


def _table(evaluation: Evaluation, labelled: bool) -> str:
    columns = evaluation.columns
    names = list(columns)
    lines: list[str] = []
    if evaluation.inject:
        lines += _incident_rows({n: c.injected for n, c in columns.items()}, "injected incident")
        lines.append("")
    if labelled:
        lines += _incident_rows({n: c.score for n, c in columns.items()}, "incident")
        lines.append("")
        lines.append("| false alerts per resident-month | " + " | ".join(names) + " |")
        lines.append("| --- |" + " --- |" * len(names))
        for severity in _SEVERITIES:
            lines.append(
                f"| {severity} | "
                + " | ".join(
                    f"{columns[n].score.false_per_resident_month(severity):.2f}" for n in names
                )
                + " |"
            )
        lines.append(
            "| no-movement / not-up from a hub outage | "
            + " | ".join(str(columns[n].score.silences_in_outages) for n in names)
            + " |"
        )
        return "\n".join(lines)
    months = columns[names[0]].score.resident_months
    lines.append("| alerts per resident-month | " + " | ".join(names) + " |")
    lines.append("| --- |" + " --- |" * len(names))
    kinds = sorted({(a.kind.value, a.severity.value) for c in columns.values() for a in c.raised})
    counts = {
        n: Counter((a.kind.value, a.severity.value) for a in c.raised) for n, c in columns.items()
    }
    for kind, severity in kinds:
        lines.append(
            f"| {kind} ({severity}) | "
            + " | ".join(f"{counts[n][(kind, severity)] / months:.2f}" for n in names)
            + " |"
        )
    for severity in _SEVERITIES[1:]:
        lines.append(
            f"| all {severity} | "
            + " | ".join(
                f"{columns[n].score.false_per_resident_month(severity):.2f}" for n in names
            )
            + " |"
        )
    return "\n".join(lines)


def _incidents(s: Score) -> dict[str, Any]:
    return {
        kind: {
            "labelled": s.labelled[kind],
            "detected": s.detected[kind],
            "recall": s.recall(kind),
            "median_minutes": s.minutes_to_detect(kind, 0.5),
            "p90_minutes": s.minutes_to_detect(kind, 0.9),
        }
        for kind in _kinds(s)
        if s.labelled[kind]
    }


def _false(s: Score) -> dict[str, Any]:
    return {
        "resident_months": s.resident_months,
        "false_per_resident_month": {sev: s.false_per_resident_month(sev) for sev in _SEVERITIES},
        "false_per_resident_month_by_kind": {
            kind: n / s.resident_months for kind, n in sorted(s.false_by_kind.items())
        }
        if s.resident_months
        else {},
    }


def _alert(a: RaisedAlert) -> dict[str, Any]:
    return {
        "home": a.home,
        "kind": a.kind.value,
        "severity": a.severity.value,
        "raised_at": a.raised_at.isoformat(),
        "event_at": a.event_at.isoformat(),
        "reason": a.reason,
    }


def _json(evaluation: Evaluation) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, c in evaluation.columns.items():
        s, raised = c.score, c.raised
        out[name] = {
            **_false(s),
            "incidents": _incidents(s),
            "silences_in_outages": s.silences_in_outages,
            "alerts": len(raised),
            "feedback_minutes": None
            if evaluation.feedback is None or not name.endswith("+feedback")
            else evaluation.feedback.total_seconds() / 60,
            # The injected copies: recall and time to detect, and each one, to look up.
            "injected": _incidents(c.injected),
            "injections": [
                {
                    "home": i.label.home,
                    "kind": i.label.kind,
                    "start": i.label.start.isoformat(),
                    "end": None if i.label.end is None else i.label.end.isoformat(),
                    "cut": i.cut.isoformat(),
                    "resume": i.resume.isoformat(),
                    "caught_by": None if caught is None else _alert(caught),
                }
                for i, caught in c.injections
            ],
            # Each home on its own: a council reads its homes one by one.
            "homes": {
                home: {**_false(hs), "injected": _incidents(c.injected_homes.get(home, Score()))}
                for home, hs in sorted(c.homes.items())
            },
            # Every alert with its reason, so a false one can be read and its cause found.
            "raised": [_alert(a) for a in sorted(raised, key=lambda a: (a.home, a.raised_at))],
        }
    return out


def _inject_kinds(values: Sequence[str]) -> list[str]:
    kinds: list[str] = []
    for value in values:
        for word in value.split(","):
            word = word.strip()
            if not word:
                continue
            if word not in _INJECT_WORDS:
                raise ValueError(
                    f"cannot inject {word!r}; choose from falls, {', '.join(INJECTABLE[1:])}"
                )
            if _INJECT_WORDS[word] not in kinds:
                kinds.append(_INJECT_WORDS[word])
    return kinds


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
    parser.add_argument(
        "--inject",
        action="append",
        default=[],
        metavar="KINDS",
        help="inject incidents into copies of each home: falls, not_up, wander_out "
        "(comma-separated or repeated; docs/evaluation.md)",
    )
    parser.add_argument(
        "--inject-count", type=int, default=40, help="injections per home and kind (default 40)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the injections (default 1)")
    parser.add_argument(
        "--warmup-days",
        type=float,
        default=7.0,
        help="no injection in a home's first days, while the detector learns (default 7)",
    )
    parser.add_argument(
        "--feedback",
        type=float,
        metavar="MINUTES",
        help="also replay a carer closing each alert MINUTES after it was raised",
    )
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
        kinds = _inject_kinds(args.inject)
    except ValueError as exc:
        print(f"carewatch-eval: {exc}", file=sys.stderr)
        return 2
    if args.inject_count < 1 or args.warmup_days < 0 or (args.feedback or 0) < 0:
        print(
            "carewatch-eval: --inject-count must be at least 1, --warmup-days and "
            "--feedback not negative",
            file=sys.stderr,
        )
        return 2
    try:
        recording = read_recording(args.recording)
        started = time.monotonic()
        evaluation = evaluate_homes(
            recording,
            names,
            inject=kinds,
            inject_count=args.inject_count,
            seed=args.seed,
            warmup=timedelta(days=args.warmup_days),
            feedback=None if args.feedback is None else timedelta(minutes=args.feedback),
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
        + (f", injected {', '.join(kinds)} (seed {args.seed})" if kinds else "")
        + (f", feedback after {args.feedback:g} min" if args.feedback is not None else "")
        + f" ({time.monotonic() - started:.0f} s)\n"
    )
    for note in evaluation.notes:
        print(f"note: {note}")
    if evaluation.notes:
        print()
    print(_table(evaluation, labelled=recording.labels is not None))
    if args.json:
        args.json.write_text(json.dumps(_json(evaluation), indent=1) + "\n", encoding="utf-8")
    return 0

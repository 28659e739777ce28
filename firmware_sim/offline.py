"""Offline mode: a whole trial written to disk as a recording, no broker, all cores.

Each home is simulated a day at a time and its stream written as it goes, so
memory stays flat however many days; homes are shared out over worker
processes. What a home's hub would have sent during a broadband outage is
written with the time the server would have received it (when the outage
ended), and the hub's heartbeats stop for the outage, as on the wire.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from edge.protocol import format_timestamp
from firmware_sim.devices import ALARM_KINDS
from firmware_sim.recording import FORMAT, StreamWriter, label_line
from firmware_sim.scenario import Scenario

__all__ = ["ExportSummary", "export_trial"]

# Real hubs send a heartbeat a minute; a recording keeps one an hour, with the
# sensors' battery and link every sixth.
HEARTBEAT_S = 3600.0
_HEALTH_EVERY = 6


@dataclass(slots=True, frozen=True)
class ExportSummary:
    """What an export wrote."""

    homes: int
    days: int
    lines: int
    labels: int
    out: Path


@dataclass(slots=True, frozen=True)
class _HomeResult:
    hub: str
    persona: str
    lines: int
    labels: list[str]
    # The home's sensor map: only what its installer fitted.
    sensors: list[dict[str, str | None]]


def _export_home(job: tuple[Scenario, int, Path]) -> _HomeResult:
    scenario, index, out = job
    spec = scenario.home(index)
    home = scenario.build(spec)
    start = home.start.timestamp()
    end = start + scenario.trial.days * 86400.0
    health_rng = random.Random(f"{spec.seed}:health")
    outages = _merged(home.outages)
    statuses = _hub_statuses(start, end, outages)
    next_status = next(statuses, None)
    with (out / "homes" / f"{spec.hub}.jsonl").open("w", encoding="utf-8") as f:
        stream = StreamWriter(f)
        reading, alarm = stream.reading, stream.alarm

        def status(ts: float, online: bool, with_health: bool) -> None:
            health = home.firmware.health(ts, health_rng) if with_health else ()
            stream.status(ts, online, health)

        for events in home.days(scenario.trial.days + 1):
            for ts, sensor, kind, value in events:
                if ts >= end:
                    break
                while next_status is not None and next_status[0] <= ts:
                    status(*next_status)
                    next_status = next(statuses, None)
                received = None
                if outages:
                    received = next((b for a, b in outages if a <= ts < b), None)
                if kind in ALARM_KINDS:
                    alarm(ts, sensor, kind, received)
                else:
                    reading(ts, sensor, kind, value, received)
            stream.flush()
        while next_status is not None:
            status(*next_status)
            next_status = next(statuses, None)
        stream.flush()
    labels = [label_line(label) for label in home.take_labels() if label.start.timestamp() < end]
    sensors = [{"sensor": d.sensor, "kind": d.kind, "room": d.room} for d in home.sensors]
    return _HomeResult(spec.hub, spec.persona.name, stream.lines, labels, sensors)


def _merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping outages as one: the broadband is back when the last one ends."""
    merged: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _hub_statuses(
    start: float, end: float, outages: list[tuple[float, float]]
) -> Iterator[tuple[float, bool, bool]]:
    """What the hub says, in time order: (ts, online, with the sensors' health).

    A heartbeat an hour while online (the sensors in every sixth), offline when
    the broadband goes, online with a full heartbeat when it is back.
    """
    beat, count = start, 0
    pending = [(a, b) for a, b in outages if a < end]
    while beat < end or pending:
        if pending and pending[0][0] <= beat:
            went, back = pending.pop(0)
            yield went, False, False
            if back < end:
                yield back, True, True
            while beat <= back:
                beat, count = beat + HEARTBEAT_S, count + 1
            continue
        if beat >= end:
            break
        yield beat, True, count % _HEALTH_EVERY == 0
        beat, count = beat + HEARTBEAT_S, count + 1


def export_trial(
    scenario: Scenario,
    out: Path,
    *,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ExportSummary:
    """Write ``scenario`` as a recording in ``out`` (created; must be empty if it exists)."""
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; choose a new directory for the recording")
    (out / "homes").mkdir(parents=True, exist_ok=True)
    trial = scenario.trial
    jobs = [(scenario, i, out) for i in range(trial.homes)]
    workers = workers or min(os.cpu_count() or 1, trial.homes)
    results: list[_HomeResult] = []
    if workers == 1:
        for job in jobs:
            results.append(_export_home(job))
            if progress:
                progress(len(results), trial.homes)
    else:
        # spawn: workers must not inherit the parent's threads or locks (a live run, a test).
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for result in pool.imap_unordered(_export_home, jobs, chunksize=4):
                results.append(result)
                if progress:
                    progress(len(results), trial.homes)
    results.sort(key=lambda r: r.hub)
    with (out / "labels.jsonl").open("w", encoding="utf-8") as f:
        for result in results:
            for line in result.labels:
                f.write(line + "\n")
    start = scenario.start()
    manifest = {
        "format": FORMAT,
        "generator": "carewatch-sim",
        "start": format_timestamp(start),
        "end": format_timestamp(start + timedelta(days=trial.days)),
        "heartbeat_s": HEARTBEAT_S,
        "scenario": json.loads(scenario.model_dump_json()),
        "homes": [
            {
                "home": r.hub,
                "timezone": trial.timezone,
                "persona": r.persona,
                "stream": f"homes/{r.hub}.jsonl",
                "sensors": r.sensors,
            }
            for r in results
        ],
    }
    (out / "trial.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return ExportSummary(
        homes=len(results),
        days=trial.days,
        lines=sum(r.lines for r in results),
        labels=sum(len(r.labels) for r in results),
        out=out,
    )

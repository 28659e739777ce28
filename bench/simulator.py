"""Simulator benchmarks: offline generation speed and memory, and a live week without loss.

    .venv/bin/python -m bench.simulator offline            # 1,000 homes x 30 days to a scratch dir
    .venv/bin/python -m bench.simulator live               # 200 homes x 7 days through real agents
    .venv/bin/python -m bench.simulator offline --no-write # print only

``offline`` times ``carewatch-sim export`` of 1,000 homes x 30 days on every
core, then exports one home for 30 and for 365 days in fresh processes and
compares their peak memory (it must not grow with the days).

``live`` provisions 200 hubs, starts a private Mosquitto and a real
``carewatch server`` on the machine's PostgreSQL, runs a simulated week through
200 real hub agents (MQTT 5, persistent sessions, on-disk outboxes; 100 to a
process) at ``--speed``, waits until every outbox is empty, and compares what PostgreSQL
holds with what offline mode generates for the same homes: every reading once,
none missing, none extra.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.ingest import ROOT, ServerProcess, _machine, private_broker, provision
from edge.protocol import Reading
from firmware_sim.fleet import LiveFleet
from firmware_sim.offline import export_trial
from firmware_sim.progress import Progress
from firmware_sim.scenario import Scenario
from server.store.pool import migrate
from tests.infra import fresh_database

_PEAK_RSS = """
import resource, sys, tempfile
from pathlib import Path
from firmware_sim.offline import export_trial
from firmware_sim.scenario import Scenario
days = int(sys.argv[1])
with tempfile.TemporaryDirectory() as out:
    export_trial(Scenario().with_trial(homes=1, days=days, seed=5), Path(out) / "r", workers=1)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak_rss_mb(days: int) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, str(days)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    return int(out.split()[-1]) / 1024


def offline(args: argparse.Namespace) -> dict[str, Any]:
    scenario = Scenario().with_trial(homes=args.homes, days=args.days, seed=args.seed)
    scratch = Path(tempfile.mkdtemp(prefix="carewatch-bench-sim-"))
    try:
        started = time.monotonic()
        summary = export_trial(scenario, scratch / "trial", progress=Progress("export"))
        seconds = time.monotonic() - started
        size = sum(p.stat().st_size for p in (scratch / "trial").rglob("*") if p.is_file())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {
        "homes": summary.homes,
        "days": summary.days,
        "records": summary.lines,
        "labels": summary.labels,
        "seconds": seconds,
        "records_per_s": summary.lines / seconds,
        "size_gb": size / 1e9,
        "workers": os.cpu_count(),
        "peak_rss_mb_30_days": _peak_rss_mb(30),
        "peak_rss_mb_365_days": _peak_rss_mb(365),
    }


def live(args: argparse.Namespace) -> dict[str, Any]:
    first_day = (datetime.now(UTC) - timedelta(days=args.days + 1)).date()
    scenario = Scenario.model_validate(
        {
            "trial": {
                "homes": args.homes,
                "days": args.days,
                "seed": args.seed,
                "start": first_day.isoformat(),
                "hub_prefix": "hub-live-",
                "quiet_days": 0,
            }
        }
    )
    specs = list(scenario.homes())
    start = scenario.start()
    end = start + timedelta(days=args.days)
    with (
        fresh_database(args.database_url) as database_url,
        private_broker() as mqtt_url,
        tempfile.TemporaryDirectory(prefix="carewatch-bench-outboxes-") as outboxes,
    ):
        migrate(database_url)
        provision(database_url, [spec.hub for spec in specs])
        server = ServerProcess(database_url, mqtt_url)
        try:
            fleet = LiveFleet(
                scenario,
                start=start,
                speed=args.speed,
                # Time stops at the end of the week, so the outboxes can empty.
                end=end,
                mqtt_url=mqtt_url,
                outbox_dir=Path(outboxes),
                heartbeat_s=300.0,
                homes_per_process=args.homes_per_process,
            )
            started = time.monotonic()
            cpu_before = server.cpu_seconds()
            fleet.start()
            progress = Progress("simulated hours")
            total = args.days * 24
            try:
                while True:
                    time.sleep(2.0)
                    now = fleet.clock.now()
                    progress(min(total, int((now - start).total_seconds() // 3600)), total)
                    if fleet.failed():
                        raise SystemExit("a simulator worker process died")
                    if now >= end and fleet.waiting() == 0:
                        break
                    if time.monotonic() - started > args.timeout:
                        raise SystemExit(f"not delivered within {args.timeout:.0f} s")
            finally:
                fleet.stop()
            seconds = time.monotonic() - started
            want = _offline_readings(scenario, end)
            _wait_until_stored(database_url, end, expected=len(want))
            stored, missing, extra, duplicates = _compare(database_url, want, end)
            return {
                "homes": args.homes,
                "days": args.days,
                "speed": args.speed,
                "seconds": seconds,
                "readings_expected": len(want),
                "readings_stored": stored,
                "missing": missing,
                "extra": extra,
                "duplicates": duplicates,
                "server_cpu_cores": (server.cpu_seconds() - cpu_before) / seconds,
                "server_rss_mb": server.rss_mb(),
            }
        finally:
            server.stop()


def _offline_readings(
    scenario: Scenario, end: datetime
) -> set[tuple[str, str, str, datetime, float]]:
    found: set[tuple[str, str, str, datetime, float]] = set()
    for spec in scenario.homes():
        for event in scenario.build(spec).events_until(end):
            if isinstance(event, Reading):
                found.add((spec.hub, event.sensor, event.kind.value, event.ts, event.value))
    return found


def _wait_until_stored(database_url: str, end: datetime, *, expected: int) -> None:
    """Until PostgreSQL has them all, or the count has stopped growing for 30 s."""
    last, still_since = -1, time.monotonic()
    while time.monotonic() - still_since < 30:
        with psycopg.connect(database_url) as conn:
            row = conn.execute("SELECT count(*) FROM readings WHERE ts <= %s", (end,)).fetchone()
        count = row[0] if row else 0
        if count >= expected:
            return
        if count != last:
            last, still_since = count, time.monotonic()
        time.sleep(1.0)


def _compare(
    database_url: str, want: set[tuple[str, str, str, datetime, float]], end: datetime
) -> tuple[int, int, int, int]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT hub_id, sensor, kind, ts, value FROM readings WHERE ts <= %s", (end,)
        ).fetchall()
    got = [(h, s, k, ts, v) for h, s, k, ts, v in rows]
    unique = set(got)
    for reading in sorted(want - unique)[:10]:
        print("missing:", reading, flush=True)
    for reading in sorted(unique - want)[:10]:
        print("extra:", reading, flush=True)
    return len(got), len(want - unique), len(unique - want), len(got) - len(unique)


def _write(title: str, command: str, rows: list[tuple[str, str]]) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    table = "".join(f"| {k} | {v} |\n" for k, v in rows)
    section = (
        f"\n## {title}, {datetime.now(UTC):%Y-%m-%d}\n\n"
        f"Machine: {_machine()}. Command: `{command}`.\n\n| | |\n| --- | --- |\n{table}"
    )
    path.write_text(text + section)
    print(f"results added to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    off = commands.add_parser("offline", help="1,000 homes x 30 days to disk")
    off.add_argument("--homes", type=int, default=1000)
    off.add_argument("--days", type=int, default=30)
    off.add_argument("--seed", type=int, default=77)
    on = commands.add_parser("live", help="homes through real agents, broker and server")
    on.add_argument("--homes", type=int, default=200)
    on.add_argument("--days", type=int, default=7)
    on.add_argument("--speed", type=float, default=1000.0)
    on.add_argument("--seed", type=int, default=78)
    on.add_argument("--timeout", type=float, default=3600.0)
    on.add_argument("--homes-per-process", type=int, default=100)
    on.add_argument(
        "--database-url",
        default=os.environ.get(
            "CAREWATCH_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    for sub in (off, on):
        sub.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    run: Callable[[argparse.Namespace], dict[str, Any]] = (
        offline if args.command == "offline" else live
    )
    result = run(args)
    print(json.dumps(result, indent=2, default=str), flush=True)
    if args.no_write:
        return
    if args.command == "offline":
        _write(
            "Simulator, offline mode",
            f".venv/bin/python -m bench.simulator offline --homes {args.homes} --days {args.days}",
            [
                ("homes x days", f"{result['homes']:,} x {result['days']}"),
                ("records written", f"{result['records']:,} ({result['size_gb']:.1f} GB)"),
                ("labels", f"{result['labels']:,}"),
                ("wall time", f"{result['seconds']:.1f} s on {result['workers']} processes"),
                ("records/s", f"{result['records_per_s']:,.0f}"),
                (
                    "peak memory of one home's process, 30 days / 365 days",
                    f"{result['peak_rss_mb_30_days']:.0f} MB / {result['peak_rss_mb_365_days']:.0f} MB",
                ),
            ],
        )
    else:
        _write(
            "Simulator, live mode",
            f".venv/bin/python -m bench.simulator live --homes {args.homes} --days {args.days} "
            f"--speed {args.speed:g}",
            [
                ("homes x simulated days", f"{result['homes']} x {result['days']}"),
                (
                    "path",
                    "simulated devices → hub agents (MQTT 5, outboxes) → Mosquitto → server → PostgreSQL",
                ),
                ("wall time", f"{result['seconds']:.0f} s at {result['speed']:g}x"),
                (
                    "readings expected (offline mode, same homes)",
                    f"{result['readings_expected']:,}",
                ),
                ("readings stored", f"{result['readings_stored']:,}"),
                (
                    "missing / extra / duplicated",
                    f"{result['missing']} / {result['extra']} / {result['duplicates']}",
                ),
                (
                    "server CPU / RSS",
                    f"{result['server_cpu_cores']:.2f} cores / {result['server_rss_mb']:.0f} MB",
                ),
            ],
        )


if __name__ == "__main__":
    main()

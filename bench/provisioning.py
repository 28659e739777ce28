"""Provisioning benchmark: ``carewatch hub import`` of N homes against ``hub add`` one at a time.

Both run as the installer runs them (the ``carewatch`` command, a fresh
database on the machine's PostgreSQL, a broker credentials directory), in the
same run: ``hub add`` for a sample of homes (its per-hub time extrapolated to
N) and ``hub import`` for all N, each home with a resident and a five-sensor
map. Reported: wall time, hubs a second, the import command's peak RSS, and
what a re-run of the same file costs (every hub skipped).

    .venv/bin/python -m bench.provisioning --homes 100000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from tests.infra import fresh_database

_SENSORS = (
    "kitchen-pir:motion:kitchen;lounge-pir:motion:lounge;bathroom-pir:motion:bathroom;"
    "front-door:contact:front_door;bed-pad:bed:bedroom"
)


def write_homes(path: Path, homes: int, *, prefix: str = "hub") -> None:
    """A CSV of ``homes`` homes, one resident each."""
    with path.open("w") as f:
        f.write("hub,resident,timezone,sensors\n")
        for n in range(homes):
            f.write(f"{prefix}-{n:06d},Resident {prefix} {n:06d},Europe/London,{_SENSORS}\n")


def _carewatch(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Run ``carewatch ARGS``: seconds, the child's peak RSS in bytes, its stderr."""
    started = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"carewatch {' '.join(args)} failed:\n{done.stderr}")
    # ru_maxrss is the largest child's so far (KiB on Linux): each import is the largest yet.
    peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) * 1024
    return took, peak, done.stderr


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure; the results as a dict."""
    with (
        fresh_database(args.database_url) as database_url,
        tempfile.TemporaryDirectory() as scratch,
    ):
        work = Path(scratch)
        env = {
            **os.environ,
            "CAREWATCH_DATABASE_URL": database_url,
            "CAREWATCH_BROKER_CREDENTIALS_DIR": str(work / "credentials"),
        }
        _carewatch(["migrate"], env)
        # Baseline, same run: one `hub add` process a hub, as a script would provision them.
        started = time.monotonic()
        for n in range(args.baseline):
            _carewatch(["hub", "add", f"one-{n:04d}", "--resident", f"One {n}"], env)
        per_hub_add = (time.monotonic() - started) / max(args.baseline, 1)
        homes = work / "homes.csv"
        write_homes(homes, args.homes)
        took, peak, progress = _carewatch(
            ["hub", "import", str(homes), "--out", str(work / "first.csv")], env
        )
        again, _, _ = _carewatch(
            ["hub", "import", str(homes), "--out", str(work / "again.csv")], env
        )
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM hubs), (SELECT count(*) FROM hub_sensors)"
            ).fetchone()
        assert row is not None
        hubs, sensors = row
        broker_lines = len((work / "credentials" / "passwords").read_text().splitlines())
    return {
        "homes": args.homes,
        "import_s": round(took, 1),
        "import_hubs_per_s": round(args.homes / took),
        "import_peak_rss_mb": round(peak / 2**20),
        "rerun_all_skipped_s": round(again, 1),
        "hubs_in_database": hubs,
        "sensor_map_rows": sensors,
        "broker_accounts": broker_lines,
        "baseline_hub_add_s_per_hub": round(per_hub_add, 3),
        "baseline_hub_add_extrapolated_h": round(per_hub_add * args.homes / 3600, 1),
        "progress_lines": progress.count("\n"),
        "machine": f"{platform.node()} {os.cpu_count()} cores, {platform.python_version()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--homes", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=20, help="hubs provisioned by hub add")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "CAREWATCH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server where a fresh database may be made",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    result = run(args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()

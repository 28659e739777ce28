"""Page and API latency: how long the carer's and responder's views take to load their data.

    .venv/bin/python -m bench.pages                  # results to docs/benchmarks.md
    .venv/bin/python -m bench.pages --no-write --requests 10

One simulated home's last five weeks of readings (about 16,000) are stored in a
fresh database on the machine's PostgreSQL, as if they had just arrived, and a
real carewatch server (on the machine's Mosquitto) answers what the pages ask
for: the record, the last 24 hours room by room, four weeks of routine
measures with today's verdict, the alert list, and a page itself. Each is asked
``--requests`` times, one after another, through a real HTTP connection; the
median and 95th percentile are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from pydantic import SecretStr

from bench.simulator import _write
from firmware_sim.offline import export_trial
from firmware_sim.recording import RecordedReading, read_recording, read_stream
from firmware_sim.scenario import Scenario
from server.runtime import CarewatchServer
from server.settings import ServerSettings
from server.store.pool import migrate
from tests.infra import SYSTEM_MQTT, SYSTEM_POSTGRES_URL, fresh_database
from tests.server.helpers import ADMIN_PASSWORD, forget_session, provision, token

HUB = "hub-bench-pages"
RESIDENT = "Mrs Bench Pages"


def _store_five_weeks(database_url: str, scratch: Path, seed: int) -> int:
    """One simulated home's 35 days, shifted to end now; returns how many readings."""
    scenario = Scenario.model_validate({"trial": {"homes": 1, "days": 35, "seed": seed}})
    export_trial(scenario, scratch)
    recording = read_recording(scratch)
    (home,) = recording.homes
    shift = datetime.now(UTC) - recording.end
    readings = [r.reading for r in read_stream(home.stream) if isinstance(r, RecordedReading)]
    provision(database_url, HUB, RESIDENT, timezone=home.timezone)
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY readings (hub_id, seq, sensor, kind, ts, value, received_at) FROM STDIN"
        ) as copy:
            for seq, reading in enumerate(readings):
                ts = reading.ts + shift
                copy.write_row(
                    (HUB, seq, reading.sensor, reading.kind.value, ts, reading.value, ts)
                )
        cur.execute(
            "UPDATE hubs SET state = 'online', last_seen_at = now(),"
            " last_status = jsonb_build_object('ts', now()) WHERE id = %s",
            (HUB,),
        )
    return len(readings)


async def _time(client: httpx.AsyncClient, path: str, requests: int) -> tuple[float, float]:
    await client.get(path)  # warm the caches once
    took = []
    for _ in range(requests):
        started = time.perf_counter()
        response = await client.get(path)
        took.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    took.sort()
    return statistics.median(took), took[min(len(took) - 1, round(0.95 * (len(took) - 1)))]


async def _measure(database_url: str, mqtt_url: str, requests: int) -> list[tuple[str, str]]:
    client_id = "carewatch-bench-pages"
    settings = ServerSettings(
        http_port=0, admin_password=SecretStr(ADMIN_PASSWORD), mqtt_client_id=client_id
    )
    rows: list[tuple[str, str]] = []
    try:
        async with (
            CarewatchServer(settings, database_url=database_url, mqtt_url=mqtt_url) as server,
            httpx.AsyncClient(base_url=server.http_url, timeout=30) as client,
        ):
            client.headers["Authorization"] = f"Bearer {await token(client)}"
            resident = (await client.get("/api/v1/residents")).json()[0]["id"]
            for label, path in (
                ("record", f"/api/v1/residents/{resident}"),
                ("last 24 h, room by room", f"/api/v1/residents/{resident}/timeline?hours=24"),
                (
                    "28 days of routine and today's verdict",
                    f"/api/v1/residents/{resident}/routine?days=28",
                ),
                ("active alerts", "/api/v1/alerts"),
                ("the carer page's HTML", "/static/carer.html"),
            ):
                median, p95 = await _time(client, path, requests)
                print(f"{label}: {median:.0f} ms median, {p95:.0f} ms p95", flush=True)
                rows.append(
                    (f"`GET {path.split('?')[0]}`: {label}", f"{median:.0f} / {p95:.0f} ms")
                )
    finally:
        forget_session(mqtt_url, client_id)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--database-url", default=SYSTEM_POSTGRES_URL)
    parser.add_argument("--mqtt-url", default="mqtt://{}:{}".format(*SYSTEM_MQTT))
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    with (
        fresh_database(args.database_url) as database_url,
        tempfile.TemporaryDirectory(prefix="carewatch-bench-") as scratch,
    ):
        migrate(database_url)
        stored = _store_five_weeks(database_url, Path(scratch) / "trial", args.seed)
        print(f"{stored} readings stored for one home", flush=True)
        rows = asyncio.run(_measure(database_url, args.mqtt_url, args.requests))
    rows.insert(0, ("readings stored for the home (35 days)", f"{stored:,}"))
    if not args.no_write:
        _write(
            "Pages and their data (median / p95 per request)",
            ".venv/bin/python -m bench.pages",
            rows,
        )


if __name__ == "__main__":
    main()

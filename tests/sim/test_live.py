"""Live mode: simulated homes through real hub agents and a real broker into the server, exactly once."""

from __future__ import annotations

import asyncio
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from firmware_sim.cli import main
from firmware_sim.clock import CatchUpClock
from firmware_sim.live import LiveHomes
from firmware_sim.scenario import Scenario
from server.runtime import CarewatchServer
from tests import infra
from tests.server.helpers import forget_session, provision, wait_for


async def test_live_homes_store_exactly_what_offline_mode_generates(
    server: CarewatchServer, database_url: str, mqtt_url: str, tmp_path: Path
) -> None:
    prefix = f"hub-live-{uuid.uuid4().hex[:4]}-"
    first_day = (datetime.now(UTC) - timedelta(days=3)).date()
    scenario = Scenario.model_validate(
        {
            "trial": {
                "homes": 3,
                "days": 2,
                "seed": 12,
                "hub_prefix": prefix,
                "quiet_days": 0,
                "start": first_day.isoformat(),
            },
            "incidents": {"pendant": 45.0},
        }
    )
    specs = list(scenario.homes())
    for spec in specs:
        provision(database_url, spec.hub, f"Resident {spec.hub}")
    start = scenario.start()
    end = start + timedelta(days=2)
    clock = CatchUpClock(start=start, speed=30_000)
    live = LiveHomes(
        mqtt_url=mqtt_url,
        outbox_dir=tmp_path,
        clock=clock.now,
        heartbeat_s=600,
        mqtt_protocol=infra.mqtt_protocol(mqtt_url),
    )
    for spec in specs:
        live.add(spec.hub, scenario.build(spec))
    live.start()
    try:
        await wait_for(
            lambda: _settled(clock, end, live), within=60, what="two simulated days delivered"
        )
    finally:
        live.stop()
        for spec in specs:
            forget_session(mqtt_url, spec.hub)

    hubs = [spec.hub for spec in specs]
    want = set()
    alarms_wanted = set()
    for spec in specs:
        for event in scenario.build(spec).events_until(end):
            if hasattr(event, "value"):
                want.add((spec.hub, event.sensor, event.kind.value, event.ts, event.value))
            else:
                alarms_wanted.add((spec.hub, event.ts))

    async def stored() -> set[tuple[str, str, str, datetime, float]] | None:
        with psycopg.connect(database_url) as conn:
            rows = conn.execute(
                "SELECT hub_id, sensor, kind, ts, value FROM readings WHERE hub_id = ANY(%s)",
                (hubs,),
            ).fetchall()
        # The homes ran on a little past the end while the last batches went out.
        got = {(h, s, k, ts, v) for h, s, k, ts, v in rows if ts <= end}
        return got if len(got) >= len(want) else None

    got = await wait_for(stored, within=30, what="every reading in PostgreSQL")
    assert got == want
    with psycopg.connect(database_url) as conn:
        (duplicates,) = conn.execute(
            "SELECT count(*) - count(DISTINCT (hub_id, sensor, kind, ts, value)) FROM readings"
            " WHERE hub_id = ANY(%s)",
            (hubs,),
        ).fetchone() or (None,)
        alarms = conn.execute(
            "SELECT hub_id, ts FROM alarms WHERE hub_id = ANY(%s) AND ts < %s", (hubs, end)
        ).fetchall()
    assert duplicates == 0
    assert alarms_wanted
    assert {(h, ts) for h, ts in alarms} == alarms_wanted


async def _settled(clock: CatchUpClock, end: datetime, live: LiveHomes) -> bool:
    return clock.now() >= end and await asyncio.to_thread(live.waiting) == 0


@pytest.mark.skipif(not infra.system_mqtt_available(), reason="needs the machine's Mosquitto")
def test_the_run_command_catches_up_then_stops_when_everything_is_delivered(
    tmp_path: Path,
) -> None:
    labels = tmp_path / "labels.jsonl"
    argv = [
        "run",
        "--homes", "2",
        "--days", "1",
        "--speed", "40000",
        "--seed", "4",
        "--hub-prefix", f"hub-cli-{uuid.uuid4().hex[:4]}-",
        "--mqtt-url", "mqtt://{}:{}".format(*infra.SYSTEM_MQTT),
        "--outbox-dir", str(tmp_path / "outboxes"),
        "--labels", str(labels),
    ]  # fmt: skip
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(main(argv)))
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the run did not stop after catching up"
    assert result == [0]
    assert labels.exists()

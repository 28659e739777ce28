"""A hub agent SIGKILLed mid-stream and restarted: every reading reaches PostgreSQL exactly once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from server.runtime import CarewatchServer
from tests.edge.agent_process import readings
from tests.infra import mqtt_protocol
from tests.server.helpers import forget_session, provision, unique_hub

COUNT = 4_000


def _stored(database_url: str, hub: str) -> tuple[int, int]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT (sensor, ts)) FROM readings WHERE hub_id = %s", (hub,)
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _agent(hub: str, mqtt_url: str, outbox: Path, count: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "tests.edge.agent_process",
        hub,
        mqtt_url,
        str(outbox),
        str(count),
        mqtt_protocol(mqtt_url),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_a_killed_agent_loses_and_repeats_nothing(
    server: CarewatchServer, database_url: str, mqtt_url: str, tmp_path: Path
) -> None:
    hub = unique_hub()
    provision(database_url, hub, f"Mrs Killed {hub}")
    outbox = tmp_path / "outbox.sqlite3"
    agent = _agent(hub, mqtt_url, outbox, COUNT)
    try:
        deadline = time.monotonic() + 30
        while _stored(database_url, hub)[0] < COUNT // 10:
            assert time.monotonic() < deadline, "the agent did not start sending"
            await asyncio.sleep(0.01)
        agent.send_signal(signal.SIGKILL)
        agent.wait(10)
        at_kill = _stored(database_url, hub)[0]
        assert at_kill < COUNT, "killed mid-stream"
        # Restarted with nothing new from its sensors: it sends what its outbox kept.
        agent = _agent(hub, mqtt_url, outbox, 0)
        deadline = time.monotonic() + 60
        while _stored(database_url, hub)[0] < COUNT:
            assert time.monotonic() < deadline, f"stored {_stored(database_url, hub)} of {COUNT}"
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # anything sent twice would be stored by now
    finally:
        agent.send_signal(signal.SIGKILL)
        agent.wait(10)
        forget_session(mqtt_url, hub)
    assert _stored(database_url, hub) == (COUNT, COUNT)
    with psycopg.connect(database_url) as conn:
        stored = {
            (sensor, ts)
            for sensor, ts in conn.execute(
                "SELECT sensor, ts FROM readings WHERE hub_id = %s", (hub,)
            ).fetchall()
        }
    assert stored == {(r.sensor, r.ts) for r in readings(COUNT)}

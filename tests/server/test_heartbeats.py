"""Heartbeats kept in memory and written in batches, on the real broker and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from edge.protocol import HubState, HubStatus, SensorHealth, encode, status_topic
from server.ingest.heartbeats import HeartbeatWriter
from server.store.pool import Pool, migrate, open_pool
from tests.server.helpers import Publisher, eventually, provision, running_server, unique_hub


def _hub_row(
    database_url: str, hub: str
) -> tuple[str | None, datetime | None, dict[str, Any] | None]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT state, last_seen_at, last_status FROM hubs WHERE id = %s", (hub,)
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


async def test_a_heartbeats_fields_reach_the_database_within_the_flush_interval(
    database_url: str, mqtt_url: str
) -> None:
    hub = unique_hub()
    migrate(database_url)
    provision(database_url, hub, f"Mrs Beat {hub}")
    flush_s = 0.5
    async with running_server(database_url, mqtt_url, heartbeat_flush_s=flush_s) as server:
        now = datetime.now(UTC).replace(microsecond=0)  # the wire carries milliseconds
        beat = HubStatus(
            hub,
            HubState.ONLINE,
            now,
            uptime_s=3600,
            outbox=2,
            firmware="1.2.3",
            sensors=(SensorHealth("kitchen-pir", "motion", "kitchen", battery=17, link=88),),
            watermark=now,
        )
        # A first heartbeat, written at once; the second comes inside the interval.
        publisher = Publisher(mqtt_url)
        try:
            publisher.publish(status_topic(hub), encode(beat))
            await eventually(lambda: _hub_row(database_url, hub)[0] == "online", "the first")
            sent = time.monotonic()
            later = beat.ts + timedelta(seconds=60)
            publisher.publish(
                status_topic(hub),
                encode(
                    HubStatus(
                        hub,
                        HubState.ONLINE,
                        later,
                        uptime_s=3660,
                        outbox=0,
                        firmware="1.2.3",
                        sensors=(
                            SensorHealth("kitchen-pir", "motion", "kitchen", battery=16, link=91),
                        ),
                        watermark=later,
                    )
                ),
            )
            _, seen, status = await eventually(
                lambda: (r := _hub_row(database_url, hub))[2] and r[2]["uptime_s"] == 3660 and r,
                "the second heartbeat stored",
            )
            took = time.monotonic() - sent
        finally:
            publisher.close()
        writer = server.heartbeats
        assert writer is not None
        # The commit is visible here a moment before the writer counts its statement
        # (returning the connection to the pool comes between the two).
        statements = await eventually(
            lambda: writer.statements >= 2 and writer.statements, "the second flush counted"
        )
    assert took < flush_s + 1.0, f"the heartbeat took {took:.2f} s to reach the database"
    assert isinstance(status, dict)
    assert status["outbox"] == 0
    assert status["ts"] == later.isoformat()
    assert status["sensors"] == [
        {"sensor": "kitchen-pir", "room": "kitchen", "battery": 16, "link": 91}
    ]
    assert seen is not None
    assert seen >= now
    assert statements >= 2, (statements, writer.received, writer.written)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    migrate(database_url)
    pool = await open_pool(database_url, min_size=1, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()


def _provision_many(database_url: str, count: int) -> list[str]:
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO residents (id, name) SELECT g, 'Resident ' || g"
            " FROM generate_series(1, %s) g",
            (count,),
        )
        conn.execute(
            "INSERT INTO hubs (id, resident_id) SELECT 'hub-' || g, g FROM generate_series(1, %s) g",
            (count,),
        )
    return [f"hub-{g}" for g in range(1, count + 1)]


def _beat(hub: str, n: int) -> HubStatus:
    ts = datetime(2026, 12, 2, tzinfo=UTC) + timedelta(minutes=n)
    return HubStatus(
        hub,
        HubState.ONLINE,
        ts,
        uptime_s=60.0 * n,
        sensors=(SensorHealth("door", "contact", "front_door", battery=100 - n, link=50 + n),),
        watermark=ts,
    )


async def test_many_heartbeats_cost_a_bounded_number_of_statements(
    database_url: str, pool: Pool
) -> None:
    hubs = _provision_many(database_url, 3_000)
    flush_s = 0.25
    writer = HeartbeatWriter(pool, flush_s=flush_s, chunk_hubs=2_000)
    task = asyncio.create_task(writer.run())
    try:
        # Five heartbeats from each of 3,000 hubs, paced over about 1.5 s.
        committed = []
        began = time.monotonic()
        for n in range(1, 6):
            for at, hub in enumerate(hubs):
                committed.append(writer.put(_beat(hub, n), datetime.now(UTC)))
                if at % 500 == 0:
                    await asyncio.sleep(0.05)
        await asyncio.wait_for(asyncio.gather(*committed), timeout=30)
        elapsed = time.monotonic() - began
    finally:
        task.cancel()
    assert writer.received == 15_000
    # At most one flush per interval (plus the first at once), two statements each.
    flushes = elapsed / flush_s + 2
    assert writer.statements <= 2 * flushes, (writer.statements, elapsed)
    assert writer.statements < 40, "15,000 heartbeats must not cost one statement each"
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT count(*) FILTER (WHERE last_status->>'uptime_s' = '300.0'"
            " AND last_status->'sensors'->0->>'battery' = '95'"
            " AND last_status->'sensors'->0->>'link' = '55'"
            " AND state = 'online' AND last_seen_at IS NOT NULL) FROM hubs"
        ).fetchone()
    assert rows == (3_000,), "every hub's latest heartbeat is what is stored"
    print(f"15,000 heartbeats in {writer.statements} statements over {elapsed:.1f} s")


async def test_a_heartbeat_kept_in_memory_at_a_stop_is_written_by_the_last_flush(
    database_url: str, pool: Pool
) -> None:
    (hub,) = _provision_many(database_url, 1)
    writer = HeartbeatWriter(pool, flush_s=30.0)
    task = asyncio.create_task(writer.run())
    try:
        committed = writer.put(_beat(hub, 1), datetime.now(UTC))
        await asyncio.wait_for(committed, timeout=10)
        # Cancelled with a heartbeat kept: the last flush at cancellation writes it.
        writer.put(_beat(hub, 2), datetime.now(UTC))
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    _, _, status = _hub_row(database_url, hub)
    assert isinstance(status, dict)
    assert status["uptime_s"] == 120.0

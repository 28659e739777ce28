"""Readings storage: the hourly activity query and retention on plain PostgreSQL; TimescaleDB when present."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from edge.protocol import Reading, ReadingKind, ReadingsBatch
from server.store.pool import migrate, open_pool
from server.store.readings import ReceivedBatch, store_batches
from server.store.storage import activity_by_hour, configure_storage, prune_readings
from tests.server.helpers import provision

HOUR = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _batch(seq: int, readings: list[Reading]) -> ReceivedBatch:
    return ReceivedBatch(ReadingsBatch("hub-1", seq, HOUR, tuple(readings)), HOUR)


def _timescale_available(database_url: str) -> bool:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'"
        ).fetchone()
    return bool(row and row[0])


async def test_hourly_activity_and_retention(database_url: str) -> None:
    migrate(database_url)
    provision(database_url, "hub-1", "Mrs Storage")
    pool = await open_pool(database_url)
    try:
        async with pool.connection() as conn:
            mode = await configure_storage(
                conn, compress_after=timedelta(days=7), retain_for=timedelta(days=400)
            )
            assert mode.describe()
            readings = [
                Reading("kitchen-pir", ReadingKind.MOTION, HOUR + timedelta(minutes=m), 1)
                for m in (1, 5, 30)
            ] + [
                Reading("lounge-pir", ReadingKind.MOTION, HOUR + timedelta(minutes=70), 1),
                Reading("front-door", ReadingKind.CONTACT, HOUR + timedelta(minutes=2), 1),
                Reading("old-pir", ReadingKind.MOTION, HOUR - timedelta(days=500), 1),
            ]
            await store_batches(conn, [_batch(1, readings)])
            if mode.timescaledb:
                await conn.execute(
                    "CALL refresh_continuous_aggregate('activity_hourly', NULL, NULL)"
                )
            hours = await activity_by_hour(
                conn, "hub-1", since=HOUR - timedelta(hours=1), until=HOUR + timedelta(hours=3)
            )
            assert [(h.sensor, h.hour, h.movements) for h in hours] == [
                ("kitchen-pir", HOUR, 3),
                ("lounge-pir", HOUR + timedelta(hours=1), 1),
            ]
            deleted = await prune_readings(conn, older_than=HOUR - timedelta(days=400))
            assert deleted == 1
            cursor = await conn.execute("SELECT count(*) FROM readings")
            assert await cursor.fetchone() == (5,)
    finally:
        await pool.close()


async def test_timescaledb_makes_readings_a_compressed_hypertable(database_url: str) -> None:
    if not _timescale_available(database_url):
        pytest.skip(
            "the TimescaleDB extension is not installed in this PostgreSQL; "
            "plain PostgreSQL is covered by test_hourly_activity_and_retention"
        )
    migrate(database_url)
    pool = await open_pool(database_url)
    try:
        async with pool.connection() as conn:
            mode = await configure_storage(
                conn, compress_after=timedelta(days=7), retain_for=timedelta(days=400)
            )
            assert mode.timescaledb
            cursor = await conn.execute(
                "SELECT count(*) FROM timescaledb_information.hypertables"
                " WHERE hypertable_name = 'readings'"
            )
            assert await cursor.fetchone() == (1,)
            cursor = await conn.execute(
                "SELECT proc_name FROM timescaledb_information.jobs"
                " WHERE hypertable_name IN ('readings', 'activity_hourly') ORDER BY proc_name"
            )
            jobs = {row[0] for row in await cursor.fetchall()}
            assert {"policy_compression", "policy_retention"} <= jobs
    finally:
        await pool.close()

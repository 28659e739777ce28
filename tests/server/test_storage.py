"""Readings storage on plain PostgreSQL and on TimescaleDB: the hourly activity, compression, retention."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from edge.protocol import Reading, ReadingKind, ReadingsBatch
from server.store.pool import DbConn, migrate, open_pool
from server.store.readings import ReceivedBatch, last_seen_by_hub, store_batches
from server.store.storage import activity_by_hour, configure_storage, prune_readings
from tests import infra
from tests.server.helpers import provision

HOUR = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
_READINGS = [
    Reading("kitchen-pir", ReadingKind.MOTION, HOUR + timedelta(minutes=m), 1) for m in (1, 5, 30)
] + [
    Reading("lounge-pir", ReadingKind.MOTION, HOUR + timedelta(minutes=70), 1),
    Reading("front-door", ReadingKind.CONTACT, HOUR + timedelta(minutes=2), 1),
    Reading("old-pir", ReadingKind.MOTION, HOUR - timedelta(days=500), 1),
]
_EXPECTED_HOURS = [("kitchen-pir", HOUR, 3), ("lounge-pir", HOUR + timedelta(hours=1), 1)]


def _batch(seq: int, readings: list[Reading]) -> ReceivedBatch:
    return ReceivedBatch(ReadingsBatch("hub-1", seq, HOUR, tuple(readings)), HOUR)


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
            await store_batches(conn, [_batch(1, _READINGS)])
            if mode.timescaledb:
                await conn.execute(
                    "CALL refresh_continuous_aggregate('activity_hourly', NULL, NULL)"
                )
            assert await _hours(conn) == _EXPECTED_HOURS
            deleted = await prune_readings(conn, older_than=HOUR - timedelta(days=400))
            assert deleted == 1
            cursor = await conn.execute("SELECT count(*) FROM readings")
            assert await cursor.fetchone() == (5,)
    finally:
        await pool.close()


@pytest.fixture
def timescale_url() -> Iterator[str]:
    """A fresh TimescaleDB: PGlite built with the extension, under Node.js (tests/timescale/)."""
    try:
        with infra.timescale_postgres() as url:
            yield url
    except infra.TimescaleUnavailable as why:
        if os.environ.get("CAREWATCH_REQUIRE_TIMESCALE"):
            raise
        pytest.skip(f"TimescaleDB cannot be started here: {why}")


def _insert_readings(conn: psycopg.Connection[tuple[object, ...]], readings: list[Reading]) -> None:
    # PGlite takes no COPY FROM STDIN, so the writer's COPY path cannot run
    # here; the rows are the ones it would write.
    with conn.transaction():
        conn.execute(
            "INSERT INTO reading_batches (hub_id, seq, sent_at, received_at, readings)"
            " VALUES ('hub-1', 1, %s, %s, %s)",
            (HOUR, HOUR, len(readings)),
        )
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO readings (hub_id, seq, sensor, kind, ts, value, received_at)"
                " VALUES ('hub-1', 1, %s, %s, %s, %s, %s)",
                [(r.sensor, r.kind.value, r.ts, r.value, HOUR) for r in readings],
            )


async def test_timescaledb_hypertable_compression_aggregate_and_retention(
    timescale_url: str,
) -> None:
    """Every migration applies on TimescaleDB, and its policies and queries work there."""
    migrate(timescale_url)
    provision(timescale_url, "hub-1", "Mrs Timescale")
    with psycopg.connect(timescale_url, autocommit=True) as conn:
        _insert_readings(conn, _READINGS)
    # PGlite serves one connection at a time: a pool of one.
    pool = await open_pool(timescale_url, min_size=1, max_size=1)
    try:
        async with pool.connection() as conn:
            mode = await configure_storage(
                conn, compress_after=timedelta(days=7), retain_for=timedelta(days=400)
            )
            assert mode.timescaledb
            assert "hypertable" in mode.describe()
            cursor = await conn.execute(
                "SELECT count(*) FROM timescaledb_information.hypertables"
                " WHERE hypertable_name = 'readings'"
            )
            assert await cursor.fetchone() == (1,)
            cursor = await conn.execute(
                "SELECT view_name FROM timescaledb_information.continuous_aggregates"
            )
            assert await cursor.fetchall() == [("activity_hourly",)]
            cursor = await conn.execute(
                "SELECT proc_name, job_id FROM timescaledb_information.jobs"
                " WHERE hypertable_name IN ('readings', 'activity_hourly')"
            )
            jobs: dict[str, int] = dict(await cursor.fetchall())
            assert set(jobs) == {
                "policy_compression",
                "policy_retention",
                "policy_refresh_continuous_aggregate",
            }

            # Jobs run as TimescaleDB's scheduler would: outside a transaction.
            await conn.commit()
            await conn.set_autocommit(True)
            # The aggregate refreshed by its own policy.
            await conn.execute("CALL run_job(%s)", (jobs["policy_refresh_continuous_aggregate"],))
            assert await _hours(conn) == _EXPECTED_HOURS

            # Compressed chunks still answer the console's queries.
            await conn.execute("SELECT compress_chunk(c) FROM show_chunks('readings') c")
            cursor = await conn.execute(
                "SELECT count(*) FROM timescaledb_information.chunks"
                " WHERE hypertable_name = 'readings' AND is_compressed"
            )
            row = await cursor.fetchone()
            assert row is not None
            assert row[0] >= 1
            assert await _hours(conn) == _EXPECTED_HOURS
            seen = await last_seen_by_hub(conn)
            assert [(s.hub, s.last_motion, s.last_room_sensor) for s in seen] == [
                ("hub-1", HOUR + timedelta(minutes=70), "lounge-pir")
            ]

            # The retention policy drops the 500-day-old chunk and nothing else.
            await conn.execute("CALL run_job(%s)", (jobs["policy_retention"],))
            cursor = await conn.execute("SELECT count(*) FROM readings")
            assert await cursor.fetchone() == (len(_READINGS) - 1,)
    finally:
        await pool.close()


async def _hours(conn: DbConn) -> list[tuple[str, datetime, int]]:
    hours = await activity_by_hour(
        conn, "hub-1", since=HOUR - timedelta(hours=1), until=HOUR + timedelta(hours=3)
    )
    return [(h.sensor, h.hour, h.movements) for h in hours]

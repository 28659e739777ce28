"""The reading writer on a real database: a batch the database refuses is set aside, never
retried for ever, and a writer that cannot store anything makes /readyz fail."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import httpx
import psycopg

from edge.protocol import Reading, ReadingKind, ReadingsBatch
from server.ingest.writer import ReadingWriter
from server.store.pool import open_pool
from server.store.readings import ReceivedBatch
from tests.server.helpers import provision, running_server, unique_hub, wait_for


def _batch(hub: str, seq: int, *, at: datetime) -> ReceivedBatch:
    reading = Reading("hall-pir", ReadingKind.MOTION, at, 1.0)
    return ReceivedBatch(ReadingsBatch(hub, seq, at, (reading,)), at)


async def test_a_batch_the_database_refuses_is_dead_lettered_and_the_others_stored(
    database_url: str, mqtt_url: str
) -> None:
    refused_hub, other_hub = unique_hub("refused"), unique_hub("other")
    now = datetime.now(UTC)
    async with running_server(database_url, mqtt_url) as server:
        provision(database_url, refused_hub, "Mrs Refused")
        provision(database_url, other_hub, "Mr Other")
        writer = server.writer
        assert writer is not None
        # Past PostgreSQL's bigint: the wire contract refuses it too, but the writer
        # must hold even for a value only the database knows it cannot take. Queued
        # together, so the three go to the database in one flush.
        good_before = await writer.put(_batch(other_hub, 1, at=now))
        bad = await writer.put(_batch(refused_hub, 2**63, at=now))
        good_after = await writer.put(_batch(other_hub, 2, at=now))
        async with asyncio.timeout(15):
            await asyncio.gather(good_before, bad, good_after)

    with psycopg.connect(database_url) as conn:
        stored = conn.execute("SELECT hub_id, seq FROM readings ORDER BY hub_id, seq").fetchall()
        # Only this test's hubs: the broker is shared with other tests.
        letters = conn.execute(
            "SELECT hub_id, reason FROM dead_letters WHERE hub_id IN (%s, %s)",
            (refused_hub, other_hub),
        ).fetchall()
    assert stored == [(other_hub, 1), (other_hub, 2)]
    assert len(letters) == 1
    hub, reason = letters[0]
    assert hub == refused_hub
    assert "refused by the database" in reason
    assert "out of range" in reason


async def test_readyz_fails_while_the_writer_stores_nothing_and_recovers_after(
    database_url: str, mqtt_url: str
) -> None:
    hub = unique_hub()
    async with (
        running_server(database_url, mqtt_url, writer_stall_s=0.5) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=10) as client,
    ):
        provision(database_url, hub, "Mrs Stalled")
        writer = server.writer
        assert writer is not None
        assert (await client.get("/readyz")).status_code == 200
        # Another session holds the table: the writer's flush waits and stores nothing.
        with psycopg.connect(database_url) as blocker:
            blocker.execute("LOCK TABLE reading_batches IN ACCESS EXCLUSIVE MODE")
            committed = await writer.put(
                _batch(hub, 1, at=datetime.now(UTC) - timedelta(seconds=1))
            )

            async def unready() -> httpx.Response | None:
                response = await client.get("/readyz")
                return response if response.status_code == 503 else None

            response = await wait_for(unready, within=15, what="readyz to fail")
            body = response.json()
            assert body["ingest"] is False
            assert "stored nothing" in body["problem"]
            assert body["database"] is True
            blocker.rollback()
        async with asyncio.timeout(15):
            await committed

        async def ready() -> bool:
            return (await client.get("/readyz")).status_code == 200

        await wait_for(ready, within=15, what="readyz to recover")
    assert writer.stored_batches == 1


async def test_batches_that_come_while_the_writer_lingers_share_one_flush(
    database_url: str,
) -> None:
    hub = unique_hub("linger")
    provision(database_url, hub, "Mrs Linger")
    now = datetime.now(UTC)
    pool = await open_pool(database_url, min_size=1, max_size=2)
    try:
        writer = ReadingWriter(pool, linger_s=0.3)
        running = asyncio.create_task(writer.run())
        committed = []
        for seq in range(1, 6):
            committed.append(await writer.put(_batch(hub, seq, at=now)))
            await asyncio.sleep(0.02)
        async with asyncio.timeout(15):
            await asyncio.gather(*committed)
        assert (writer.flushes, writer.stored_batches) == (1, 5)
        # Stopped while it lingers, the writer still writes the batch it had taken.
        last = await writer.put(_batch(hub, 6, at=now))
        await asyncio.sleep(0.05)
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        assert last.done()
        assert writer.stored_batches == 6
    finally:
        await pool.close()

"""Partition locks in PostgreSQL: one holder at a time, and gone with the holder's session."""

from __future__ import annotations

import asyncio

import psycopg

from server.store import cluster as cluster_sql
from server.store.pool import migrate


async def test_a_partition_has_one_holder_and_is_free_once_its_session_ends(
    database_url: str,
) -> None:
    migrate(database_url)
    first = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    second = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    try:
        assert await cluster_sql.try_join(first, 1)
        assert await cluster_sql.try_join(second, 2)
        assert await cluster_sql.take_partition(first, 3)
        assert not await cluster_sql.take_partition(second, 3)
        assert await cluster_sql.take_partition(second, 4)
        assert await cluster_sql.try_lead(first)
        assert not await cluster_sql.try_lead(second)
        assert await cluster_sql.count_members(second) == (2, frozenset({3, 4}))

        await cluster_sql.release_partition(second, 4)
        assert await cluster_sql.count_members(first) == (2, frozenset({3}))

        # The holder dies: its session ends and what it held is free as soon as the
        # server has ended the backend (a few milliseconds; the members poll for it).
        await first.close()
        for _ in range(100):
            if await cluster_sql.take_partition(second, 3):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("partition 3 still held 2 s after its holder's session closed")
        assert await cluster_sql.try_lead(second)
        assert await cluster_sql.count_members(second) == (1, frozenset({3}))
    finally:
        await first.close()
        await second.close()

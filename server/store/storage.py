"""How readings are kept: TimescaleDB (hypertable, compression, retention) or plain PostgreSQL.

The schema is the same either way (migration 006): ``readings`` and an
``activity_hourly`` relation of movements per home, room sensor and hour. With
TimescaleDB the policies are TimescaleDB's own jobs; on plain PostgreSQL the
server deletes readings past their retention itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.store.pool import DbConn

__all__ = ["ActivityHour", "StorageMode", "activity_by_hour", "configure_storage", "prune_readings"]

log = logging.getLogger(__name__)


@dataclass(slots=True, frozen=True)
class StorageMode:
    """What the database offers."""

    timescaledb: str | None  # its version, or None on plain PostgreSQL

    def describe(self) -> str:
        """One line for the start-up log."""
        if self.timescaledb:
            return f"TimescaleDB {self.timescaledb}: readings are a compressed hypertable"
        return "plain PostgreSQL: readings in an indexed table, pruned by the server"


async def configure_storage(
    conn: DbConn, *, compress_after: timedelta, retain_for: timedelta
) -> StorageMode:
    """Find out which storage this is and (re)apply the compression and retention policies."""
    cursor = await conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    row = await cursor.fetchone()
    mode = StorageMode(timescaledb=str(row[0]) if row else None)
    if mode.timescaledb:
        async with conn.transaction():
            await conn.execute(
                "ALTER TABLE readings SET (timescaledb.compress,"
                " timescaledb.compress_segmentby = 'hub_id')"
            )
            # Remove and add, so a changed setting takes effect.
            await conn.execute("SELECT remove_compression_policy('readings', if_exists => true)")
            await conn.execute(
                "SELECT add_compression_policy('readings', %s::interval)", (compress_after,)
            )
            await conn.execute("SELECT remove_retention_policy('readings', if_exists => true)")
            await conn.execute(
                "SELECT add_retention_policy('readings', %s::interval)", (retain_for,)
            )
            await conn.execute(
                "SELECT remove_continuous_aggregate_policy('activity_hourly', if_exists => true)"
            )
            await conn.execute(
                "SELECT add_continuous_aggregate_policy('activity_hourly',"
                " start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour',"
                " schedule_interval => INTERVAL '30 minutes')"
            )
    return mode


async def prune_readings(conn: DbConn, *, older_than: datetime) -> int:
    """Delete readings (and their batch records) from before ``older_than``; how many readings."""
    async with conn.transaction():
        cursor = await conn.execute("DELETE FROM readings WHERE ts < %s", (older_than,))
        deleted = cursor.rowcount
        await conn.execute("DELETE FROM reading_batches WHERE sent_at < %s", (older_than,))
    return deleted


@dataclass(slots=True, frozen=True)
class ActivityHour:
    """Movements seen by one room's sensor in one hour."""

    sensor: str
    hour: datetime
    movements: int


async def activity_by_hour(
    conn: DbConn, hub: str, *, since: datetime, until: datetime
) -> list[ActivityHour]:
    """A home's movement per room sensor and hour, oldest first."""
    cursor = await conn.execute(
        "SELECT sensor, hour, movements FROM activity_hourly"
        " WHERE hub_id = %s AND hour >= %s AND hour < %s ORDER BY hour, sensor",
        (hub, since, until),
    )
    return [ActivityHour(str(s), h, int(m)) for s, h, m in await cursor.fetchall()]

"""SQL for readings and reading batches: each batch stored once, with COPY."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from edge.protocol import ReadingsBatch
from server.store.pool import DbConn

__all__ = ["LastSeen", "ReceivedBatch", "last_seen_by_hub", "store_batches"]

# The readings table's columns as the COPY sends them: binary, no text formatting of
# timestamps and numbers per row.
_READING_TYPES = ("text", "int8", "text", "text", "timestamptz", "float8", "timestamptz")
# Rows copied before the event loop is given back. Formatting a row costs a few
# microseconds and awaits nothing that suspends: a 5,000-reading flush (a backlog
# draining) held the loop for tens of ms, and each database round trip of an
# alarm raised meanwhile waited that long (100-250 ms an alarm, 10,000 hubs draining).
_ROWS_PER_TURN = 500


@dataclass(slots=True, frozen=True)
class ReceivedBatch:
    """A validated batch and when the server received it."""

    batch: ReadingsBatch
    received_at: datetime


async def store_batches(conn: DbConn, received: Sequence[ReceivedBatch]) -> list[ReceivedBatch]:
    """Store the batches not stored before, in one transaction; return those that were new."""
    unique: dict[tuple[str, int], ReceivedBatch] = {}
    for item in received:
        unique.setdefault((item.batch.hub, item.batch.seq), item)
    if not unique:
        return []
    items = list(unique.values())
    async with conn.transaction():
        cursor = await conn.execute(
            "INSERT INTO reading_batches (hub_id, seq, sent_at, received_at, readings)"
            # Binary parameters (%b): no per-element quoting pass for the arrays.
            " SELECT * FROM unnest(%b::text[], %b::bigint[], %b::timestamptz[],"
            " %b::timestamptz[], %b::integer[])"
            " ON CONFLICT DO NOTHING RETURNING hub_id, seq",
            (
                [i.batch.hub for i in items],
                [i.batch.seq for i in items],
                [i.batch.sent_at for i in items],
                [i.received_at for i in items],
                [len(i.batch.readings) for i in items],
            ),
        )
        new_keys = {(str(hub), int(seq)) for hub, seq in await cursor.fetchall()}
        new = [unique[key] for key in unique if key in new_keys]
        async with conn.cursor().copy(
            "COPY readings (hub_id, seq, sensor, kind, ts, value, received_at)"
            " FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(_READING_TYPES)
            rows = 0
            for item in new:
                b = item.batch
                for r in b.readings:
                    await copy.write_row(
                        (b.hub, b.seq, r.sensor, r.kind.value, r.ts, r.value, item.received_at)
                    )
                    rows += 1
                    if rows % _ROWS_PER_TURN == 0:
                        await asyncio.sleep(0)
    return new


@dataclass(slots=True, frozen=True)
class LastSeen:
    """What the database remembers of a home's last movement and front-door event."""

    hub: str
    last_motion: datetime | None
    last_room_sensor: str | None
    last_door: datetime | None


async def last_seen_by_hub(
    conn: DbConn,
    *,
    unsaved_or: Sequence[str] | None = None,
    within: Collection[str] | None = None,
) -> list[LastSeen]:
    """For each hub, its latest motion and front-door readings.

    ``unsaved_or``: only hubs with no detector checkpoint, and these (a fleet's
    restart asks for the few homes it must start afresh, not for every hub).
    ``within``: only these hubs (a cluster member's partition), None for all.
    """
    cursor = await conn.execute(
        "SELECT h.id, m.ts, m.sensor, d.ts FROM hubs h"
        " LEFT JOIN LATERAL (SELECT ts, sensor FROM readings r"
        "   WHERE r.hub_id = h.id AND r.kind = 'motion' AND r.value >= 1"
        "   ORDER BY ts DESC LIMIT 1) m ON true"
        " LEFT JOIN LATERAL (SELECT ts FROM readings r"
        "   WHERE r.hub_id = h.id AND r.sensor = 'front-door'"
        "   ORDER BY ts DESC LIMIT 1) d ON true"
        " WHERE (%(all)s OR h.id = ANY(%(also)s)"
        " OR NOT EXISTS (SELECT 1 FROM detector_state s WHERE s.hub_id = h.id))"
        " AND (%(everywhere)s OR h.id = ANY(%(within)s))",
        {
            "all": unsaved_or is None,
            "also": list(unsaved_or or ()),
            "everywhere": within is None,
            "within": list(within or ()),
        },
    )
    return [LastSeen(*row) for row in await cursor.fetchall()]

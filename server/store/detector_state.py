"""The detectors' saved state per home, residents' "away", and feedback from closed alerts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from edge.protocol import Reading, ReadingKind
from server.domain.alerts import AlertKind, Outcome
from server.store.pool import DbConn

__all__ = [
    "Feedback",
    "away_by_hub",
    "feedback_since",
    "load_checkpoints",
    "readings_received_since",
    "save_checkpoints",
    "stream_checkpoints",
]


@dataclass(slots=True, frozen=True)
class Feedback:
    """A detector's alert that a person closed as a false alarm or "resident away"."""

    hub: str
    kind: AlertKind
    outcome: Outcome
    details: Mapping[str, Any]
    resolved_at: datetime


async def load_checkpoints(conn: DbConn) -> dict[str, tuple[bytes, datetime]]:
    """Every saved home state and when it was saved, by hub (small fleets and tests)."""
    return {
        hub: (state, saved)
        async for chunk in stream_checkpoints(conn)
        for hub, state, saved in chunk
    }


async def stream_checkpoints(
    conn: DbConn, *, chunk_homes: int = 500, within: Collection[str] | None = None
) -> AsyncIterator[list[tuple[str, bytes, datetime]]]:
    """Every saved home state (or those of the hubs ``within``), in chunks, as binary COPY brings them.

    A fleet's states do not fit in one result comfortably (100,000 homes are
    gigabytes); the caller restores each chunk before the next is read.
    """
    async with (
        conn.cursor() as cursor,
        cursor.copy(
            "COPY (SELECT hub_id, state, saved_at FROM detector_state"
            " WHERE %(all)s OR hub_id = ANY(%(within)s)) TO STDOUT (FORMAT BINARY)",
            {"all": within is None, "within": list(within or ())},
        ) as copy,
    ):
        copy.set_types(["text", "bytea", "timestamptz"])
        chunk: list[tuple[str, bytes, datetime]] = []
        async for hub, state, saved in copy.rows():
            chunk.append((hub, bytes(state), saved))
            if len(chunk) >= chunk_homes:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


async def readings_received_since(
    conn: DbConn, since: Mapping[str, datetime], *, reach: timedelta = timedelta(hours=1)
) -> dict[str, list[Reading]]:
    """Per hub, the readings received after ``since[hub]`` (event times within ``reach`` of it).

    What arrived between a home's last checkpoint and a stop, to fold in again.
    """
    if not since:
        return {}
    cursor = await conn.execute(
        "SELECT r.hub_id, r.sensor, r.kind, r.ts, r.value"
        " FROM unnest(%s::text[], %s::timestamptz[]) AS c (hub_id, since)"
        " JOIN readings r ON r.hub_id = c.hub_id AND r.ts > c.since - %s"
        " AND r.received_at > c.since ORDER BY r.hub_id, r.ts",
        (list(since), list(since.values()), reach),
    )
    found: dict[str, list[Reading]] = {}
    for hub, sensor, kind, ts, value in await cursor.fetchall():
        found.setdefault(hub, []).append(Reading(sensor, ReadingKind(kind), ts, value))
    return found


async def save_checkpoints(conn: DbConn, states: Mapping[str, bytes]) -> None:
    """Save home states in one transaction, replacing older ones; hubs deleted meanwhile skipped.

    Binary COPY into a session-local table, then one upsert: the bytes go as
    they are (no hex text), and the caller keeps each call to a few hundred homes.
    """
    if not states:
        return
    async with conn.transaction():
        await conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS detector_state_incoming"
            " (hub_id text NOT NULL, state bytea NOT NULL) ON COMMIT DELETE ROWS"
        )
        async with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY detector_state_incoming (hub_id, state) FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(["text", "bytea"])
            for row in states.items():
                await copy.write_row(row)
        await conn.execute(
            "INSERT INTO detector_state (hub_id, state, saved_at)"
            " SELECT s.hub_id, s.state, now() FROM detector_state_incoming s"
            " JOIN hubs h ON h.id = s.hub_id"
            " ON CONFLICT (hub_id) DO UPDATE SET state = excluded.state,"
            " saved_at = excluded.saved_at"
        )


async def away_by_hub(conn: DbConn, *, away_only: bool = False) -> dict[str, datetime | None]:
    """Each hub's resident's "away until" (None: at home); ``away_only``: only those away."""
    cursor = await conn.execute(
        "SELECT h.id, r.away_until FROM hubs h JOIN residents r ON r.id = h.resident_id"
        " WHERE h.revoked_at IS NULL AND (NOT %s OR r.away_until IS NOT NULL)",
        (away_only,),
    )
    return {hub: until for hub, until in await cursor.fetchall()}


async def feedback_since(conn: DbConn, since: datetime | None) -> list[Feedback]:
    """Detector alerts closed as false alarms or "resident away" after ``since``, oldest first."""
    cursor = await conn.execute(
        "SELECT hub_id, kind, outcome, details, resolved_at FROM alerts"
        " WHERE outcome IN ('false_alarm', 'resident_away') AND hub_id IS NOT NULL"
        " AND (%s::timestamptz IS NULL OR resolved_at > %s) ORDER BY resolved_at",
        (since, since),
    )
    found = []
    for hub, kind, outcome, details, resolved_at in await cursor.fetchall():
        try:
            found.append(Feedback(hub, AlertKind(kind), Outcome(outcome), details, resolved_at))
        except ValueError:
            continue  # a kind from a newer server: nothing this one can learn from
    return found

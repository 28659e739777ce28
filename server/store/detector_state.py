"""The detectors' saved state per home, residents' "away", and feedback from closed alerts."""

from __future__ import annotations

from collections.abc import Mapping
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
    """Every saved home state and when it was saved, by hub."""
    cursor = await conn.execute("SELECT hub_id, state, saved_at FROM detector_state")
    return {hub: (bytes(state), saved) for hub, state, saved in await cursor.fetchall()}


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
    """Save home states, replacing older ones; hubs deleted meanwhile are skipped."""
    if not states:
        return
    await conn.execute(
        "INSERT INTO detector_state (hub_id, state, saved_at)"
        " SELECT s.hub_id, s.state, now()"
        " FROM unnest(%s::text[], %s::bytea[]) AS s (hub_id, state)"
        " JOIN hubs h ON h.id = s.hub_id"
        " ON CONFLICT (hub_id) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at",
        (list(states), list(states.values())),
    )


async def away_by_hub(conn: DbConn) -> dict[str, datetime | None]:
    """Each hub's resident's "away until" (None: at home)."""
    cursor = await conn.execute(
        "SELECT h.id, r.away_until FROM hubs h JOIN residents r ON r.id = h.resident_id"
        " WHERE h.revoked_at IS NULL"
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

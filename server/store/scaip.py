"""SQL for SCAIP social-alarm units: provisioning, and when each was last heard."""

from __future__ import annotations

from datetime import datetime

from server.domain.scaip import ScaipUnit
from server.store.pool import DbConn

__all__ = [
    "UnitHeard",
    "all_units",
    "heard",
    "put_unit",
    "recent_alarm_id",
    "remove_unit",
    "reported_silent",
    "unit_by_id",
    "units_with_heartbeats",
]

_UNIT = (
    "SELECT u.id, r.id, r.name, r.timezone, u.hub_id, u.heartbeat_s"
    " FROM scaip_units u JOIN residents r ON r.id = u.resident_id"
)

# (unit, last heartbeat, provisioned at)
UnitHeard = tuple[ScaipUnit, datetime | None, datetime]


async def put_unit(
    conn: DbConn, unit: str, *, resident: str, hub: str | None, heartbeat_s: int | None
) -> ScaipUnit | None:
    """Add or re-home a unit; None when there is no such resident."""
    cursor = await conn.execute(
        "INSERT INTO scaip_units (id, resident_id, hub_id, heartbeat_s)"
        " SELECT %s, r.id, %s, %s FROM residents r WHERE r.name = %s"
        " ON CONFLICT (id) DO UPDATE SET resident_id = EXCLUDED.resident_id,"
        " hub_id = EXCLUDED.hub_id, heartbeat_s = EXCLUDED.heartbeat_s",
        (unit, hub, heartbeat_s, resident),
    )
    if cursor.rowcount == 0:
        return None
    return await unit_by_id(conn, unit)


async def unit_by_id(conn: DbConn, unit: str) -> ScaipUnit | None:
    """One provisioned unit with its resident."""
    cursor = await conn.execute(_UNIT + " WHERE u.id = %s", (unit,))
    row = await cursor.fetchone()
    return ScaipUnit(*row) if row else None


async def all_units(conn: DbConn) -> list[ScaipUnit]:
    """Every provisioned unit, by id."""
    cursor = await conn.execute(_UNIT + " ORDER BY u.id")
    return [ScaipUnit(*row) for row in await cursor.fetchall()]


async def remove_unit(conn: DbConn, unit: str) -> bool:
    """Forget a unit (its alarms and alerts stay); False if there was none."""
    cursor = await conn.execute("DELETE FROM scaip_units WHERE id = %s", (unit,))
    return cursor.rowcount == 1


async def heard(conn: DbConn, unit: str, *, at: datetime, address: str, heartbeat: bool) -> None:
    """The unit spoke (a heartbeat, or any message: either shows its path works)."""
    await conn.execute(
        "UPDATE scaip_units SET last_heard_at = %s, last_address = %s,"
        " last_heartbeat_at = CASE WHEN %s THEN %s ELSE last_heartbeat_at END WHERE id = %s",
        (at, address, heartbeat, at, unit),
    )


async def units_with_heartbeats(conn: DbConn) -> list[UnitHeard]:
    """Units that promise a heartbeat, with the last one heard (any message counts)."""
    cursor = await conn.execute(
        "SELECT u.id, r.id, r.name, r.timezone, u.hub_id, u.heartbeat_s,"
        " greatest(u.last_heartbeat_at, u.last_heard_at), u.created_at"
        " FROM scaip_units u JOIN residents r ON r.id = u.resident_id"
        " WHERE u.heartbeat_s IS NOT NULL ORDER BY u.id"
    )
    return [(ScaipUnit(*row[:6]), row[6], row[7]) for row in await cursor.fetchall()]


async def recent_alarm_id(conn: DbConn, source: str, ref: str, *, since: datetime) -> str | None:
    """The id under which this unit's message ``ref`` was stored since ``since``, if it was.

    A unit that heard no answer sends its alarm again with the same reference;
    a reference seen long ago is a new alarm (units reuse them).
    """
    cursor = await conn.execute(
        "SELECT id FROM alarms WHERE hub_id = %s AND id LIKE %s AND received_at >= %s"
        " ORDER BY received_at DESC LIMIT 1",
        (source, f"{ref}@%", since),  # a reference is letters and digits only
    )
    row = await cursor.fetchone()
    return str(row[0]) if row else None


async def reported_silent(conn: DbConn) -> list[str]:
    """Units with an open ``alarm_unit_silent`` alert: what a restart must not raise again."""
    cursor = await conn.execute(
        "SELECT DISTINCT details->>'unit' FROM alerts WHERE kind = 'alarm_unit_silent'"
        " AND status <> 'resolved' AND details ? 'unit'"
    )
    return [str(unit) for (unit,) in await cursor.fetchall()]

"""SQL for erasing a resident: everything the service holds about them, in one transaction.

Deleting the resident's row cascades to their hubs, alerts (with their audit
trail, notifications and links), check-ins, carers' assignments, detector state
and their own account. What refers to a hub or a resident only by value
(readings, batches, alarms, dead letters, the record read log, sign-in
failures under their account) is deleted here explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.store.pool import DbConn

__all__ = ["ErasedResident", "erase_resident", "hubs_of"]


@dataclass(slots=True, frozen=True)
class ErasedResident:
    """Who was erased, the hubs that were theirs, and how many readings went."""

    resident: str
    hubs: tuple[str, ...]
    readings: int


async def hubs_of(conn: DbConn, resident_id: int) -> list[str]:
    """The ids of the resident's hubs."""
    cursor = await conn.execute(
        "SELECT id FROM hubs WHERE resident_id = %s ORDER BY id", (resident_id,)
    )
    return [hub for (hub,) in await cursor.fetchall()]


async def erase_resident(conn: DbConn, resident_id: int) -> ErasedResident | None:
    """Delete the resident and all that refers to them; None if there is no such resident."""
    async with conn.transaction():
        cursor = await conn.execute(
            "SELECT name FROM residents WHERE id = %s FOR UPDATE", (resident_id,)
        )
        row = await cursor.fetchone()
        if row is None:
            return None
        name: str = row[0]
        hubs = await hubs_of(conn, resident_id)
        cursor = await conn.execute(
            "SELECT username FROM users WHERE resident_id = %s", (resident_id,)
        )
        accounts = [f"user:{username}" for (username,) in await cursor.fetchall()]
        # The hubs go first, in this transaction: a running server that meets one
        # of their messages from now on finds no hub and refuses it.
        cursor = await conn.execute("DELETE FROM readings WHERE hub_id = ANY(%s)", (hubs,))
        readings = cursor.rowcount
        for table in ("reading_batches", "alarms", "dead_letters"):
            await conn.execute(f"DELETE FROM {table} WHERE hub_id = ANY(%s)", (hubs,))
        await conn.execute("DELETE FROM record_reads WHERE resident_id = %s", (resident_id,))
        await conn.execute("DELETE FROM login_failures WHERE key = ANY(%s)", (accounts,))
        await conn.execute("DELETE FROM residents WHERE id = %s", (resident_id,))
    return ErasedResident(resident=name, hubs=tuple(hubs), readings=readings)

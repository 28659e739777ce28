"""SQL for health systems reading residents' records over FHIR, and the resident's consent to it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from server.store.pool import DbConn
from server.store.tokens import token_digest

__all__ = [
    "READER_ROLE",
    "HealthSharing",
    "HealthSystem",
    "SharedResident",
    "add_system",
    "alert_kinds",
    "issue_token",
    "log_read",
    "revoke_system",
    "set_nhs_number",
    "set_share_with_health",
    "shared_resident",
    "shared_residents",
    "sharing",
    "system_by_client_id",
    "system_by_token",
    "systems",
]

# How a health system's reads appear in the resident's read log (record_reads.role).
READER_ROLE = "health_system"


@dataclass(slots=True, frozen=True)
class HealthSystem:
    """A system (GP record, shared care record) allowed to read one service's residents."""

    id: int
    name: str
    service: str
    client_id: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(slots=True, frozen=True)
class SharedResident:
    """What a health system may learn of a resident who agreed to share with health."""

    id: int
    name: str
    timezone: str
    address: str
    nhs_number: str | None
    created_at: datetime
    hubs: tuple[str, ...]


@dataclass(slots=True, frozen=True)
class HealthSharing:
    """The resident's consent to sharing with health, and their NHS number if known."""

    service: str
    share_with_health: bool
    nhs_number: str | None


_SYSTEM = (
    "SELECT id, name, service, client_id, secret_hash, created_at, revoked_at FROM health_systems"
)


async def add_system(
    conn: DbConn, name: str, *, service: str, client_id: str, secret_hash: str
) -> bool:
    """Register a health system; False if one of that name is already registered."""
    cursor = await conn.execute(
        "INSERT INTO health_systems (name, service, client_id, secret_hash)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO NOTHING",
        (name, service, client_id, secret_hash),
    )
    return cursor.rowcount == 1


async def revoke_system(conn: DbConn, name: str) -> bool:
    """Stop a health system: its secret and every token it holds stop working at once."""
    async with conn.transaction():
        cursor = await conn.execute(
            "UPDATE health_systems SET revoked_at = now()"
            " WHERE name = %s AND revoked_at IS NULL RETURNING id",
            (name,),
        )
        row = await cursor.fetchone()
        if row is None:
            return False
        await conn.execute("DELETE FROM health_tokens WHERE system_id = %s", (row[0],))
    return True


async def systems(conn: DbConn) -> list[HealthSystem]:
    """Every registered health system, revoked ones too, by name."""
    cursor = await conn.execute(_SYSTEM + " ORDER BY name")
    return [HealthSystem(*row) for row in await cursor.fetchall()]


async def system_by_client_id(conn: DbConn, client_id: str) -> HealthSystem | None:
    """The live (not revoked) system with that client id."""
    cursor = await conn.execute(
        _SYSTEM + " WHERE client_id = %s AND revoked_at IS NULL", (client_id,)
    )
    row = await cursor.fetchone()
    return HealthSystem(*row) if row else None


async def issue_token(conn: DbConn, system_id: int, token: str, *, lifetime: timedelta) -> None:
    """Store an access token's hash (never the token), and forget expired ones."""
    await conn.execute("DELETE FROM health_tokens WHERE expires_at < now()")
    await conn.execute(
        "INSERT INTO health_tokens (token_hash, system_id, expires_at) VALUES (%s, %s, now() + %s)",
        (token_digest(token), system_id, lifetime),
    )


async def system_by_token(conn: DbConn, token: str) -> HealthSystem | None:
    """The live system an unexpired token belongs to."""
    cursor = await conn.execute(
        "SELECT s.id, s.name, s.service, s.client_id, s.secret_hash, s.created_at, s.revoked_at"
        " FROM health_tokens t JOIN health_systems s ON s.id = t.system_id"
        " WHERE t.token_hash = %s AND t.expires_at > now() AND s.revoked_at IS NULL",
        (token_digest(token),),
    )
    row = await cursor.fetchone()
    return HealthSystem(*row) if row else None


_SHARED = (
    "SELECT r.id, r.name, r.timezone, r.address, r.nhs_number, r.created_at,"
    " coalesce(array_agg(h.id ORDER BY h.id) FILTER (WHERE h.id IS NOT NULL), '{}')"
    " FROM residents r LEFT JOIN hubs h ON h.resident_id = r.id AND h.revoked_at IS NULL"
    " WHERE r.service = %s AND r.share_with_health"
)


def _shared(row: tuple[Any, ...]) -> SharedResident:
    rid, name, timezone, address, nhs, created, hubs = row
    return SharedResident(rid, name, timezone, address, nhs, created, tuple(hubs))


async def shared_residents(
    conn: DbConn, service: str, *, nhs_number: str | None = None
) -> list[SharedResident]:
    """The service's residents who agreed to share with health (optionally one NHS number)."""
    cursor = await conn.execute(
        _SHARED + " AND (%s::text IS NULL OR r.nhs_number = %s::text) GROUP BY r.id ORDER BY r.id",
        (service, nhs_number, nhs_number),
    )
    return [_shared(row) for row in await cursor.fetchall()]


async def shared_resident(conn: DbConn, service: str, resident_id: int) -> SharedResident | None:
    """One resident of the service who agreed to share with health."""
    cursor = await conn.execute(_SHARED + " AND r.id = %s GROUP BY r.id", (service, resident_id))
    row = await cursor.fetchone()
    return _shared(row) if row else None


async def sharing(conn: DbConn, resident_id: int) -> HealthSharing | None:
    """The resident's consent to sharing with health; None if there is no such resident."""
    cursor = await conn.execute(
        "SELECT service, share_with_health, nhs_number FROM residents WHERE id = %s",
        (resident_id,),
    )
    row = await cursor.fetchone()
    return HealthSharing(*row) if row else None


async def set_share_with_health(conn: DbConn, resident_id: int, share: bool) -> None:
    """The resident's yes or no to health systems reading their record."""
    await conn.execute(
        "UPDATE residents SET share_with_health = %s WHERE id = %s", (share, resident_id)
    )


async def set_nhs_number(conn: DbConn, resident_id: int, nhs_number: str | None) -> None:
    """The resident's NHS number (already checked), or None to forget it."""
    await conn.execute(
        "UPDATE residents SET nhs_number = %s WHERE id = %s", (nhs_number, resident_id)
    )


async def alert_kinds(conn: DbConn, resident_id: int) -> dict[uuid.UUID, str]:
    """The kind of each of the resident's alerts, by id (to name what a notification was about)."""
    cursor = await conn.execute(
        "SELECT id, kind FROM alerts WHERE resident_id = %s", (resident_id,)
    )
    return {alert_id: kind for alert_id, kind in await cursor.fetchall()}


async def log_read(conn: DbConn, system: HealthSystem, resident_id: int, what: str) -> None:
    """Remember that a health system read part of the resident's record (the read log)."""
    await conn.execute(
        "INSERT INTO record_reads (user_id, username, role, resident_id, what, allowed)"
        " VALUES (NULL, %s, %s, %s, %s, true)",
        (system.name, READER_ROLE, resident_id, what),
    )

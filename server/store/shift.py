"""SQL for the picture of a shift: who is on duty, which hubs are offline, going on or off duty."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from server.domain.access import Role, Viewer
from server.store.pool import DbConn
from server.store.residents import visible_to

__all__ = ["Colleague", "hubs_offline", "on_duty", "set_on_duty", "set_phone"]


@dataclass(slots=True, frozen=True)
class Colleague:
    """A responder on duty, as the shift bar shows them."""

    username: str
    name: str
    phone: str | None
    since: datetime | None


async def on_duty(conn: DbConn, viewer: Viewer) -> list[Colleague]:
    """The on-duty responders of the viewer's service (every service's, for an admin)."""
    cursor = await conn.execute(
        "SELECT username, coalesce(display_name, username), phone, duty_changed_at FROM users"
        " WHERE role = 'responder' AND on_duty AND (%s::text IS NULL OR service = %s::text)"
        " ORDER BY coalesce(display_name, username)",
        (None if viewer.role is Role.ADMIN else viewer.service,) * 2,
    )
    return [Colleague(*row) for row in await cursor.fetchall()]


async def hubs_offline(conn: DbConn, viewer: Viewer) -> int:
    """How many of the viewer's residents' hubs said offline or have an open hub-offline alert."""
    condition, params = visible_to(viewer, "r")
    cursor = await conn.execute(
        "SELECT count(*) FROM hubs h JOIN residents r ON r.id = h.resident_id"
        f" WHERE h.revoked_at IS NULL AND ({condition}) AND (h.state = 'offline' OR EXISTS ("
        "  SELECT 1 FROM alerts a WHERE a.hub_id = h.id AND a.kind = 'hub_offline'"
        "  AND a.status <> 'resolved'))",
        params,
    )
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def set_on_duty(conn: DbConn, user_id: int, *, on_duty: bool) -> None:
    """Put a responder on or off duty now."""
    await conn.execute(
        "UPDATE users SET on_duty = %s, duty_changed_at = now() WHERE id = %s",
        (on_duty, user_id),
    )


async def set_phone(conn: DbConn, user_id: int, phone: str | None) -> None:
    """A person's own phone number (a desk's direct line), or none."""
    await conn.execute("UPDATE users SET phone = %s WHERE id = %s", (phone, user_id))

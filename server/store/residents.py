"""SQL for residents' records: who may see them, what responders need, the resident's choices."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from server.domain.access import ResidentScope, Role, Viewer
from server.store.pool import DbConn

__all__ = [
    "LAST_CHECKIN",
    "CheckinDue",
    "Contact",
    "RecordRead",
    "ResidentRecord",
    "ResidentSummary",
    "activity",
    "add_checkin",
    "checkins_due",
    "create_resident",
    "hubs_heard_until",
    "id_by_name",
    "last_checkin",
    "log_list_reads",
    "log_read",
    "reads_of",
    "record",
    "scope",
    "set_away",
    "set_carers",
    "set_choices",
    "update_profile",
    "visible_residents",
    "visible_to",
]

# Profile fields an admin may change through the API, and their columns.
PROFILE_FIELDS = ("name", "timezone", "service", "address", "access_info", "health_notes")


@dataclass(slots=True, frozen=True)
class Contact:
    """Someone on the resident's escalation ladder, in order."""

    position: int
    username: str
    name: str
    role: Role
    reach: list[str]
    phone: str | None = None


@dataclass(slots=True, frozen=True)
class ResidentRecord:
    """Everything stored about a resident; the API decides which parts a viewer gets."""

    id: int
    name: str
    timezone: str
    service: str
    address: str
    access_info: str
    health_notes: str
    share_health_notes: bool
    share_activity_with_carers: bool
    checkin_by: time | None
    away_until: datetime | None
    contacts: list[Contact]
    hubs: list[str]


@dataclass(slots=True, frozen=True)
class ResidentSummary:
    """A line in a list of residents."""

    id: int
    name: str
    service: str
    away_until: datetime | None
    active_alerts: int


@dataclass(slots=True, frozen=True)
class RecordRead:
    """One look at a resident's record."""

    at: datetime
    username: str
    # A person's role, or who else read it (a health system's client, "health_system").
    role: str
    what: str
    allowed: bool
    name: str = ""  # the person's display name (their username if they have none)


async def id_by_name(conn: DbConn, name: str) -> int | None:
    """The id of the resident with that name, if there is one."""
    cursor = await conn.execute("SELECT id FROM residents WHERE name = %s", (name,))
    row = await cursor.fetchone()
    return int(row[0]) if row else None


async def scope(conn: DbConn, resident_id: int) -> ResidentScope | None:
    """What decides who may see the resident, or None if there is no such resident."""
    cursor = await conn.execute(
        "SELECT r.service, r.share_health_notes, r.share_activity_with_carers,"
        " coalesce(array_agg(c.user_id) FILTER (WHERE c.user_id IS NOT NULL), '{}')"
        " FROM residents r LEFT JOIN resident_carers c ON c.resident_id = r.id"
        " WHERE r.id = %s GROUP BY r.id",
        (resident_id,),
    )
    row = await cursor.fetchone()
    if row is None:
        return None
    service, share_health, share_activity, carers = row
    return ResidentScope(
        resident_id=resident_id,
        service=service,
        carer_ids=frozenset(int(c) for c in carers),
        share_health_notes=share_health,
        share_activity_with_carers=share_activity,
    )


def visible_to(viewer: Viewer, alias: str = "r") -> tuple[str, tuple[Any, ...]]:
    """A SQL condition on residents ``alias`` matching what ``viewer`` may see (mirrors may_see)."""
    match viewer.role:
        case Role.ADMIN:
            return "TRUE", ()
        case Role.RESPONDER:
            return f"{alias}.service = %s", (viewer.service,)
        case Role.CARER:
            return (
                f"{alias}.id IN (SELECT resident_id FROM resident_carers WHERE user_id = %s)",
                (viewer.user_id,),
            )
        case Role.RESIDENT:
            return f"{alias}.id = %s", (viewer.resident_id,)


async def visible_residents(conn: DbConn, viewer: Viewer) -> list[ResidentSummary]:
    """The residents the viewer may see, by name, with their active alerts counted."""
    condition, params = visible_to(viewer)
    cursor = await conn.execute(
        "SELECT r.id, r.name, r.service, r.away_until,"
        " (SELECT count(*) FROM alerts a WHERE a.resident_id = r.id AND a.status <> 'resolved')"
        f" FROM residents r WHERE {condition} ORDER BY r.name",
        params,
    )
    return [ResidentSummary(*row) for row in await cursor.fetchall()]


async def record(conn: DbConn, resident_id: int) -> ResidentRecord | None:
    """The resident's whole record, contacts in ladder order."""
    cursor = await conn.execute(
        "SELECT id, name, timezone, service, address, access_info, health_notes,"
        " share_health_notes, share_activity_with_carers, checkin_by, away_until"
        " FROM residents WHERE id = %s",
        (resident_id,),
    )
    row = await cursor.fetchone()
    if row is None:
        return None
    cursor = await conn.execute(
        "SELECT c.position, u.username, coalesce(u.display_name, u.username), u.role,"
        # E-mail only: webhook URLs and push subscriptions are credentials, not contacts.
        " coalesce(array_agg(ch.address ORDER BY ch.position)"
        "   FILTER (WHERE ch.kind = 'email'), '{}'), u.phone"
        " FROM resident_carers c JOIN users u ON u.id = c.user_id"
        " LEFT JOIN user_channels ch ON ch.user_id = u.id"
        " WHERE c.resident_id = %s GROUP BY c.position, u.id ORDER BY c.position",
        (resident_id,),
    )
    contacts = [
        Contact(position, username, name, Role(role), *rest)
        for position, username, name, role, *rest in await cursor.fetchall()
    ]
    cursor = await conn.execute(
        "SELECT id FROM hubs WHERE resident_id = %s AND revoked_at IS NULL ORDER BY id",
        (resident_id,),
    )
    hubs = [h[0] for h in await cursor.fetchall()]
    (
        rid,
        name,
        timezone,
        service,
        address,
        access,
        health,
        share_health,
        share_activity,
        checkin_by,
        away_until,
    ) = row
    return ResidentRecord(
        id=rid,
        name=name,
        timezone=timezone,
        service=service,
        address=address,
        access_info=access,
        health_notes=health,
        share_health_notes=share_health,
        share_activity_with_carers=share_activity,
        checkin_by=checkin_by,
        away_until=away_until,
        contacts=contacts,
        hubs=hubs,
    )


async def create_resident(
    conn: DbConn, name: str, *, timezone: str, service: str, address: str = ""
) -> int | None:
    """A new resident's id; None if the name is taken."""
    cursor = await conn.execute(
        "INSERT INTO residents (name, timezone, service, address) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (name) DO NOTHING RETURNING id",
        (name, timezone, service, address),
    )
    row = await cursor.fetchone()
    return int(row[0]) if row else None


async def name_taken(conn: DbConn, name: str, *, other_than: int) -> bool:
    """Whether another resident than ``other_than`` has this name."""
    cursor = await conn.execute(
        "SELECT 1 FROM residents WHERE name = %s AND id <> %s", (name, other_than)
    )
    return await cursor.fetchone() is not None


async def update_profile(conn: DbConn, resident_id: int, changes: dict[str, Any]) -> None:
    """Change profile fields (names from PROFILE_FIELDS only)."""
    columns = [c for c in changes if c in PROFILE_FIELDS]
    if not columns:
        return
    assignments = ", ".join(f"{c} = %s" for c in columns)
    await conn.execute(
        f"UPDATE residents SET {assignments} WHERE id = %s",
        (*(changes[c] for c in columns), resident_id),
    )


async def share_health_notes(conn: DbConn, resident_id: int) -> None:
    """The resident agrees to their health notes being shown to those who help them."""
    await conn.execute(
        "UPDATE residents SET share_health_notes = true WHERE id = %s", (resident_id,)
    )


async def set_away(conn: DbConn, resident_id: int, until: datetime | None) -> None:
    """Away until ``until`` (None: at home)."""
    await conn.execute("UPDATE residents SET away_until = %s WHERE id = %s", (until, resident_id))


async def set_choices(
    conn: DbConn,
    resident_id: int,
    *,
    share_health_notes: bool,
    share_activity_with_carers: bool,
    checkin_by: time | None,
) -> None:
    """The resident's consent and daily check-in time."""
    await conn.execute(
        "UPDATE residents SET share_health_notes = %s, share_activity_with_carers = %s,"
        " checkin_by = %s WHERE id = %s",
        (share_health_notes, share_activity_with_carers, checkin_by, resident_id),
    )


async def set_carers(conn: DbConn, resident_id: int, user_ids: Sequence[int]) -> None:
    """Replace the resident's escalation ladder with these carers, in this order."""
    await conn.execute("DELETE FROM resident_carers WHERE resident_id = %s", (resident_id,))
    for position, user_id in enumerate(user_ids, start=1):
        await conn.execute(
            "INSERT INTO resident_carers (resident_id, user_id, position) VALUES (%s, %s, %s)",
            (resident_id, user_id, position),
        )


async def add_checkin(conn: DbConn, resident_id: int, *, source: str) -> datetime:
    """Record an "I'm OK"; returns when."""
    cursor = await conn.execute(
        "INSERT INTO checkins (resident_id, source) VALUES (%s, %s)"
        " ON CONFLICT DO NOTHING RETURNING at",
        (resident_id, source),
    )
    row = await cursor.fetchone()
    if row is None:  # two in the same microsecond: one is enough
        cursor = await conn.execute("SELECT now()")
        row = await cursor.fetchone()
        assert row is not None
    at: datetime = row[0]
    return at


# The latest "I'm OK" of resident ``r``: from their page or the button on their hub.
LAST_CHECKIN = (
    "greatest("
    " (SELECT max(c.at) FROM checkins c WHERE c.resident_id = r.id),"
    " (SELECT max(g.ts) FROM hubs h, LATERAL ("
    "   SELECT ts FROM readings WHERE hub_id = h.id AND kind = 'button' AND value > 0"
    "   ORDER BY ts DESC LIMIT 1) g WHERE h.resident_id = r.id))"
)


# Each resident with a check-in time: their first hub, their latest check-in
# (page or hub button) and their latest checkin_missed alert. All from the
# database, so a restarted server carries on where it was.
_CHECKINS_DUE = f"""
SELECT r.id, r.name, r.timezone, r.checkin_by,
       (SELECT min(h.id) FROM hubs h WHERE h.resident_id = r.id AND h.revoked_at IS NULL),
       {LAST_CHECKIN},
       a.event_at, a.status, coalesce(r.away_until > now(), false)
FROM residents r
LEFT JOIN LATERAL (
  SELECT event_at, status FROM alerts
  WHERE resident_id = r.id AND kind = %s ORDER BY event_at DESC LIMIT 1
) a ON TRUE
WHERE r.checkin_by IS NOT NULL
"""


@dataclass(slots=True, frozen=True)
class CheckinDue:
    """A resident who checks in daily, with what the check-in watch judges them by."""

    resident_id: int
    name: str
    timezone: str
    checkin_by: time
    hub: str | None
    last_checkin: datetime | None
    last_raised: datetime | None
    alert_status: str | None
    away: bool


async def checkins_due(conn: DbConn, kind: str) -> list[CheckinDue]:
    """Every resident with a daily check-in time, and their latest alert of ``kind``."""
    cursor = await conn.execute(_CHECKINS_DUE, (kind,))
    return [CheckinDue(*row) for row in await cursor.fetchall()]


async def last_checkin(conn: DbConn, resident_id: int) -> datetime | None:
    """The latest "I'm OK", from the resident's page or the button on their hub."""
    cursor = await conn.execute(
        f"SELECT {LAST_CHECKIN} FROM residents r WHERE r.id = %s", (resident_id,)
    )
    row = await cursor.fetchone()
    return row[0] if row else None


async def log_read(
    conn: DbConn, viewer: Viewer, resident_id: int, what: str, *, allowed: bool
) -> None:
    """Remember that ``viewer`` looked (or tried to look) at part of the record."""
    await conn.execute(
        "INSERT INTO record_reads (user_id, username, role, resident_id, what, allowed)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (viewer.user_id, viewer.username, viewer.role.value, resident_id, what, allowed),
    )


async def log_list_reads(
    conn: DbConn,
    viewer: Viewer,
    resident_ids: Iterable[int],
    what: str,
    *,
    unless_within: timedelta,
) -> None:
    """Remember that ``viewer`` saw these residents on a list; once per ``unless_within``.

    A console refreshes its queue often: one row per look, not per refresh.
    """
    ids = sorted(set(resident_ids))
    if not ids:
        return
    await conn.execute(
        "INSERT INTO record_reads (user_id, username, role, resident_id, what, allowed)"
        " SELECT %(user)s, %(name)s, %(role)s, r, %(what)s, true FROM unnest(%(ids)s::bigint[]) r"
        " WHERE NOT EXISTS (SELECT 1 FROM record_reads x WHERE x.user_id = %(user)s"
        " AND x.resident_id = r AND x.what = %(what)s AND x.at > now() - %(within)s)",
        {
            "user": viewer.user_id,
            "name": viewer.username,
            "role": viewer.role.value,
            "what": what,
            "ids": ids,
            "within": unless_within,
        },
    )


async def reads_of(conn: DbConn, resident_id: int, *, limit: int) -> list[RecordRead]:
    """The latest looks at the resident's record, newest first."""
    cursor = await conn.execute(
        "SELECT r.at, r.username, r.role, r.what, r.allowed,"
        " coalesce(u.display_name, r.username) FROM record_reads r"
        " LEFT JOIN users u ON u.username = r.username WHERE r.resident_id = %s"
        " ORDER BY r.at DESC, r.id DESC LIMIT %s",
        (resident_id, limit),
    )
    return [RecordRead(*row) for row in await cursor.fetchall()]


async def hubs_heard_until(conn: DbConn, resident_id: int) -> datetime | None:
    """The latest time the resident's hubs vouched for (their last status, in their own clock)."""
    cursor = await conn.execute(
        "SELECT max((last_status->>'ts')::timestamptz) FROM hubs"
        " WHERE resident_id = %s AND revoked_at IS NULL",
        (resident_id,),
    )
    row = await cursor.fetchone()
    return row[0] if row else None


async def activity(
    conn: DbConn, resident_id: int, since: datetime, until: datetime
) -> list[tuple[str, str, datetime, float]]:
    """(sensor, kind, ts, value) of the resident's hubs' readings in [since, until), in time order."""
    cursor = await conn.execute(
        "SELECT r.sensor, r.kind, r.ts, r.value FROM readings r"
        " JOIN hubs h ON h.id = r.hub_id WHERE h.resident_id = %s"
        " AND r.ts >= %s AND r.ts < %s AND r.kind NOT IN ('temperature', 'humidity')"
        " ORDER BY r.ts",
        (resident_id, since, until),
    )
    return [(s, k, t, float(v)) for s, k, t, v in await cursor.fetchall()]

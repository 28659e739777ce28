"""SQL for escalation: due rungs, who to contact, delivery attempts and one-tap links."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from server.domain.access import Role
from server.domain.contacts import AdvisoryLine, Channel, Contact, QuietHours
from server.store import people
from server.store.pool import DbConn

__all__ = [
    "DueAlert",
    "DueRealert",
    "Notification",
    "add_push_subscription",
    "advisories_for",
    "carers_without_digest",
    "claim_digest",
    "claim_due",
    "claim_realert",
    "contacts_for",
    "contacts_for_residents",
    "finish_digest",
    "finish_realert",
    "finish_rung",
    "lease_realert",
    "notifications_for",
    "notifications_for_resident",
    "realert_contacts",
    "record_attempt",
    "rung_of",
    "schedule_realert",
    "schedule_rung",
    "store_link",
    "use_link",
]


@dataclass(slots=True, frozen=True)
class DueAlert:
    """An alert whose next rung is due, locked by this transaction."""

    id: uuid.UUID
    resident_id: int
    resident: str
    kind: str
    severity: str
    status: str
    reason: str
    rung: int


@dataclass(slots=True, frozen=True)
class Notification:
    """One delivery attempt, with who it was for (None once their account is removed)."""

    at: datetime
    alert_id: uuid.UUID
    user_id: int | None
    username: str | None
    # The person's display name (their username if they have none), and role.
    name: str | None
    role: Role | None
    rung: int
    # The press of the pendant a re-alert was for; None for a rung of the ladder.
    press: int | None
    channel: str
    address: str
    attempt: int
    ok: bool
    error: str | None


_DUE = (
    "SELECT a.id, a.resident_id, r.name, a.kind, a.severity, a.status, a.reason,"
    " a.escalation_rung FROM alerts a JOIN residents r ON r.id = a.resident_id"
    " WHERE a.escalation_due_at <= now() AND a.status IN ('open', 'escalated')"
)


async def claim_due(conn: DbConn, *, limit: int = 1) -> list[DueAlert]:
    """Lock up to ``limit`` alerts whose next rung is due, most overdue first; other
    processes skip them.

    Emergencies come before everything else: a storm of technical alerts all due at
    once (a council's fleet imported with incomplete sensor maps) must not put a
    pendant's rung behind thousands of installers' findings.
    """
    cursor = await conn.execute(
        _DUE + " AND a.severity = 'emergency'"
        " ORDER BY a.escalation_due_at LIMIT %s FOR UPDATE OF a SKIP LOCKED",
        (limit,),
    )
    claimed = [DueAlert(*row) for row in await cursor.fetchall()]
    if len(claimed) < limit:
        cursor = await conn.execute(
            _DUE + " AND a.severity <> 'emergency'"
            " ORDER BY a.escalation_due_at LIMIT %s FOR UPDATE OF a SKIP LOCKED",
            (limit - len(claimed),),
        )
        claimed += [DueAlert(*row) for row in await cursor.fetchall()]
    return claimed


async def schedule_rung(
    conn: DbConn, alert_id: uuid.UUID, *, rung: int, due_at: datetime | None
) -> None:
    """Set the next rung and when it is due (None: nothing more to do)."""
    await conn.execute(
        "UPDATE alerts SET escalation_rung = %s, escalation_due_at = %s WHERE id = %s",
        (rung, due_at, alert_id),
    )


async def rung_of(conn: DbConn, alert_id: uuid.UUID) -> int:
    """The next rung of the alert's ladder not yet sent (how far it has climbed)."""
    cursor = await conn.execute("SELECT escalation_rung FROM alerts WHERE id = %s", (alert_id,))
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def finish_rung(
    conn: DbConn,
    alert_id: uuid.UUID,
    *,
    rung: int,
    lease: datetime,
    next_rung: int,
    due_at: datetime | None,
) -> bool:
    """Move on to the next rung if the alert is still as it was when ``rung`` was claimed.

    False when someone acknowledged, resolved or escalated it while the rung
    was being sent (or another process took over an expired lease): then its
    deadline is theirs, not ours.
    """
    cursor = await conn.execute(
        "UPDATE alerts SET escalation_rung = %s, escalation_due_at = %s"
        " WHERE id = %s AND escalation_rung = %s AND escalation_due_at = %s"
        " AND status IN ('open', 'escalated')",
        (next_rung, due_at, alert_id, rung, lease),
    )
    return cursor.rowcount == 1


@dataclass(slots=True, frozen=True)
class DueRealert:
    """A round of notifications for another press on an active alert, locked by this transaction."""

    id: int
    press: int
    alert_id: uuid.UUID
    resident_id: int
    resident: str
    kind: str
    severity: str
    status: str
    reason: str
    acknowledged_by: str | None
    # The ladder's last rung climbed, for the delivery log.
    rung: int
    note: str


async def schedule_realert(conn: DbConn, alert_id: uuid.UUID, *, press: int, note: str) -> None:
    """A round for ``press`` (``note`` says what it was), due now."""
    await conn.execute(
        "INSERT INTO alert_realerts (alert_id, press, note, due_at) VALUES (%s, %s, %s, now())",
        (alert_id, press, note),
    )


async def claim_realert(conn: DbConn) -> DueRealert | None:
    """Lock the oldest due round; other processes skip it."""
    cursor = await conn.execute(
        "SELECT x.id, x.press, a.id, a.resident_id, r.name, a.kind, a.severity, a.status, a.reason,"
        " a.acknowledged_by, greatest(a.escalation_rung - 1, 0), x.note FROM alert_realerts x"
        " JOIN alerts a ON a.id = x.alert_id JOIN residents r ON r.id = a.resident_id"
        " WHERE x.due_at <= now() ORDER BY x.due_at, x.id LIMIT 1 FOR UPDATE OF x SKIP LOCKED"
    )
    row = await cursor.fetchone()
    return None if row is None else DueRealert(*row)


async def lease_realert(conn: DbConn, realert_id: int, *, until: datetime | None) -> None:
    """Hold the round until ``until`` while it is sent (None: nothing to send, done)."""
    await conn.execute(
        "UPDATE alert_realerts SET due_at = %s,"
        " done_at = CASE WHEN %s::timestamptz IS NULL THEN now() END WHERE id = %s",
        (until, until, realert_id),
    )


async def finish_realert(conn: DbConn, realert_id: int, *, lease: datetime) -> bool:
    """The round was sent; False if the lease had expired and another process took it over."""
    cursor = await conn.execute(
        "UPDATE alert_realerts SET due_at = NULL, done_at = now() WHERE id = %s AND due_at = %s",
        (realert_id, lease),
    )
    return cursor.rowcount == 1


async def realert_contacts(
    conn: DbConn, alert_id: uuid.UUID, *, acknowledged_by: str | None
) -> tuple[Contact | None, list[Contact]]:
    """The person who acknowledged the alert, and the carers dealing with it and everyone
    notified of it so far, first first (realert_round tells each once)."""
    cursor = await conn.execute(
        "SELECT u.id, coalesce(u.display_name, u.username) FROM users u"
        " JOIN (SELECT user_id, min(at) AS first_at FROM notifications"
        "  WHERE alert_id = %s AND user_id IS NOT NULL GROUP BY user_id) n ON n.user_id = u.id"
        " ORDER BY n.first_at",
        (alert_id,),
    )
    notified = await cursor.fetchall()
    # Carers who said they are dealing with an emergency the centre keeps: they hear a
    # new press as the acknowledger would, before everyone else told of it.
    cursor = await conn.execute(
        "SELECT u.id, coalesce(u.display_name, u.username) FROM alerts a,"
        " jsonb_array_elements(coalesce(a.details->'responding', '[]'::jsonb))"
        "  WITH ORDINALITY AS r(said, n) JOIN users u ON u.username = r.said->>'by'"
        " WHERE a.id = %s ORDER BY r.n",
        (alert_id,),
    )
    notified = [*await cursor.fetchall(), *notified]
    acknowledger = None
    if acknowledged_by is not None:
        cursor = await conn.execute(
            "SELECT id, coalesce(display_name, username) FROM users WHERE username = %s",
            (acknowledged_by,),
        )
        acknowledger = await cursor.fetchone()
    rows = [*([acknowledger] if acknowledger else []), *notified]
    channels = await _channels(conn, [row[0] for row in rows])
    contacts = [Contact(user_id, name, channels.get(user_id, ())) for user_id, name in rows]
    if acknowledger is None:
        return None, contacts
    return contacts[0], contacts[1:]


async def _channels(conn: DbConn, user_ids: list[int]) -> dict[int, tuple[Channel, ...]]:
    cursor = await conn.execute(
        "SELECT user_id, kind, address FROM user_channels WHERE user_id = ANY(%s)"
        " ORDER BY user_id, position",
        (user_ids,),
    )
    found: dict[int, list[Channel]] = {}
    for user_id, kind, address in await cursor.fetchall():
        found.setdefault(user_id, []).append(Channel(kind, address))
    return {user_id: tuple(channels) for user_id, channels in found.items()}


async def contacts_for(
    conn: DbConn, resident_id: int
) -> tuple[list[Contact], list[Contact], list[Contact]]:
    """The resident's carers in order, the on-duty responders of the resident's service, and
    the installers (admins)."""
    return (await contacts_for_residents(conn, [resident_id]))[resident_id]


async def contacts_for_residents(
    conn: DbConn, resident_ids: Sequence[int]
) -> dict[int, tuple[list[Contact], list[Contact], list[Contact]]]:
    """:func:`contacts_for` for many residents in two queries, whatever their number."""
    # One query, carers first in the order each resident's ladder lists them; a
    # responder appears once for every resident of their service.
    cursor = await conn.execute(
        "SELECT resident_id, id, name, role, away_until, quiet_from, quiet_until FROM ("
        " SELECT c.resident_id, u.id, coalesce(u.display_name, u.username) AS name,"
        "  'carer' AS role, 0 AS part, c.position, u.away_until, u.quiet_from, u.quiet_until"
        "  FROM resident_carers c JOIN users u ON u.id = c.user_id"
        "  WHERE c.resident_id = ANY(%s)"
        " UNION ALL SELECT r.id, u.id, coalesce(u.display_name, u.username), 'responder', 1, 0,"
        "  u.away_until, u.quiet_from, u.quiet_until FROM residents r"
        "  JOIN users u ON u.service = r.service AND u.role = 'responder' AND u.on_duty"
        "  WHERE r.id = ANY(%s)"
        " UNION ALL SELECT NULL, id, coalesce(display_name, username), 'installer', 2, 0,"
        "  away_until, quiet_from, quiet_until FROM users WHERE role = 'admin'"
        ") AS contacts ORDER BY part, position, id",
        (list(resident_ids), list(resident_ids)),
    )
    rows = await cursor.fetchall()
    channels = await _channels(conn, list({row[1] for row in rows}))
    found: dict[int, tuple[list[Contact], list[Contact], list[Contact]]] = {
        resident_id: ([], [], []) for resident_id in resident_ids
    }
    installers: list[Contact] = []
    for resident_id, user_id, name, role, away_until, quiet_from, quiet_until in rows:
        contact = Contact(
            user_id,
            name,
            channels.get(user_id, ()),
            away_until=away_until,
            quiet=_quiet(quiet_from, quiet_until),
        )
        if role == "installer":
            installers.append(contact)
        else:
            found[resident_id][0 if role == "carer" else 1].append(contact)
    for *_, theirs in found.values():
        theirs.extend(installers)
    return found


def _quiet(start: time | None, end: time | None) -> QuietHours | None:
    return None if start is None or end is None else QuietHours(start, end)


async def record_attempt(
    conn: DbConn,
    alert_id: uuid.UUID,
    *,
    user_id: int,
    rung: int,
    channel: Channel,
    attempt: int,
    ok: bool,
    error: str | None,
    at: datetime,
    press: int | None = None,
) -> None:
    """Log one delivery attempt, made at ``at`` (before this transaction began)."""
    await conn.execute(
        "INSERT INTO notifications"
        " (alert_id, user_id, rung, channel, address, attempt, ok, error, at, press)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (alert_id, user_id, rung, channel.kind, channel.address, attempt, ok, error, at, press),
    )


async def notifications_for(conn: DbConn, alert_id: uuid.UUID) -> list[Notification]:
    """Every delivery attempt for an alert, oldest first."""
    cursor = await conn.execute(
        _NOTIFICATIONS + " WHERE n.alert_id = %s ORDER BY n.at, n.id", (alert_id,)
    )
    return [_notification(row) for row in await cursor.fetchall()]


async def notifications_for_resident(conn: DbConn, resident_id: int) -> list[Notification]:
    """Every delivery attempt for any alert of a resident, oldest first."""
    cursor = await conn.execute(
        _NOTIFICATIONS + " JOIN alerts a ON a.id = n.alert_id WHERE a.resident_id = %s"
        " ORDER BY n.at, n.id",
        (resident_id,),
    )
    return [_notification(row) for row in await cursor.fetchall()]


def _notification(row: tuple[Any, ...]) -> Notification:
    at, alert_id, user_id, username, name, role, *rest = row
    return Notification(
        at, alert_id, user_id, username, name, None if role is None else Role(role), *rest
    )


_NOTIFICATIONS = (
    "SELECT n.at, n.alert_id, n.user_id, u.username, coalesce(u.display_name, u.username),"
    " u.role, n.rung, n.press, n.channel, n.address, n.attempt, n.ok, n.error"
    " FROM notifications n LEFT JOIN users u ON u.id = n.user_id"
)


async def store_link(
    conn: DbConn, nonce: str, alert_id: uuid.UUID, *, user_id: int, expires_at: datetime
) -> None:
    """Remember a link so that it works once."""
    await conn.execute(
        "INSERT INTO ack_links (nonce, alert_id, user_id, expires_at) VALUES (%s, %s, %s, %s)",
        (nonce, alert_id, user_id, expires_at),
    )


async def use_link(conn: DbConn, nonce: str) -> str | None:
    """Spend a link; the username it was for, or None if it was used before (or never made)."""
    cursor = await conn.execute(
        "UPDATE ack_links l SET used_at = now() FROM users u"
        " WHERE l.nonce = %s AND l.used_at IS NULL AND u.id = l.user_id RETURNING u.username",
        (nonce,),
    )
    row = await cursor.fetchone()
    return None if row is None else str(row[0])


async def carers_without_digest(conn: DbConn, day: date) -> list[Contact]:
    """Carers of at least one resident who have had no digest on ``day``."""
    cursor = await conn.execute(
        "SELECT DISTINCT u.id, coalesce(u.display_name, u.username), u.away_until,"
        " u.quiet_from, u.quiet_until FROM users u JOIN resident_carers c ON c.user_id = u.id"
        " WHERE NOT EXISTS (SELECT 1 FROM digests d WHERE d.user_id = u.id AND d.day = %s)",
        (day,),
    )
    rows = await cursor.fetchall()
    channels = await _channels(conn, [row[0] for row in rows])
    return [
        Contact(
            user_id,
            name,
            channels.get(user_id, ()),
            away_until=away_until,
            quiet=_quiet(quiet_from, quiet_until),
        )
        for user_id, name, away_until, quiet_from, quiet_until in rows
    ]


async def claim_digest(conn: DbConn, user_id: int, day: date) -> bool:
    """Take the carer's digest for ``day``; False if another process already has."""
    cursor = await conn.execute(
        "INSERT INTO digests (user_id, day, alerts, ok) VALUES (%s, %s, 0, false)"
        " ON CONFLICT DO NOTHING RETURNING 1",
        (user_id, day),
    )
    return await cursor.fetchone() is not None


async def finish_digest(
    conn: DbConn, user_id: int, day: date, *, alerts: int, ok: bool, error: str | None
) -> None:
    """Record how the day's digest went."""
    await conn.execute(
        "UPDATE digests SET alerts = %s, ok = %s, error = %s, sent_at = now()"
        " WHERE user_id = %s AND day = %s",
        (alerts, ok, error, user_id, day),
    )


async def advisories_for(conn: DbConn, user_id: int, *, since: datetime) -> list[AdvisoryLine]:
    """Advisory alerts of the carer's residents raised since ``since``."""
    cursor = await conn.execute(
        "SELECT r.name, a.reason, a.raised_at FROM alerts a"
        " JOIN residents r ON r.id = a.resident_id"
        " JOIN resident_carers c ON c.resident_id = a.resident_id AND c.user_id = %s"
        " WHERE a.severity = 'advisory' AND a.raised_at >= %s ORDER BY a.raised_at",
        (user_id, since),
    )
    return [AdvisoryLine(*row) for row in await cursor.fetchall()]


async def add_push_subscription(
    conn: DbConn, user_id: int, address: str, *, keep: int
) -> list[str]:
    """Put a browser's subscription first and keep only the user's ``keep`` newest.

    Returns the addresses of the subscriptions dropped to make room. The user's
    channels are locked first, so two browsers subscribing at once cannot both
    squeeze in past the cap.
    """
    await conn.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (user_id,))
    await people.add_first_channel(conn, user_id, "webpush", address)
    # Channels are put first when added, so the last positions hold the oldest.
    cursor = await conn.execute(
        "DELETE FROM user_channels WHERE user_id = %s AND kind = 'webpush' AND position IN ("
        " SELECT position FROM user_channels WHERE user_id = %s AND kind = 'webpush'"
        " ORDER BY position OFFSET %s) RETURNING address",
        (user_id, user_id, keep),
    )
    return [str(row[0]) for row in await cursor.fetchall()]

"""SQL for residents, their hubs, console users and their API tokens."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

from edge.protocol import HubStatus
from server.domain.access import Role
from server.domain.homes import HubHome
from server.store.pool import DbConn
from server.store.tokens import token_digest

__all__ = [
    "User",
    "add_first_channel",
    "add_hub",
    "add_user",
    "assign_carer",
    "ensure_resident",
    "hub_home",
    "hub_homes",
    "hub_homes_fingerprint",
    "issue_token",
    "record_hub_status",
    "record_hub_statuses",
    "revoke_hub",
    "revoke_token",
    "set_contact_details",
    "set_email",
    "user_by_token",
    "user_by_username",
]


@dataclass(slots=True, frozen=True)
class User:
    """Someone who signs in to the console or the API."""

    id: int
    username: str
    role: Role
    password_hash: str
    # The service a responder works for, and a resident's own record.
    service: str | None = None
    resident_id: int | None = None
    # Turned off by an admin: kept with its history, but never signed in.
    disabled: bool = False


async def ensure_resident(conn: DbConn, name: str, *, timezone: str = "Europe/London") -> int:
    """The resident's id, creating the resident if new."""
    cursor = await conn.execute(
        "INSERT INTO residents (name, timezone) VALUES (%s, %s)"
        " ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
        (name, timezone),
    )
    row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def add_hub(conn: DbConn, hub: str, resident_id: int, *, password_hash: str | None) -> bool:
    """Provision a hub in a resident's home; False if the id is already taken."""
    cursor = await conn.execute(
        "INSERT INTO hubs (id, resident_id, password_hash) VALUES (%s, %s, %s)"
        " ON CONFLICT (id) DO NOTHING",
        (hub, resident_id, password_hash),
    )
    return cursor.rowcount == 1


async def hub_homes(conn: DbConn) -> list[HubHome]:
    """Every provisioned hub (not revoked) with its resident."""
    cursor = await conn.execute(
        "SELECT h.id, r.id, r.name, r.timezone FROM hubs h JOIN residents r ON r.id = h.resident_id"
        " WHERE h.revoked_at IS NULL"
    )
    return [HubHome(*row) for row in await cursor.fetchall()]


async def hub_homes_fingerprint(conn: DbConn) -> tuple[int, int]:
    """What :func:`hub_homes` would list, in two numbers: they change when any home does.

    The count and an order-free sum of each hub's hash with its resident's id,
    name and time zone, worked out in PostgreSQL: a server asks this every
    half-minute, and listing 100,000 homes into Python to find nothing changed
    held its one event loop for a second or more each time (alarms waiting).
    """
    cursor = await conn.execute(
        "SELECT count(*), coalesce(sum(hashtextextended("
        "h.id || '/' || r.id || '/' || r.name || '/' || r.timezone, 0)), 0)"
        " FROM hubs h JOIN residents r ON r.id = h.resident_id WHERE h.revoked_at IS NULL"
    )
    row = await cursor.fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


async def hub_home(conn: DbConn, hub: str) -> HubHome | None:
    """One hub with its resident, if provisioned and not revoked."""
    cursor = await conn.execute(
        "SELECT h.id, r.id, r.name, r.timezone FROM hubs h JOIN residents r ON r.id = h.resident_id"
        " WHERE h.id = %s AND h.revoked_at IS NULL",
        (hub,),
    )
    row = await cursor.fetchone()
    return HubHome(*row) if row else None


async def revoke_hub(conn: DbConn, hub: str) -> bool:
    """Lock the hub out; its readings and alerts stay. False if there is no such active hub."""
    cursor = await conn.execute(
        "UPDATE hubs SET revoked_at = now(), password_hash = NULL"
        " WHERE id = %s AND revoked_at IS NULL",
        (hub,),
    )
    return cursor.rowcount == 1


def _status_fields(status: HubStatus) -> Jsonb:
    return Jsonb(
        {
            "ts": status.ts.isoformat(),
            "uptime_s": status.uptime_s,
            "outbox": status.outbox,
            "shed": status.shed,
            "firmware": status.firmware,
            "sensors": [
                {"sensor": s.sensor, "room": s.room, "battery": s.battery, "link": s.link}
                for s in status.sensors
            ],
        }
    )


async def record_hub_status(conn: DbConn, status: HubStatus, received_at: datetime) -> None:
    """Remember the hub's latest status (online, offline, heartbeat figures)."""
    await record_hub_statuses(conn, [(status, received_at)])


async def record_hub_statuses(conn: DbConn, statuses: Sequence[tuple[HubStatus, datetime]]) -> None:
    """Remember many hubs' latest statuses in one statement (one status per hub)."""
    if not statuses:
        return
    await conn.execute(
        "UPDATE hubs h SET state = s.state, last_seen_at = s.seen, last_status = s.status"
        # Binary parameters (%b): a text array of 2,000 JSON documents costs a quoting
        # and escaping pass per element on the event loop; binary sends them as they are.
        " FROM unnest(%b::text[], %b::text[], %b::timestamptz[], %b::jsonb[])"
        " AS s (id, state, seen, status) WHERE h.id = s.id",
        (
            [status.hub for status, _ in statuses],
            [status.state.value for status, _ in statuses],
            [received_at for _, received_at in statuses],
            [_status_fields(status) for status, _ in statuses],
        ),
    )


async def add_user(conn: DbConn, username: str, password_hash: str, role: Role) -> bool:
    """Create a user (a responder in the 'default' service); False if the name is taken."""
    cursor = await conn.execute(
        "INSERT INTO users (username, password_hash, role, service) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (username) DO NOTHING",
        (username, password_hash, role, "default" if role is Role.RESPONDER else None),
    )
    return cursor.rowcount == 1


async def set_contact_details(
    conn: DbConn,
    user_id: int,
    *,
    display_name: str | None = None,
    on_duty: bool | None = None,
    channels: Sequence[tuple[str, str]] = (),
) -> None:
    """A person's name as alerts show it, whether a responder is on duty, and how to reach them.

    ``channels`` are (kind, address) pairs, most preferred first; given, they replace the old ones.
    """
    await conn.execute(
        "UPDATE users SET display_name = coalesce(%s, display_name),"
        " on_duty = coalesce(%s, on_duty) WHERE id = %s",
        (display_name, on_duty, user_id),
    )
    if channels:
        await conn.execute("DELETE FROM user_channels WHERE user_id = %s", (user_id,))
        for position, (kind, address) in enumerate(channels):
            await conn.execute(
                "INSERT INTO user_channels (user_id, position, kind, address) VALUES (%s, %s, %s, %s)",
                (user_id, position, kind, address),
            )


async def add_first_channel(conn: DbConn, user_id: int, kind: str, address: str) -> None:
    """Put a channel before the user's others (a phone that just subscribed is tried first)."""
    await conn.execute(
        "DELETE FROM user_channels WHERE user_id = %s AND kind = %s AND address = %s",
        (user_id, kind, address),
    )
    # Two steps, so the primary key never sees two rows at one position.
    await conn.execute(
        "UPDATE user_channels SET position = -position - 2 WHERE user_id = %s", (user_id,)
    )
    await conn.execute(
        "UPDATE user_channels SET position = -position - 1 WHERE user_id = %s", (user_id,)
    )
    await conn.execute(
        "INSERT INTO user_channels (user_id, position, kind, address) VALUES (%s, 0, %s, %s)",
        (user_id, kind, address),
    )


async def place_user(
    conn: DbConn, user_id: int, *, service: str | None, resident_id: int | None
) -> None:
    """Where a user belongs: a responder's service, or the resident a resident's login is."""
    await conn.execute(
        "UPDATE users SET service = %s, resident_id = %s WHERE id = %s",
        (service, resident_id, user_id),
    )


async def assign_carer(conn: DbConn, resident_id: int, user_id: int) -> int:
    """Put a carer at the end of the resident's escalation ladder; returns their place (1 = first)."""
    cursor = await conn.execute(
        "INSERT INTO resident_carers (resident_id, user_id, position)"
        " SELECT %s, %s, coalesce(max(position), 0) + 1 FROM resident_carers WHERE resident_id = %s"
        " ON CONFLICT (resident_id, user_id) DO UPDATE SET position = resident_carers.position"
        " RETURNING position",
        (resident_id, user_id, resident_id),
    )
    row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


def user_of_row(row: Sequence[Any]) -> User:
    """A user from a row of id, username, role, password hash, service, resident, disabled."""
    user_id, username, role, *rest = row
    return User(user_id, username, Role(role), *rest)


async def user_by_username(conn: DbConn, username: str) -> User | None:
    """The user with that name, if any."""
    cursor = await conn.execute(
        "SELECT id, username, role, password_hash, service, resident_id,"
        " disabled_at IS NOT NULL FROM users WHERE username = %s",
        (username,),
    )
    row = await cursor.fetchone()
    return user_of_row(row) if row else None


async def issue_token(conn: DbConn, user_id: int, token: str, *, lifetime: timedelta) -> None:
    """Store a bearer token's hash; the token itself is never stored."""
    await conn.execute(
        "INSERT INTO api_tokens (token_hash, user_id, expires_at) VALUES (%s, %s, now() + %s)",
        (token_digest(token), user_id, lifetime),
    )


async def user_by_token(conn: DbConn, token: str) -> User | None:
    """The user a live token belongs to."""
    cursor = await conn.execute(
        "SELECT u.id, u.username, u.role, u.password_hash, u.service, u.resident_id FROM api_tokens t"
        " JOIN users u ON u.id = t.user_id WHERE t.token_hash = %s AND t.expires_at > now()"
        " AND u.disabled_at IS NULL",
        (token_digest(token),),
    )
    row = await cursor.fetchone()
    return user_of_row(row) if row else None


async def revoke_token(conn: DbConn, token: str) -> bool:
    """Sign a bearer token out: it stops working at once. False if it was not live."""
    cursor = await conn.execute(
        "DELETE FROM api_tokens WHERE token_hash = %s", (token_digest(token),)
    )
    return cursor.rowcount == 1


@dataclass(slots=True, frozen=True)
class Account:
    """A user as the admin page lists them (never their password)."""

    id: int
    username: str
    role: Role
    display_name: str | None
    service: str | None
    resident_id: int | None
    phone: str | None = None
    email: str | None = None
    on_duty: bool = False
    disabled: bool = False


_ACCOUNT = (
    "SELECT id, username, role, display_name, service, resident_id, phone,"
    " (SELECT address FROM user_channels c WHERE c.user_id = users.id AND c.kind = 'email'"
    "  ORDER BY position LIMIT 1), on_duty, disabled_at IS NOT NULL FROM users"
)


def _account(row: Sequence[Any]) -> Account:
    user_id, username, role, *rest = row
    return Account(user_id, username, Role(role), *rest)


async def accounts(conn: DbConn) -> list[Account]:
    """Everyone who signs in, by name."""
    cursor = await conn.execute(_ACCOUNT + " ORDER BY username")
    return [_account(row) for row in await cursor.fetchall()]


async def account(conn: DbConn, username: str) -> Account | None:
    """One account as the admin page shows it."""
    cursor = await conn.execute(_ACCOUNT + " WHERE username = %s", (username,))
    row = await cursor.fetchone()
    return _account(row) if row is not None else None


async def set_email(conn: DbConn, user_id: int, email: str | None) -> None:
    """The person's e-mail address for alerts (replacing any other), after their other channels."""
    await conn.execute(
        "DELETE FROM user_channels WHERE user_id = %s AND kind = 'email'", (user_id,)
    )
    if email:
        await conn.execute(
            "INSERT INTO user_channels (user_id, position, kind, address)"
            " SELECT %s, coalesce(max(position), -1) + 1, 'email', %s FROM user_channels"
            " WHERE user_id = %s",
            (user_id, email, user_id),
        )


async def resident_login_state(conn: DbConn, resident_id: int) -> tuple[bool, bool]:
    """Whether the resident exists, and whether they already have an account of their own."""
    cursor = await conn.execute(
        "SELECT EXISTS (SELECT 1 FROM residents WHERE id = %s),"
        " EXISTS (SELECT 1 FROM users WHERE resident_id = %s)",
        (resident_id, resident_id),
    )
    row = await cursor.fetchone()
    assert row is not None  # EXISTS always answers
    return bool(row[0]), bool(row[1])


async def describe_user(
    conn: DbConn,
    username: str,
    *,
    display_name: str | None,
    service: str | None,
    resident_id: int | None,
) -> Account | None:
    """Set a new user's name, service and resident; the account as it now is."""
    cursor = await conn.execute(
        "UPDATE users SET display_name = %s, service = %s, resident_id = %s"
        " WHERE username = %s RETURNING id, username, role, display_name, service, resident_id",
        (display_name, service, resident_id, username),
    )
    row = await cursor.fetchone()
    return _account(row) if row is not None else None


@dataclass(slots=True, frozen=True)
class HubRow:
    """A hub as the hubs page lists it: its resident, state and last heartbeat's status."""

    hub: str
    resident: str
    state: str | None
    last_seen_at: datetime | None
    revoked_at: datetime | None
    last_status: dict[str, Any] | None


async def hubs_where(conn: DbConn, condition: str, params: Sequence[Any]) -> list[HubRow]:
    """The hubs of the residents ``condition`` (a ``visible_to`` clause on ``r``) lets through."""
    cursor = await conn.execute(
        "SELECT h.id, r.name, h.state, h.last_seen_at, h.revoked_at, h.last_status FROM hubs h"
        f" JOIN residents r ON r.id = h.resident_id WHERE {condition} ORDER BY h.id",
        params,
    )
    return [HubRow(*row) for row in await cursor.fetchall()]


async def hub_states(
    conn: DbConn, *, seen_before: datetime | None = None, hubs: Collection[str] = ()
) -> list[tuple[HubHome, str | None, datetime | None]]:
    """Provisioned hubs' homes, with each hub's last state and when it was last seen.

    Every hub, or with ``seen_before`` only those last seen at or before it and
    those named in ``hubs``: the few that can have changed, picked out by the
    database rather than 100,000 rows listed into Python every round.
    """
    query = (
        "SELECT h.id, r.id, r.name, r.timezone, h.state, h.last_seen_at"
        " FROM hubs h JOIN residents r ON r.id = h.resident_id"
    )
    if seen_before is None:
        cursor = await conn.execute(query)
    else:
        cursor = await conn.execute(
            query + " WHERE h.last_seen_at <= %s OR h.id = ANY(%s)", (seen_before, list(hubs))
        )
    return [
        (HubHome(hub, resident_id, name, timezone), state, seen)
        for hub, resident_id, name, timezone, state, seen in await cursor.fetchall()
    ]


async def upsert_user(
    conn: DbConn,
    username: str,
    password_hash: str,
    role: Role,
    *,
    display_name: str | None,
    service: str | None,
    resident_id: int | None,
) -> None:
    """A user as given, whether or not one of that name exists (the demo's own accounts)."""
    await conn.execute(
        "INSERT INTO users (username, password_hash, role, display_name, service, resident_id)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (username) DO UPDATE SET"
        " password_hash = EXCLUDED.password_hash, role = EXCLUDED.role,"
        " display_name = EXCLUDED.display_name, service = EXCLUDED.service,"
        " resident_id = EXCLUDED.resident_id",
        (username, password_hash, role, display_name, service, resident_id),
    )


async def remove_homes(conn: DbConn, hubs: Sequence[str], residents: Sequence[str]) -> None:
    """These hubs with everything they sent, and these residents (the demo replacing its own)."""
    for table in ("readings", "reading_batches", "alarms"):
        await conn.execute(f"DELETE FROM {table} WHERE hub_id = ANY(%s)", (list(hubs),))
    await conn.execute("DELETE FROM hubs WHERE id = ANY(%s)", (list(hubs),))
    await conn.execute("DELETE FROM residents WHERE name = ANY(%s)", (list(residents),))

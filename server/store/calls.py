"""SQL for voice calls to carers: one row per call, found again by its callback token."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.domain.access import Role
from server.domain.alerts import AlertStatus
from server.store.pool import DbConn

__all__ = [
    "CallRow",
    "accept_call",
    "add_call",
    "call_by_token",
    "call_state",
    "record_provider_id",
    "record_status",
    "token_hash",
]

# What the provider reports once a call is over.
_ENDED = ("completed", "busy", "no-answer", "failed", "canceled")


def token_hash(token: str) -> bytes:
    """Only the hash of a call's token is stored: a copy of the table places no callbacks."""
    return hashlib.sha256(token.encode()).digest()


@dataclass(slots=True, frozen=True)
class CallRow:
    """A call as the callbacks and the caller see it."""

    id: int
    alert_id: uuid.UUID
    user_id: int
    username: str
    role: Role
    resident: str
    status: str
    answered_at: datetime | None
    accepted_at: datetime | None
    ended_at: datetime | None
    # The provider's id for the call (its CallSid), once it has said it.
    provider_id: str | None
    # The alert as it is now: whether someone else took it while the phone rang.
    alert_status: AlertStatus
    acknowledged_by: str | None
    resolved_by: str | None


async def add_call(
    conn: DbConn, token: str, alert_id: uuid.UUID, *, user_id: int, number: str
) -> int:
    """A call about to be requested; its id."""
    cursor = await conn.execute(
        "INSERT INTO voice_calls (token_hash, alert_id, user_id, number)"
        " VALUES (%s, %s, %s, %s) RETURNING id",
        (token_hash(token), alert_id, user_id, number),
    )
    row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


_CALL = (
    "SELECT c.id, c.alert_id, c.user_id, u.username, u.role, r.name, c.status,"
    " c.answered_at, c.accepted_at, c.ended_at, c.provider_id,"
    " a.status, a.acknowledged_by, a.resolved_by FROM voice_calls c"
    " JOIN users u ON u.id = c.user_id JOIN alerts a ON a.id = c.alert_id"
    " JOIN residents r ON r.id = a.resident_id"
)


def _call(row: tuple[Any, ...]) -> CallRow:
    (call_id, alert_id, user_id, username, role, resident, status, answered, accepted, ended,
     provider_id, alert_status, holder, closer) = row  # fmt: skip
    return CallRow(
        id=call_id,
        alert_id=alert_id,
        user_id=user_id,
        username=username,
        role=Role(role),
        resident=resident,
        status=status,
        answered_at=answered,
        accepted_at=accepted,
        ended_at=ended,
        provider_id=provider_id,
        alert_status=AlertStatus(alert_status),
        acknowledged_by=holder,
        resolved_by=closer,
    )


async def call_by_token(conn: DbConn, token: str) -> CallRow | None:
    """The call a callback's token belongs to."""
    cursor = await conn.execute(_CALL + " WHERE c.token_hash = %s", (token_hash(token),))
    row = await cursor.fetchone()
    return None if row is None else _call(row)


async def call_state(conn: DbConn, call_id: int) -> CallRow | None:
    """The call as it is now."""
    cursor = await conn.execute(_CALL + " WHERE c.id = %s", (call_id,))
    row = await cursor.fetchone()
    return None if row is None else _call(row)


async def record_status(
    conn: DbConn, call_id: int, status: str, *, provider_id: str | None = None
) -> None:
    """The provider's latest word on the call; an ended call stays ended."""
    await conn.execute(
        "UPDATE voice_calls SET status = %s, provider_id = coalesce(%s, provider_id),"
        " answered_at = CASE WHEN %s = 'in-progress' THEN coalesce(answered_at, now())"
        "  ELSE answered_at END,"
        " ended_at = CASE WHEN %s = ANY(%s) THEN coalesce(ended_at, now()) ELSE ended_at END"
        " WHERE id = %s AND ended_at IS NULL",
        (status, provider_id, status, status, list(_ENDED), call_id),
    )


async def record_provider_id(conn: DbConn, call_id: int, provider_id: str) -> None:
    """The provider's id for the call, from its answer to the request."""
    await conn.execute(
        "UPDATE voice_calls SET provider_id = coalesce(provider_id, %s) WHERE id = %s",
        (provider_id, call_id),
    )


async def accept_call(conn: DbConn, call_id: int) -> bool:
    """The carer pressed 1; False if this call was accepted before (a repeated callback)."""
    cursor = await conn.execute(
        "UPDATE voice_calls SET accepted_at = now(), answered_at = coalesce(answered_at, now())"
        " WHERE id = %s AND accepted_at IS NULL",
        (call_id,),
    )
    return cursor.rowcount == 1

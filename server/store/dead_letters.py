"""SQL for dead letters: messages refused, with the reason and an excerpt of what came."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from server.store.pool import DbConn

__all__ = [
    "EXCERPT_BYTES",
    "DeadLetter",
    "StoredDeadLetter",
    "list_dead_letters",
    "store_dead_letter",
]

# Enough to see what went wrong, without keeping a flood of junk.
EXCERPT_BYTES = 2048


@dataclass(slots=True, frozen=True)
class DeadLetter:
    """A refused message."""

    received_at: datetime
    topic: str
    hub: str | None
    reason: str
    payload: bytes


async def store_dead_letter(conn: DbConn, letter: DeadLetter) -> None:
    """Keep the reason, the size and the start of the payload."""
    excerpt = letter.payload[:EXCERPT_BYTES].decode("utf-8", errors="replace")
    await conn.execute(
        "INSERT INTO dead_letters (received_at, topic, hub_id, reason, payload_size, payload)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (
            letter.received_at,
            _storable(letter.topic),
            letter.hub,
            _storable(letter.reason),
            len(letter.payload),
            _storable(excerpt),
        ),
    )


def _storable(text: str) -> str:
    """Text PostgreSQL takes: no NUL, and no lone surrogate (an exception's text may hold one)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "")


@dataclass(slots=True, frozen=True)
class StoredDeadLetter:
    """A dead letter as kept: the reason, who sent it, and the start of what came."""

    id: int
    received_at: datetime
    topic: str
    hub_id: str | None
    reason: str
    payload_size: int
    payload: str


async def list_dead_letters(
    conn: DbConn,
    *,
    hub: str | None = None,
    reason: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[StoredDeadLetter]:
    """The newest dead letters first; ``before_id`` pages back, ``reason`` matches its start."""
    cursor = await conn.execute(
        "SELECT id, received_at, topic, hub_id, reason, payload_size, payload FROM dead_letters"
        " WHERE (%(hub)s::text IS NULL OR hub_id = %(hub)s)"
        " AND (%(reason)s::text IS NULL OR reason LIKE %(reason)s || '%%')"
        " AND (%(before)s::bigint IS NULL OR id < %(before)s)"
        " ORDER BY id DESC LIMIT %(limit)s",
        {"hub": hub, "reason": reason, "before": before_id, "limit": limit},
    )
    return [StoredDeadLetter(*row) for row in await cursor.fetchall()]

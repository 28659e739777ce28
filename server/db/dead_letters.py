"""SQL for dead letters: messages refused, with the reason and an excerpt of what came."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from server.db.pool import DbConn

__all__ = ["EXCERPT_BYTES", "DeadLetter", "list_dead_letters", "store_dead_letter"]

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
    excerpt = letter.payload[:EXCERPT_BYTES].decode("utf-8", errors="replace").replace("\x00", "")
    await conn.execute(
        "INSERT INTO dead_letters (received_at, topic, hub_id, reason, payload_size, payload)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (
            letter.received_at,
            letter.topic.replace("\x00", ""),
            letter.hub,
            letter.reason.replace("\x00", ""),
            len(letter.payload),
            excerpt,
        ),
    )


async def list_dead_letters(conn: DbConn, *, limit: int = 100) -> list[dict[str, object]]:
    """The newest dead letters first."""
    cursor = await conn.execute(
        "SELECT id, received_at, topic, hub_id, reason, payload_size, payload"
        " FROM dead_letters ORDER BY id DESC LIMIT %s",
        (limit,),
    )
    names = [d.name for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]

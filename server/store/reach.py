"""SQL for how a person is reached: their channels, quiet hours and time away."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from server.domain.contacts import Channel, QuietHours
from server.store.pool import DbConn

__all__ = ["SELF_SERVICE_KINDS", "Reach", "reach_of", "set_reach"]

# The channels a person sets for themselves. Webhooks are an admin's (a person
# must not make the server post into its own network) and push subscriptions a
# browser's: saving leaves both as they are, tried first.
SELF_SERVICE_KINDS = ("email", "sms", "voice")


@dataclass(slots=True, frozen=True)
class Reach:
    """A person's channels in the order they are tried, quiet hours and time away."""

    channels: tuple[Channel, ...]
    quiet: QuietHours | None
    away_until: datetime | None


async def reach_of(conn: DbConn, user_id: int) -> Reach:
    """How the person is reached now."""
    cursor = await conn.execute(
        "SELECT kind, address FROM user_channels WHERE user_id = %s ORDER BY position",
        (user_id,),
    )
    channels = tuple(Channel(kind, address) for kind, address in await cursor.fetchall())
    cursor = await conn.execute(
        "SELECT quiet_from, quiet_until, away_until FROM users WHERE id = %s", (user_id,)
    )
    row = await cursor.fetchone()
    assert row is not None
    start, end, away_until = row
    quiet = None if start is None or end is None else QuietHours(start, end)
    return Reach(channels, quiet, away_until)


async def set_reach(
    conn: DbConn,
    user_id: int,
    *,
    channels: Sequence[Channel],
    quiet: QuietHours | None,
    away_until: datetime | None,
) -> None:
    """Replace the person's e-mail, SMS and voice channels (kept after their push
    subscriptions and webhooks), quiet hours and time away."""
    # Locked first: two saves at once must not interleave their channel rows.
    await conn.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (user_id,))
    await conn.execute(
        "DELETE FROM user_channels WHERE user_id = %s AND kind = ANY(%s)",
        (user_id, list(SELF_SERVICE_KINDS)),
    )
    cursor = await conn.execute(
        "SELECT coalesce(max(position) + 1, 0) FROM user_channels WHERE user_id = %s", (user_id,)
    )
    row = await cursor.fetchone()
    assert row is not None
    for offset, channel in enumerate(channels):
        await conn.execute(
            "INSERT INTO user_channels (user_id, position, kind, address) VALUES (%s, %s, %s, %s)",
            (user_id, row[0] + offset, channel.kind, channel.address),
        )
    await conn.execute(
        "UPDATE users SET quiet_from = %s, quiet_until = %s, away_until = %s WHERE id = %s",
        (
            quiet.start if quiet else None,
            quiet.end if quiet else None,
            away_until,
            user_id,
        ),
    )

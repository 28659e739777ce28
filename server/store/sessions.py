"""SQL for signed-in browser sessions: the cookie's id is stored only as a hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from server.store.people import User, user_of_row
from server.store.pool import DbConn
from server.store.tokens import token_digest

__all__ = ["WebSession", "end_session", "open_session", "session_user"]


@dataclass(slots=True, frozen=True)
class WebSession:
    """A live session: whose it is and the CSRF token its pages must send back."""

    user: User
    csrf_token: str


async def open_session(
    conn: DbConn, user_id: int, session_id: str, csrf_token: str, *, lifetime: timedelta
) -> None:
    """Store a new session (and forget the long-expired ones while here)."""
    await conn.execute("DELETE FROM web_sessions WHERE expires_at < now() - interval '1 day'")
    await conn.execute(
        "INSERT INTO web_sessions (id_hash, user_id, csrf_token, expires_at)"
        " VALUES (%s, %s, %s, now() + %s)",
        (token_digest(session_id), user_id, csrf_token, lifetime),
    )


async def session_user(conn: DbConn, session_id: str) -> WebSession | None:
    """The live session with this id, if any."""
    cursor = await conn.execute(
        "SELECT u.id, u.username, u.role, u.password_hash, u.service, u.resident_id, s.csrf_token"
        " FROM web_sessions s JOIN users u ON u.id = s.user_id"
        " WHERE s.id_hash = %s AND s.expires_at > now() AND u.disabled_at IS NULL",
        (token_digest(session_id),),
    )
    row = await cursor.fetchone()
    if row is None:
        return None
    return WebSession(user_of_row(row[:6]), row[6])


async def end_session(conn: DbConn, session_id: str) -> None:
    """Sign out: the cookie stops working at once."""
    await conn.execute("DELETE FROM web_sessions WHERE id_hash = %s", (token_digest(session_id),))

"""SQL for changing passwords: one-time reset links, and ending a person's other sign-ins."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from server.store.pool import DbConn

__all__ = [
    "disable_user",
    "enable_user",
    "end_sign_ins",
    "issue_reset",
    "set_password",
    "use_reset",
]


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def set_password(conn: DbConn, user_id: int, password_hash: str) -> None:
    """Store a new password's hash."""
    await conn.execute(
        "UPDATE users SET password_hash = %s WHERE id = %s", (password_hash, user_id)
    )


async def end_sign_ins(conn: DbConn, user_id: int, *, keep_session: str | None = None) -> None:
    """Sign the person out everywhere (but the browser session ``keep_session``, if given)."""
    await conn.execute("DELETE FROM api_tokens WHERE user_id = %s", (user_id,))
    await conn.execute(
        "DELETE FROM web_sessions WHERE user_id = %s AND id_hash IS DISTINCT FROM %s",
        (user_id, None if keep_session is None else _hash(keep_session)),
    )


async def issue_reset(
    conn: DbConn, user_id: int, token: str, *, by: str, lifetime: timedelta
) -> datetime:
    """Store a reset link's hash (earlier unused links of the person stop working); its expiry."""
    await conn.execute(
        "DELETE FROM password_resets WHERE user_id = %s AND used_at IS NULL", (user_id,)
    )
    cursor = await conn.execute(
        "INSERT INTO password_resets (token_hash, user_id, issued_by, expires_at)"
        " VALUES (%s, %s, %s, now() + %s) RETURNING expires_at",
        (_hash(token), user_id, by, lifetime),
    )
    row = await cursor.fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


async def use_reset(conn: DbConn, token: str) -> int | None:
    """Spend a live, unused reset link: the user it is for, or None (used, expired, unknown)."""
    cursor = await conn.execute(
        "UPDATE password_resets SET used_at = now() WHERE token_hash = %s AND used_at IS NULL"
        " AND expires_at > now() RETURNING user_id",
        (_hash(token),),
    )
    row = await cursor.fetchone()
    return None if row is None else int(row[0])


async def disable_user(conn: DbConn, user_id: int) -> None:
    """Turn the account off: no sign-in, and every token and session ends now."""
    await conn.execute(
        "UPDATE users SET disabled_at = coalesce(disabled_at, now()), on_duty = false"
        " WHERE id = %s",
        (user_id,),
    )
    await end_sign_ins(conn, user_id)


async def enable_user(conn: DbConn, user_id: int) -> None:
    """Turn the account back on (its old password works again)."""
    await conn.execute("UPDATE users SET disabled_at = NULL WHERE id = %s", (user_id,))

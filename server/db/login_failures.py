"""SQL for wrong passwords: recorded by key, counted within a window, forgotten after it."""

from __future__ import annotations

from collections.abc import Sequence

from server.db.pool import DbConn

__all__ = ["ages", "forget", "record"]


async def ages(conn: DbConn, keys: Sequence[str], *, window_s: float) -> dict[str, list[float]]:
    """Seconds since each key's failures within the window, most recent first (the DB's clock)."""
    rows = await conn.execute(
        """
        SELECT key, extract(epoch FROM now() - at)::float8 AS age
        FROM login_failures
        WHERE key = ANY(%s) AND at > now() - make_interval(secs => %s)
        ORDER BY key, at DESC
        """,
        (list(keys), window_s),
    )
    found: dict[str, list[float]] = {key: [] for key in keys}
    for key, age in await rows.fetchall():
        found[key].append(age)
    return found


async def record(conn: DbConn, keys: Sequence[str], *, window_s: float) -> None:
    """A wrong password under each key; failures past the window are deleted on the way."""
    await conn.execute(
        "DELETE FROM login_failures WHERE at <= now() - make_interval(secs => %s)", (window_s,)
    )
    await conn.execute("INSERT INTO login_failures (key) SELECT unnest(%s::text[])", (list(keys),))


async def forget(conn: DbConn, key: str) -> None:
    """A clean slate for ``key``."""
    await conn.execute("DELETE FROM login_failures WHERE key = %s", (key,))

"""SQL for wrong passwords: recorded by key, counted within a window, forgotten after it."""

from __future__ import annotations

from collections.abc import Sequence

from server.store.pool import DbConn

__all__ = ["ages", "forget", "forget_one", "lock", "record"]

# The first key of pg_advisory_xact_lock(int, int): sign-in locks stay out of
# the way of any other advisory lock on the database.
_LOCK_CLASS = 0x6C6F67  # "log"


async def lock(conn: DbConn, keys: Sequence[str]) -> None:
    """Hold these keys until the transaction ends, so that counting and recording is one step.

    Taken in sorted order, so two sign-ins that share a key cannot deadlock.
    """
    for key in sorted(set(keys)):
        await conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_CLASS, key))


async def ages(conn: DbConn, keys: Sequence[str], *, window_s: float) -> dict[str, list[float]]:
    """Seconds since each key's failures within the window, most recent first (the DB's clock)."""
    rows = await conn.execute(
        """
        SELECT key, extract(epoch FROM clock_timestamp() - at)::float8 AS age
        FROM login_failures
        WHERE key = ANY(%s) AND at > clock_timestamp() - make_interval(secs => %s)
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
    # clock_timestamp, not now(): a sign-in that waited for the lock is counted from
    # when it was let through.
    await conn.execute(
        "INSERT INTO login_failures (key, at) SELECT unnest(%s::text[]), clock_timestamp()",
        (list(keys),),
    )


async def forget(conn: DbConn, key: str) -> None:
    """A clean slate for ``key``."""
    await conn.execute("DELETE FROM login_failures WHERE key = %s", (key,))


async def forget_one(conn: DbConn, key: str) -> None:
    """Take back the newest failure of ``key`` (an attempt counted up front that was right)."""
    await conn.execute(
        "DELETE FROM login_failures WHERE ctid = (SELECT ctid FROM login_failures"
        " WHERE key = %s ORDER BY at DESC LIMIT 1)",
        (key,),
    )

"""SQL for the cluster's ownership: PostgreSQL advisory locks held by a process's own session.

A lock is held as long as the session that took it: a process that dies
(even by SIGKILL) loses its connection and with it its partitions, and
another process can take them at once. Locks are taken in the two-key form
(namespace, number) so that carewatch's do not collide with anyone else's.
"""

from __future__ import annotations

from server.store.pool import DbConn

__all__ = [
    "count_members",
    "release_partition",
    "take_partition",
    "try_join",
    "try_lead",
]

# The first key of each kind of lock ("cw" and a number): partitions, members, the leader.
_PARTITION_LOCKS = 0x63770001
_MEMBER_LOCKS = 0x63770002
_LEADER_LOCK = 0x63770003


async def take_partition(conn: DbConn, partition: int) -> bool:
    """Take ``partition`` if no other session holds it; True when this session holds it now."""
    cursor = await conn.execute(
        "SELECT pg_try_advisory_lock(%s, %s)", (_PARTITION_LOCKS, partition)
    )
    row = await cursor.fetchone()
    return bool(row and row[0])


async def release_partition(conn: DbConn, partition: int) -> None:
    """Let go of ``partition`` (held by this session)."""
    await conn.execute("SELECT pg_advisory_unlock(%s, %s)", (_PARTITION_LOCKS, partition))


async def try_join(conn: DbConn, member: int) -> bool:
    """Count this session as a live member (``member``: a number unique to the process)."""
    cursor = await conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (_MEMBER_LOCKS, member))
    row = await cursor.fetchone()
    return bool(row and row[0])


async def try_lead(conn: DbConn) -> bool:
    """Become the one process that runs the cluster's singleton jobs, if none is."""
    cursor = await conn.execute("SELECT pg_try_advisory_lock(%s, 0)", (_LEADER_LOCK,))
    row = await cursor.fetchone()
    return bool(row and row[0])


async def count_members(conn: DbConn) -> tuple[int, frozenset[int]]:
    """Live members of this database's cluster, and the partitions some session holds."""
    cursor = await conn.execute(
        "SELECT classid::bigint, objid::bigint FROM pg_locks"
        " WHERE locktype = 'advisory' AND granted AND objsubid = 2"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND classid::bigint IN (%s, %s)",
        (_MEMBER_LOCKS, _PARTITION_LOCKS),
    )
    members = 0
    held: set[int] = set()
    for kind, number in await cursor.fetchall():
        if kind == _MEMBER_LOCKS:
            members += 1
        else:
            held.add(int(number))
    return members, frozenset(held)

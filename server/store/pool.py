"""Opening the connection pool and bringing the schema up to date."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from server.store.migrate import apply_migrations

__all__ = ["DbConn", "Pool", "migrate", "open_pool"]

log = logging.getLogger(__name__)

DbConn = psycopg.AsyncConnection[tuple[Any, ...]]
Pool = AsyncConnectionPool[DbConn]


def migrate(database_url: str) -> None:
    """Apply pending migrations, saying which."""
    with psycopg.connect(database_url) as conn:
        applied = apply_migrations(conn)
    if applied:
        log.info("database migrated: %s", ", ".join(applied))
    else:
        log.info("database schema is up to date")


async def open_pool(
    database_url: str,
    *,
    name: str = "carewatch",
    min_size: int = 2,
    max_size: int = 10,
    wait_s: float = 30.0,
) -> Pool:
    """An open pool; the caller closes it. ``wait_s``: how long a caller waits for a connection."""
    pool: Pool = AsyncConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        timeout=wait_s,
        open=False,
        name=name,
    )
    await pool.open(wait=True, timeout=30.0)
    return pool

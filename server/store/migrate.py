"""Apply the numbered SQL migrations in ``migrations/``, each once, in order."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg

__all__ = ["Migration", "apply_migrations", "available_migrations"]

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
# Any constant will do: it only has to be the same in every server process.
_LOCK_KEY = 0x0CA2E3A7C4


@dataclass(slots=True, frozen=True)
class Migration:
    """One numbered SQL file."""

    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """The migrations shipped with the package, oldest first."""
    found = []
    for entry in resources.files("server.store").joinpath("migrations").iterdir():
        if match := _NAME.match(entry.name):
            found.append(Migration(int(match[1]), entry.name, entry.read_text("utf-8")))
    return sorted(found, key=lambda m: m.version)


def apply_migrations(conn: psycopg.Connection[tuple[Any, ...]]) -> list[str]:
    """Bring the schema up to date; safe to run from several processes at once."""
    applied: list[str] = []
    with conn.transaction():
        # Serialise concurrent starts; the lock ends with the transaction.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for migration in available_migrations():
            if migration.version in done:
                continue
            log.info("applying migration %s", migration.name)
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied.append(migration.name)
    return applied

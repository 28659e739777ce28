"""Provisioning many homes at once: checked whole, credentials made off the event loop, written in chunks.

The order is what makes a re-run safe. Everything is checked (the file, then
the database) before anything is written. The passwords are generated and
handed to ``keep_credentials`` (the installers' CSV) before any hub is
committed, so a committed hub always has its password written down. The hubs'
broker file is written once, then the database one transaction per chunk. A
run that stops part way leaves whole chunks: run it again and the committed
hubs are skipped (same resident) while the rest are created with new passwords.

Hub passwords are stored as Mosquitto's own PBKDF2-SHA512 hashes (``$7$``, as
``mosquitto_passwd`` writes them), not argon2: 101 iterations take tens of
microseconds where argon2 takes 124 ms, and hashlib releases the GIL while it
hashes, so a few threads make 100,000 of them in seconds without blocking the
event loop. A hub's password is random (18 bytes), not chosen by a person, so
the slow hash that protects people's passwords adds nothing.
"""

from __future__ import annotations

import asyncio
import csv
import os
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from server.broker_accounts import BrokerAccounts, password_line
from server.hub_import import (
    HomeEntry,
    ImportPlan,
    ImportRefused,
    Problem,
    check_homes,
    plan_import,
)
from server.passwords import generate_password
from server.provisioning import ProvisionedHub
from server.store import hub_import as sql
from server.store.pool import DbConn

__all__ = [
    "CREDENTIAL_COLUMNS",
    "ImportReport",
    "ImportedHub",
    "Progress",
    "import_homes",
    "open_credentials_file",
    "write_credentials",
]

# (stage, done, total): "hashing" then "writing", for a progress display.
Progress = Callable[[str, int, int], None]
CREDENTIAL_COLUMNS = (
    "where",
    "hub",
    "resident",
    "username",
    "password",
    "CAREWATCH_AGENT_HUB_ID",
    "CAREWATCH_AGENT_MQTT_URL",
)
_HASH_CHUNK = 2_000


@dataclass(slots=True, frozen=True)
class ImportedHub:
    """A hub created by the import, where it was in the file, and its credentials."""

    where: str
    hub: ProvisionedHub


@dataclass(slots=True, frozen=True)
class ImportReport:
    """What the import did."""

    created: list[ImportedHub]
    skipped: list[HomeEntry]
    broker_account_written: bool


def _quiet(stage: str, done: int, total: int) -> None:
    """No progress display."""


def _lines(accounts: Sequence[tuple[str, str]]) -> list[str]:
    return [password_line(hub, password) for hub, password in accounts]


async def _password_lines(
    accounts: Sequence[tuple[str, str]], *, threads: int, progress: Progress
) -> list[str]:
    """Each account's ``hub:$7$…`` line, made on ``threads`` threads (hashlib frees the GIL)."""
    loop = asyncio.get_running_loop()
    chunks = [accounts[i : i + _HASH_CHUNK] for i in range(0, len(accounts), _HASH_CHUNK)]
    done = 0
    lines: list[str] = []
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="pbkdf2") as pool:
        for made in [loop.run_in_executor(pool, _lines, chunk) for chunk in chunks]:
            lines += await made
            done += _HASH_CHUNK
            progress("hashing", min(done, len(accounts)), len(accounts))
    return lines


async def plan(
    conn: DbConn, homes: Sequence[HomeEntry], *, server_names: Collection[str] = ()
) -> ImportPlan:
    """Check the homes and compare them with the database; ImportRefused lists every problem."""
    problems = check_homes(homes, server_names=server_names)
    existing = await sql.existing_hubs(conn, [home.hub for home in homes])
    zones = await sql.resident_timezones(conn, {home.resident for home in homes})
    try:
        planned = plan_import(homes, existing=existing, resident_timezones=zones)
    except ImportRefused as conflicts:
        problems += conflicts.problems
    if problems:
        # Both kinds together, in the order of the file: one round of corrections.
        order = {home.where: n for n, home in enumerate(homes)}
        raise ImportRefused(sorted(problems, key=lambda p: order.get(p.where, -1)))
    return planned


async def import_homes(
    conn: DbConn,
    homes: Sequence[HomeEntry],
    *,
    credentials_dir: Path | None,
    broker_url: str | None,
    server_names: Collection[str] = (),
    keep_credentials: Callable[[Sequence[ImportedHub]], None] = lambda created: None,
    chunk_size: int = 1_000,
    threads: int | None = None,
    progress: Progress = _quiet,
) -> ImportReport:
    """Provision ``homes``; ImportRefused (nothing written) if any is wrong or conflicts."""
    planned = await plan(conn, homes, server_names=server_names)
    passwords = [generate_password() for _ in planned.new]
    lines = await _password_lines(
        [(home.hub, password) for home, password in zip(planned.new, passwords, strict=True)],
        threads=threads or os.cpu_count() or 1,
        progress=progress,
    )
    created = [
        ImportedHub(
            home.where,
            ProvisionedHub(
                hub=home.hub,
                resident=home.resident,
                password=password,
                broker_url=broker_url or "mqtts://BROKER-ADDRESS:8883",
                broker_account_written=credentials_dir is not None,
            ),
        )
        for home, password in zip(planned.new, passwords, strict=True)
    ]
    keep_credentials(created)
    if credentials_dir is not None and lines:
        # One read and one write of the file, off the event loop (the API's import runs on it).
        await asyncio.to_thread(
            BrokerAccounts(credentials_dir).set_lines,
            {home.hub: line for home, line in zip(planned.new, lines, strict=True)},
        )
    rows = [
        sql.ImportedHome(
            hub=home.hub,
            resident=home.resident,
            timezone=home.timezone,
            password_hash=line.split(":", 1)[1],
            sensors=[(s.sensor, s.kind, s.room) for s in home.sensors],
        )
        for home, line in zip(planned.new, lines, strict=True)
    ]
    where = {home.hub: home.where for home in planned.new}
    for start in range(0, len(rows), chunk_size):
        chunk = rows[start : start + chunk_size]
        async with conn.transaction():
            written = set(await sql.insert_homes(conn, chunk))
            if taken := [row.hub for row in chunk if row.hub not in written]:
                # Provisioned by someone else since the check: roll this chunk back, keep
                # the earlier ones (re-running skips them).
                raise ImportRefused(
                    [
                        Problem(
                            where[hub],
                            f"hub {hub} was provisioned by someone else during the import; "
                            f"hubs from {where[chunk[0].hub]} on were not imported (the "
                            "credentials file's rows from there on are void): run the import "
                            "again with a new output file",
                        )
                        for hub in taken
                    ]
                )
        progress("writing", start + len(chunk), len(rows))
    return ImportReport(created, planned.skipped, credentials_dir is not None and bool(lines))


def open_credentials_file(path: Path) -> TextIO:
    """A new file readable by its owner only (0600); FileExistsError rather than overwrite one."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return open(descriptor, "w", newline="", encoding="utf-8")


def write_credentials(out: TextIO, created: Sequence[ImportedHub]) -> None:
    """The installers' CSV: each created hub's credentials and agent settings, then flush to disk."""
    writer = csv.writer(out)
    writer.writerow(CREDENTIAL_COLUMNS)
    for imported in created:
        hub = imported.hub
        settings = hub.agent_settings()
        writer.writerow(
            [
                imported.where,
                hub.hub,
                hub.resident,
                hub.hub,
                hub.password,
                settings["CAREWATCH_AGENT_HUB_ID"],
                settings["CAREWATCH_AGENT_MQTT_URL"],
            ]
        )
    out.flush()
    os.fsync(out.fileno())

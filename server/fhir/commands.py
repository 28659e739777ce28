"""``carewatch health-system``: register, list and revoke the health systems that read records."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from server.fhir.credentials import new_credentials, secret_digest

if TYPE_CHECKING:
    from server.store.pool import DbConn

__all__ = ["add_health_system_commands", "run_health_system"]

Database = Callable[[], AbstractAsyncContextManager["DbConn"]]


def add_health_system_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add ``health-system add``, ``list`` and ``revoke`` to the ``carewatch`` command."""
    system = commands.add_parser(
        "health-system", help="health systems that read residents' records over FHIR"
    ).add_subparsers(dest="health_command", required=True, metavar="ACTION")
    add = system.add_parser(
        "add",
        help="register a health system and print its client id and secret (shown once)",
        description="Let NAME read, over FHIR, the records of SERVICE's residents who agreed to "
        "share with health. See docs/interoperability.md.",
    )
    add.add_argument("name", metavar="NAME", help='e.g. "Riverside GP practice"')
    add.add_argument("--service", required=True, help="the service whose residents it may read")
    system.add_parser("list", help="the registered health systems")
    revoke = system.add_parser("revoke", help="stop a health system at once (its tokens too)")
    revoke.add_argument("name", metavar="NAME")


async def run_health_system(args: argparse.Namespace, database: Database) -> int:
    """Carry out ``carewatch health-system ...``."""
    from server.store import health as health_sql

    async with database() as conn:
        match args.health_command:
            case "list":
                for found in await health_sql.systems(conn):
                    state = f"revoked {found.revoked_at:%Y-%m-%d}" if found.revoked_at else "active"
                    print(f"{found.name}\t{found.service}\t{found.client_id}\t{state}")
                return 0
            case "revoke":
                if not await health_sql.revoke_system(conn, args.name):
                    print(f"carewatch: no active health system {args.name!r}", file=sys.stderr)
                    return 1
                print(f"{args.name} can no longer read records; its tokens stopped working.")
                return 0
        client_id, secret = new_credentials()
        if not await health_sql.add_system(
            conn,
            args.name,
            service=args.service,
            client_id=client_id,
            secret_hash=secret_digest(secret),
        ):
            print(f"carewatch: {args.name!r} is already registered", file=sys.stderr)
            return 1
    print(f"{args.name} may read {args.service}'s residents who share with health.")
    print(f"client_id:     {client_id}")
    print(f"client_secret: {secret}")
    print("Give both to the system's administrator now: the secret is not shown again.")
    return 0

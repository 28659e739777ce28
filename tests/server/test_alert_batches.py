"""Alerts raised and escalated many at a time, on the real database and a real webhook receiver.

A storm of technical findings (a council's fleet imported with incomplete sensor
maps) is raised a few hundred alerts a statement and its rungs claimed a batch a
transaction (``FOR UPDATE SKIP LOCKED LIMIT n``). Batching must not change what
happens to each alert: raised once, each rung sent once, across two server
processes; and an emergency raised behind the storm is claimed before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from edge.protocol import Alarm, AlarmKind
from server.alerts.escalation import EscalationPolicy, EscalationScheduler
from server.alerts.notify import AppriseNotifier
from server.alerts.service import AlertService
from server.domain.alerts import AlertKind
from server.domain.findings import Condition
from server.domain.homes import HubHome
from server.store.pool import Pool, migrate, open_pool
from tests.server.helpers import wait_for
from tests.server.receivers import Hooks, webhook_server

HOMES = 300
LINK_KEY = b"k" * 40


@pytest.fixture
def webhooks() -> Iterator[tuple[str, Hooks]]:
    with webhook_server() as found:
        yield found


@pytest.fixture
async def pools(database_url: str) -> AsyncIterator[tuple[Pool, Pool]]:
    """Two pools, as two server processes on the one database would have."""
    migrate(database_url)
    first = await open_pool(database_url, name="first", min_size=1, max_size=4)
    second = await open_pool(database_url, name="second", min_size=1, max_size=4)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


def _homes(database_url: str, count: int) -> list[HubHome]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "INSERT INTO residents (name) SELECT 'Resident ' || n FROM generate_series(1, %s) n"
            " RETURNING id, name",
            (count,),
        ).fetchall()
        conn.execute(
            "INSERT INTO hubs (id, resident_id) SELECT 'hub-' || id, id FROM residents"
            " WHERE id = ANY(%s)",
            ([row[0] for row in rows],),
        )
    return [HubHome(f"hub-{rid}", rid, name, "Europe/London") for rid, name in rows]


def _person(database_url: str, username: str, role: str, channels: list[str]) -> None:
    """A user with webhook channels (none: nobody can be sent anything)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "INSERT INTO users (username, password_hash, role, on_duty, service)"
            " VALUES (%s, 'x', %s, %s, %s) RETURNING id",
            (username, role, role == "responder", "default" if role == "responder" else None),
        ).fetchone()
        assert row is not None
        for position, address in enumerate(channels):
            conn.execute(
                "INSERT INTO user_channels VALUES (%s, %s, 'webhook', %s)",
                (row[0], position, address),
            )


def _coverage(home: HubHome) -> Condition:
    return Condition(
        hub=home.hub,
        kind=AlertKind.SENSOR_COVERAGE,
        event_at=datetime.now(UTC),
        reason="No front-door sensor. Fit a contact on the front door.",
        details={"gaps": ["no front door"]},
    )


def _scheduler(pool: Pool, *, max_rounds: int = 16) -> EscalationScheduler:
    return EscalationScheduler(
        pool,
        AppriseNotifier(email_url=None),
        link_key=LINK_KEY,
        public_url="http://carewatch.example.org",
        policy=EscalationPolicy(tick_s=0.05, max_rounds=max_rounds),
    )


@contextlib.asynccontextmanager
async def _running(*schedulers: EscalationScheduler) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(s.run()) for s in schedulers]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_two_servers_raising_overlapping_storms_raise_each_alert_once(
    database_url: str, pools: tuple[Pool, Pool]
) -> None:
    homes = _homes(database_url, HOMES)
    first, second = (AlertService(pool, link_key=LINK_KEY) for pool in pools)
    # A hub's findings reach two processes only in a hand-over (both owned it for a
    # moment): the middle hundred homes are raised by both, at the same time.
    await asyncio.gather(
        first.apply_findings([(h, _coverage(h)) for h in homes[:200]]),
        second.apply_findings([(h, _coverage(h)) for h in homes[100:]]),
    )
    with psycopg.connect(database_url) as conn:
        per_home = conn.execute(
            "SELECT resident_id, count(*) FROM alerts GROUP BY resident_id"
        ).fetchall()
        actions: dict[str, int] = dict(
            conn.execute("SELECT action, count(*) FROM alert_events GROUP BY action").fetchall()
        )
        due = conn.execute(
            "SELECT count(*) FROM alerts WHERE escalation_due_at IS NOT NULL"
        ).fetchone()
    assert len(per_home) == HOMES
    assert all(count == 1 for _, count in per_home)
    # Each alert's raising on its trail once; the second raising of the middle hundred
    # noted on the alert already active.
    assert actions == {"raised": HOMES, "repeated": 100}
    assert due == (HOMES,), "every alert starts its ladder"


async def test_two_schedulers_send_each_rung_of_a_storm_once_and_the_emergency_first(
    database_url: str, pools: tuple[Pool, Pool], webhooks: tuple[str, Hooks]
) -> None:
    hook_url, hooks = webhooks
    homes = _homes(database_url, HOMES + 1)
    storm, pendant = homes[:HOMES], homes[HOMES]
    _person(database_url, "installer", "admin", [f"{hook_url}/installer"])
    _person(database_url, "desk", "responder", [f"{hook_url}/desk"])
    alerts = AlertService(pools[0], link_key=LINK_KEY)
    await alerts.apply_findings([(h, _coverage(h)) for h in storm])
    # Raised after the storm, so due after every one of its alerts.
    alarm = Alarm(pendant.hub, str(uuid.uuid4()), "pendant", AlarmKind.PENDANT, datetime.now(UTC))
    assert await alerts.raise_alarm(pendant, alarm) is not None

    async with _running(_scheduler(pools[0]), _scheduler(pools[1])):

        async def all_sent() -> bool:
            return len(hooks.to("/installer")) >= HOMES and len(hooks.to("/desk")) >= 1

        await wait_for(all_sent, within=60, what="every alert's rung sent")
        await asyncio.sleep(1.0)  # room for a second send to show
    assert len(hooks.to("/installer")) == HOMES
    assert len(hooks.to("/desk")) == 1
    with hooks.lock:
        order = [path for path, _ in hooks.calls]
    # Claimed in the first batch of one of the two processes (16 rounds each), not last.
    assert order.index("/desk") < 32, f"the emergency's rung was sent {order.index('/desk') + 1}th"
    with psycopg.connect(database_url) as conn:
        sends = conn.execute(
            "SELECT alert_id, rung, count(*) FROM notifications GROUP BY alert_id, rung"
        ).fetchall()
        notified = conn.execute(
            "SELECT count(*), count(DISTINCT alert_id) FROM alert_events WHERE action = 'notified'"
        ).fetchone()
        waiting = conn.execute(
            "SELECT count(*) FROM alerts WHERE escalation_due_at IS NOT NULL"
        ).fetchone()
    assert len(sends) == HOMES + 1
    assert all(count == 1 for _, _, count in sends)
    assert notified == (HOMES + 1, HOMES + 1)
    assert waiting == (0,), "every ladder climbed to its end"


async def test_a_rung_nobody_on_it_can_be_sent_to_is_recorded_at_the_claim(
    database_url: str, pools: tuple[Pool, Pool]
) -> None:
    homes = _homes(database_url, 50)
    _person(database_url, "installer", "admin", [])  # no address at all
    await AlertService(pools[0], link_key=LINK_KEY).apply_findings(
        [(h, _coverage(h)) for h in homes]
    )
    scheduler = _scheduler(pools[0], max_rounds=8)
    assert await scheduler.run_due() == 0, "nothing to send: no round started"
    with psycopg.connect(database_url) as conn:
        notes = conn.execute(
            "SELECT note, count(*) FROM alert_events WHERE action = 'notified' GROUP BY note"
        ).fetchall()
        links = conn.execute("SELECT count(*) FROM ack_links").fetchone()
        waiting = conn.execute(
            "SELECT count(*) FROM alerts WHERE escalation_due_at IS NOT NULL"
        ).fetchone()
    assert notes == [("Could not reach installer; moving on.", 50)]
    assert links == (0,), "no link made for a message that is never sent"
    assert waiting == (0,)

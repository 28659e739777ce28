"""Nothing on the HTTP side (sign-in floods, live streams, a stuck API) delays an alarm."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest
from argon2 import PasswordHasher

from edge.protocol import Alarm, AlarmKind, alarm_topic, encode
from server.runtime import CarewatchServer
from tests.server.helpers import (
    ADMIN_PASSWORD,
    Publisher,
    press_pendant,
    provision,
    unique_hub,
    wait_for,
)
from tests.server.people import bearer, make_two_homes

# Loose on purpose: a busy 2-core machine shared with other test runs. Before these
# fixes the figures were 29 s (sign-in flood) and 32 s (live streams).
ALARM_WITHIN_S = 3.0

# Sign-in floods are about argon2's real cost.
pytestmark = pytest.mark.real_passwords


class _Counter:
    """Counts calls from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def add(self) -> None:
        with self._lock:
            self.value += 1


@pytest.fixture
def argon2_checks(monkeypatch: pytest.MonkeyPatch) -> _Counter:
    """How many times argon2 checks a password, wherever the server does it."""
    counter = _Counter()
    verify = PasswordHasher.verify

    def counted(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        counter.add()
        return verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    return counter


async def _alarm_latency(database_url: str, mqtt_url: str, hub: str, resident_id: int) -> float:
    """Press the hub's pendant now; seconds until its alert was stored (the database's clock)."""
    pressed = datetime.now(UTC)
    await asyncio.to_thread(press_pendant, mqtt_url, hub)

    async def raised() -> datetime | None:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            cursor = await conn.execute(
                "SELECT raised_at FROM alerts WHERE resident_id = %s AND kind = 'pendant'"
                " AND status <> 'resolved'",
                (resident_id,),
            )
            row = await cursor.fetchone()
        return row[0] if row else None

    at: datetime = await wait_for(raised, within=60, what="the pendant's alert")
    return (at - pressed).total_seconds()


def _provision_home(database_url: str) -> tuple[str, int]:
    hub = unique_hub()
    provision(database_url, hub, f"Resident {hub}")
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT resident_id FROM hubs WHERE id = %s", (hub,)).fetchone()
    assert row is not None
    return hub, int(row[0])


async def test_a_flood_of_wrong_passwords_is_limited_before_hashing_and_stalls_no_alarm(
    server: CarewatchServer, database_url: str, mqtt_url: str, argon2_checks: _Counter
) -> None:
    hub, resident_id = _provision_home(database_url)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=server.http_url, timeout=60, limits=limits) as client:

        async def guess(i: int) -> int:
            response = await client.post(
                "/api/v1/auth/token", data={"username": "admin", "password": f"guess-{i}"}
            )
            return response.status_code

        flood = asyncio.gather(*(guess(i) for i in range(150)))
        await asyncio.sleep(0.2)  # the flood is under way
        latency = await _alarm_latency(database_url, mqtt_url, hub, resident_id)
        statuses = await flood

    limit = server.settings.login_max_failures
    assert set(statuses) <= {401, 429}, f"answers: {sorted(set(statuses))}"
    assert statuses.count(401) <= limit
    assert argon2_checks.value <= limit, f"{argon2_checks.value} passwords hashed"
    assert latency < ALARM_WITHIN_S, f"alarm stored {latency:.1f} s after the press"


async def test_signing_in_again_and_again_with_the_right_password_stalls_no_alarm(
    server: CarewatchServer, database_url: str, mqtt_url: str
) -> None:
    hub, resident_id = _provision_home(database_url)
    async with httpx.AsyncClient(base_url=server.http_url, timeout=60) as client:
        stop = asyncio.Event()

        async def sign_in_repeatedly() -> int:
            done = 0
            while not stop.is_set():
                response = await client.post(
                    "/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD}
                )
                assert response.status_code == 200, response.text
                done += 1
            return done

        # Fewer at once than the limit: each try counts until its password proves right.
        signing_in = asyncio.gather(*(sign_in_repeatedly() for _ in range(4)))
        await asyncio.sleep(0.5)
        latencies = []
        for _ in range(5):
            latencies.append(await _alarm_latency(database_url, mqtt_url, hub, resident_id))
            # Resolved, so that the next press raises a new alert. (Async: the server
            # shares this event loop and may hold the row for a moment.)
            async with await psycopg.AsyncConnection.connect(database_url) as conn:
                await conn.execute(
                    "UPDATE alerts SET status = 'resolved' WHERE resident_id = %s", (resident_id,)
                )
        stop.set()
        assert sum(await signing_in) > 4
    print("alarm latencies while signing in:", [round(x, 3) for x in latencies])
    # Hashing no longer runs on the event loop (up to 2.4 s before); a loose bound.
    assert max(latencies) < 0.5, f"alarms stored {latencies} s after the press"


class _AlertReads:
    """Counts the queries that read alerts with their residents on a change, whoever
    sends them.

    The escalation poller's look for due rungs is left out: it runs every tick whatever
    changes (two reads a second), so counting it measured how long the test took on a
    slow machine (105 reads for 21 changes on CI), not what a change costs.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.value = 0
        execute = psycopg.AsyncCursor.execute

        async def counted(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            text = query.decode() if isinstance(query, bytes) else str(query)
            due_rungs = "a.escalation_due_at <= now()" in text
            if "FROM alerts a JOIN residents r" in text and not due_rungs:
                self.value += 1
            return await execute(cursor, query, *args, **kwargs)

        monkeypatch.setattr(psycopg.AsyncCursor, "execute", counted)


def _press_repeatedly(mqtt_url: str, hub: str, times: int) -> None:
    """A chatty hub: its pendant pressed ``times`` times in a burst."""
    publisher = Publisher(mqtt_url)
    try:
        for _ in range(times):
            alarm = Alarm(hub, str(uuid.uuid4()), "pendant", AlarmKind.PENDANT, datetime.now(UTC))
            publisher.publish(alarm_topic(hub), encode(alarm))
    finally:
        publisher.close()


@contextlib.asynccontextmanager
async def _open_streams(
    server: CarewatchServer, tokens: list[str]
) -> AsyncIterator[list[list[str]]]:
    """One live stream per token, each collecting its event names, all open on return."""
    limits = httpx.Limits(max_connections=len(tokens) + 10)
    events: list[list[str]] = [[] for _ in tokens]
    opened = 0
    all_open = asyncio.Event()

    async with httpx.AsyncClient(base_url=server.http_url, timeout=60, limits=limits) as client:

        async def listen(i: int, bearer_token: str) -> None:
            nonlocal opened
            async with client.stream(
                "GET", "/api/v1/alerts/stream", headers={"Authorization": f"Bearer {bearer_token}"}
            ) as response:
                assert response.status_code == 200
                opened += 1
                if opened == len(tokens):
                    all_open.set()
                async for line in response.aiter_lines():
                    if line.startswith("event: "):
                        events[i].append(line.removeprefix("event: "))

        tasks = [asyncio.create_task(listen(i, t)) for i, t in enumerate(tokens)]
        try:
            async with asyncio.timeout(60):
                await all_open.wait()
            yield events
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def test_many_live_streams_share_one_query_per_change_and_stall_no_alarm(
    server: CarewatchServer,
    api: httpx.AsyncClient,
    database_url: str,
    mqtt_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chatty, _ = _provision_home(database_url)
    quiet, quiet_resident = _provision_home(database_url)
    admin_token = api.headers["Authorization"].removeprefix("Bearer ")
    async with _open_streams(server, [admin_token] * 200) as events:
        alert_reads = _AlertReads(monkeypatch)
        # A chatty hub: its pendant pressed over and over, each press a change to its alert.
        presses = 20
        await asyncio.to_thread(_press_repeatedly, mqtt_url, chatty, presses)
        latency = await _alarm_latency(database_url, mqtt_url, quiet, quiet_resident)

        async def delivered() -> bool:
            return all(len(e) >= 2 for e in events)

        await wait_for(delivered, within=60, what="both homes' alerts on every stream")
        reads = alert_reads.value
    changes = presses + 1
    assert latency < ALARM_WITHIN_S, f"alarm stored {latency:.1f} s after the press"
    # One read per change (or batch of changes) for all streams, not one per stream
    # per change (200 each); a few more come from escalation and the alarm path.
    assert reads < 5 * changes, f"{reads} reads of alerts for {changes} alert changes"
    feed = server.feed
    print(
        f"alarm {latency:.3f} s; {reads} alert reads, feed: {feed.changes_heard} changes heard,"
        f" {feed.queries} queries, for {changes} alert changes and 200 streams"
    )
    assert feed.queries <= feed.changes_heard


async def test_a_live_stream_carries_only_alerts_its_viewer_may_see(
    server: CarewatchServer, api: httpx.AsyncClient, database_url: str, mqtt_url: str
) -> None:
    homes = await make_two_homes(api)
    edith, arthur = homes.edith, homes.arthur
    tokens = [
        await bearer(api, edith.carer),
        await bearer(api, edith.resident_user),
        await bearer(api, arthur.responder),
    ]
    async with _open_streams(server, tokens) as events:
        press_pendant(mqtt_url, edith.hub)

        async def delivered() -> bool:
            return events[0] == ["alert"] and events[1] == ["alert"]

        await wait_for(delivered, what="Edith's alert to her carer and to her")
        await asyncio.sleep(0.5)  # long enough for a wrong delivery to show
    assert events[2] == [], "Arthur's responder (another service) saw Edith's alert"
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT username FROM record_reads WHERE what = 'live alerts' AND resident_id = %s",
            (edith.resident_id,),
        ).fetchall()
    # Seen on a live stream is a read of her record; her own look is not news to her.
    assert rows == [(edith.carer,)]


async def test_ingest_stores_alarms_while_every_http_connection_is_stuck(
    server: CarewatchServer, api: httpx.AsyncClient, database_url: str, mqtt_url: str
) -> None:
    hub, resident_id = _provision_home(database_url)
    # Every authenticated request reads the tokens; with the table locked each one
    # holds its database connection until the lock goes, as a slow query would.
    with psycopg.connect(database_url) as locker:
        locker.execute("LOCK TABLE api_tokens IN ACCESS EXCLUSIVE MODE")
        stuck = [asyncio.create_task(api.get("/api/v1/alerts")) for _ in range(30)]
        try:
            await asyncio.sleep(1.0)  # every HTTP connection now waits on the lock
            assert not any(task.done() for task in stuck)
            started = time.monotonic()
            latency = await _alarm_latency(database_url, mqtt_url, hub, resident_id)
            assert time.monotonic() - started < 10
        finally:
            locker.rollback()
    for response in await asyncio.gather(*stuck, return_exceptions=True):
        assert not isinstance(response, httpx.Response) or response.status_code < 500
    assert latency < ALARM_WITHIN_S, f"alarm stored {latency:.1f} s after the press"

"""Nothing on the HTTP side (sign-in floods, live streams, a stuck API) delays an alarm."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

import httpx
import psycopg
import pytest
from argon2 import PasswordHasher

from server.runtime import CarewatchServer
from tests.server.helpers import (
    ADMIN_PASSWORD,
    press_pendant,
    provision,
    unique_hub,
    wait_for,
)

# Loose on purpose: a busy 2-core machine shared with other test runs. Before these
# fixes the figures were 29 s (sign-in flood) and 32 s (live streams).
ALARM_WITHIN_S = 3.0


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

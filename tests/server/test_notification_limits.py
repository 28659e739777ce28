"""One slow peer or one busy person cannot hold up anyone else's alert.

Real server, broker and database: a push service and webhook that accept the
connection and never answer, for one service's responder, do not delay
another service's emergency, nor hold the alert's row (a carer can still
acknowledge it at once), and give up within their timeouts. A person's push
subscriptions are capped, the newest kept.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import psycopg
import pytest

from server.runtime import CarewatchServer
from tests.server.helpers import (
    forget_session,
    press_pendant,
    provision,
    token,
    unique_hub,
    wait_for,
)
from tests.server.receivers import Hooks, Mailbox, silent_server, smtp_server, webhook_server
from tests.server.test_escalation import _browser_subscription, _settings, add_person


@pytest.fixture
def smtp() -> Iterator[tuple[str, Mailbox]]:
    with smtp_server() as found:
        yield found


@pytest.fixture
def webhooks() -> Iterator[tuple[str, Hooks]]:
    with webhook_server() as found:
        yield found


@pytest.fixture
def silent() -> Iterator[tuple[str, list[float]]]:
    with silent_server() as found:
        yield found


@pytest.fixture
async def server(
    database_url: str, mqtt_url: str, smtp: tuple[str, Mailbox]
) -> AsyncIterator[CarewatchServer]:
    # Four hung sends are waited out here: each gives up after 2 s, not the default 5.
    settings = _settings(smtp[0]).model_copy(update={"notification_send_timeout_s": 2.0})
    async with CarewatchServer(settings, database_url=database_url, mqtt_url=mqtt_url) as running:
        yield running
    forget_session(mqtt_url, settings.mqtt_client_id)


@asynccontextmanager
async def _admin(server: CarewatchServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as client:
        client.headers["Authorization"] = f"Bearer {await token(client)}"
        yield client


async def test_a_push_service_that_never_answers_delays_no_other_alert(
    server: CarewatchServer,
    database_url: str,
    mqtt_url: str,
    webhooks: tuple[str, Hooks],
    silent: tuple[str, list[float]],
) -> None:
    (hook_url, hooks), (silent_url, connections) = webhooks, silent
    north_hub, south_hub = unique_hub(), unique_hub()
    provision(database_url, north_hub, f"Mr North {north_hub}")
    provision(database_url, south_hub, f"Mrs South {south_hub}")
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE residents SET service = 'north' WHERE name LIKE 'Mr North %'")
    subscription, _, _ = _browser_subscription(f"{silent_url}/push/slow")
    add_person(
        database_url,
        "slow",
        "responder",
        channels=[("webpush", json.dumps(subscription)), ("webhook", f"{silent_url}/hook")],
        on_duty=True,
        service="north",
    )
    add_person(
        database_url, "fast", "responder", channels=[("webhook", f"{hook_url}/fast")], on_duty=True
    )

    async def hung() -> bool:
        return bool(connections)

    press_pendant(mqtt_url, north_hub)
    await wait_for(hung, what="the north responder's push service taking the connection")
    pressed = time.monotonic()
    press_pendant(mqtt_url, south_hub)

    async def fast_called() -> bool:
        return bool(hooks.to("/fast"))

    # Before, the south alert waited behind the north one's sends: 20 s and more.
    await wait_for(fast_called, within=40, what="the south responder's call")
    waited = time.monotonic() - pressed
    assert waited < 4.0, f"the south emergency reached its responder after {waited:.1f} s"

    async with _admin(server) as admin:
        alerts = (await admin.get("/api/v1/alerts")).json()
        (north,) = [a for a in alerts if a["hub"] == north_hub]
        started = time.monotonic()
        acked = await admin.post(f"/api/v1/alerts/{north['id']}/ack")
        took = time.monotonic() - started
    assert acked.status_code == 200, acked.text
    assert took < 2.0, f"acknowledging waited {took:.1f} s for the hung send to let go"

    def slow_attempts() -> list[tuple[Any, ...]]:
        with psycopg.connect(database_url) as conn:
            return conn.execute(
                "SELECT n.channel, n.ok, n.error, n.at FROM notifications n"
                " JOIN users u ON u.id = n.user_id WHERE u.username = 'slow' ORDER BY n.at"
            ).fetchall()

    async def all_given_up() -> bool:
        return len(slow_attempts()) == 4

    # Two channels, two attempts each, 2 s each: recorded within ~10 s.
    await wait_for(all_given_up, within=40, what="the hung sends timing out")
    attempts = slow_attempts()
    assert [(channel, ok) for channel, ok, _, _ in attempts] == [
        ("webpush", False),
        ("webpush", False),
        ("webhook", False),
        ("webhook", False),
    ]
    assert all(error for _, _, error, _ in attempts), "each timeout says why"
    gaps = [(b[3] - a[3]).total_seconds() for a, b in itertools.pairwise(attempts)]
    # Each attempt gives up at its timeout, not later (a loose bound for a busy machine).
    assert max(gaps) < 5.0, f"an attempt took {max(gaps):.1f} s"
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT status, escalation_due_at FROM alerts WHERE id = %s", (north["id"],)
        ).fetchone()
    assert row == ("acknowledged", None), "the late record does not restart the ladder"


async def test_a_person_keeps_at_most_ten_push_subscriptions_the_newest(
    server: CarewatchServer, database_url: str
) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO user_channels (user_id, position, kind, address)"
            " SELECT id, 0, 'email', 'admin@example.org' FROM users WHERE username = 'admin'"
        )
    endpoints = [f"https://push.example.org/send/{i}" for i in range(11)]
    async with _admin(server) as admin:
        replies = []
        for endpoint in endpoints:
            subscription, _, _ = _browser_subscription(endpoint)
            replies.append(await admin.post("/api/v1/me/push-subscriptions", json=subscription))
    assert [r.status_code for r in replies] == [201] * 11
    assert all(r.json()["dropped"] == [] for r in replies[:10])
    assert replies[10].json() == {"endpoint": endpoints[10], "dropped": [endpoints[0]]}
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT c.kind, c.address FROM user_channels c JOIN users u ON u.id = c.user_id"
            " WHERE u.username = 'admin' ORDER BY c.position"
        ).fetchall()
    pushed = [json.loads(address)["endpoint"] for kind, address in rows if kind == "webpush"]
    assert pushed == endpoints[:0:-1], "the ten newest, newest first"
    assert ("email", "admin@example.org") in rows, "other channels are not counted or touched"

"""Escalation on a real database, broker, SMTP server and webhook receiver.

An urgent alert climbs the resident's carers in order, then the responders;
a failing channel falls through to the next; one-tap links work once; two
server processes never double-escalate; a killed server loses no deadline.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import http_ece
import httpx
import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr

from edge.protocol import (
    HubState,
    HubStatus,
    Reading,
    ReadingKind,
    ReadingsBatch,
    encode,
    readings_topic,
    status_topic,
)
from server.alerts.escalation import EscalationPolicy, EscalationScheduler
from server.alerts.notify import AppriseNotifier
from server.embedded._broker import free_port
from server.runtime import CarewatchServer
from server.settings import ServerSettings
from server.store.pool import migrate, open_pool
from tests.server.helpers import (
    ADMIN_PASSWORD,
    Publisher,
    forget_session,
    provision,
    token,
    unique_hub,
    wait_for,
)
from tests.server.people import add_carer, bearer, make_home
from tests.server.receivers import Hooks, Mailbox, smtp_server, webhook_server

ACK_TIMEOUT_S = 1.5
# Unique per run: two runs on one broker must not take over each other's session.
KILLED_CLIENT_ID = f"carewatch-killed-{uuid.uuid4().hex[:8]}"
DEAD_WEBHOOK = f"http://127.0.0.1:{free_port()}/nobody-listens"


@pytest.fixture
def smtp() -> Iterator[tuple[str, Mailbox]]:
    with smtp_server() as found:
        yield found


@pytest.fixture
def webhooks() -> Iterator[tuple[str, Hooks]]:
    with webhook_server() as found:
        yield found


def _settings(email_url: str, *, ack_timeout_s: float = ACK_TIMEOUT_S) -> ServerSettings:
    return ServerSettings(
        http_port=0,
        admin_password=SecretStr(ADMIN_PASSWORD),
        mqtt_client_id=f"carewatch-esc-{uuid.uuid4().hex[:8]}",
        email_url=email_url,
        ack_timeout_s=ack_timeout_s,
        escalation_tick_s=0.1,
        link_secret=SecretStr("s" * 40),
        # The local receivers stand in for the public push services (and
        # push.example.org for subscriptions that are stored, never sent to).
        push_hosts=("http://127.0.0.1", "push.example.org"),
    )


@pytest.fixture
async def escalating(
    database_url: str, mqtt_url: str, smtp: tuple[str, Mailbox]
) -> AsyncIterator[CarewatchServer]:
    settings = _settings(smtp[0])
    async with CarewatchServer(settings, database_url=database_url, mqtt_url=mqtt_url) as server:
        yield server
    forget_session(mqtt_url, settings.mqtt_client_id)


def add_person(
    database_url: str,
    username: str,
    role: str,
    *,
    channels: list[tuple[str, str]],
    on_duty: bool = False,
    carer_of: str | None = None,
    service: str = "default",
) -> None:
    """A user with contact channels; a carer is put last on ``carer_of``'s ladder."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "INSERT INTO users (username, password_hash, role, display_name, on_duty, service)"
            " VALUES (%s, 'x', %s, %s, %s, %s) RETURNING id",
            (username, role, username.title(), on_duty, service if role == "responder" else None),
        ).fetchone()
        assert row is not None
        for position, (kind, address) in enumerate(channels):
            conn.execute(
                "INSERT INTO user_channels VALUES (%s, %s, %s, %s)",
                (row[0], position, kind, address),
            )
        if carer_of is not None:
            conn.execute(
                "INSERT INTO resident_carers (resident_id, user_id, position)"
                " SELECT id, %s, (SELECT count(*) FROM resident_carers rc"
                " WHERE rc.resident_id = r.id) + 1 FROM residents r WHERE name = %s",
                (row[0], carer_of),
            )


def raise_no_movement(mqtt_url: str, hub: str) -> None:
    """Movement three hours ago and a heartbeat now: the detector raises no_movement (urgent)."""
    now = datetime.now(UTC)
    moved = now - timedelta(hours=3)
    batch = ReadingsBatch(hub, 1, moved, (Reading("lounge-pir", ReadingKind.MOTION, moved, 1.0),))
    publisher = Publisher(mqtt_url)
    try:
        publisher.publish(readings_topic(hub), encode(batch))
        heartbeat = HubStatus(hub, HubState.ONLINE, now, watermark=now)
        publisher.publish(status_topic(hub), encode(heartbeat))
    finally:
        publisher.close()


def notifications(database_url: str) -> list[tuple[Any, ...]]:
    """(username, rung, channel, ok, error, at) for every attempt, oldest first."""
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT u.username, n.rung, n.channel, n.ok, n.error, n.at FROM notifications n"
            " JOIN users u ON u.id = n.user_id ORDER BY n.at, n.id"
        ).fetchall()


@asynccontextmanager
async def _api(server: CarewatchServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as client:
        client.headers["Authorization"] = f"Bearer {await token(client)}"
        yield client


async def test_an_urgent_alert_climbs_the_carers_in_order_then_the_responders(
    escalating: CarewatchServer,
    database_url: str,
    mqtt_url: str,
    smtp: tuple[str, Mailbox],
    webhooks: tuple[str, Hooks],
) -> None:
    (_, mailbox), (hook_url, hooks) = smtp, webhooks
    hub = unique_hub()
    resident = f"Mrs Ladder {hub}"
    provision(database_url, hub, resident)
    add_person(
        database_url, "amy", "carer", channels=[("email", "amy@example.org")], carer_of=resident
    )
    add_person(
        database_url, "ben", "carer", channels=[("webhook", f"{hook_url}/ben")], carer_of=resident
    )
    add_person(
        database_url, "desk", "responder", channels=[("webhook", f"{hook_url}/desk")], on_duty=True
    )
    add_person(database_url, "off", "responder", channels=[("webhook", f"{hook_url}/off")])
    add_person(
        database_url,
        "south-desk",
        "responder",
        channels=[("webhook", f"{hook_url}/south")],
        on_duty=True,
        service="south",
    )

    raise_no_movement(mqtt_url, hub)

    async def mailed() -> bool:
        return bool(mailbox.messages)

    await wait_for(mailed, what="the first carer's e-mail")
    recipients, subject, body = mailbox.messages[0]
    assert recipients == ["amy@example.org"]
    assert subject.startswith("[URGENT]")
    assert resident in subject
    assert "No movement" in body
    assert "/ack/" in body

    async def escalated() -> bool:
        return bool(hooks.to("/desk"))

    await wait_for(escalated, within=15, what="the responders' rung")

    async def recorded() -> bool:
        # The webhook arrives before the attempt's row commits.
        return len(notifications(database_url)) >= 3

    await wait_for(recorded, what="the attempts recorded")
    assert len(hooks.to("/ben")) == 1
    assert "No movement" in hooks.to("/ben")[0]["message"]
    assert hooks.to("/off") == [], "a responder off duty is not called"
    assert hooks.to("/south") == [], "nor one of another service"

    attempts = notifications(database_url)
    assert [(user, rung, ok) for user, rung, _, ok, _, _ in attempts] == [
        ("amy", 0, True),
        ("ben", 1, True),
        ("desk", 2, True),
    ]
    # Each carer had the acknowledge timeout before the next was called.
    assert attempts[1][5] - attempts[0][5] >= timedelta(seconds=ACK_TIMEOUT_S)

    async with _api(escalating) as api:
        (alert,) = (await api.get("/api/v1/alerts", params={"status": "escalated"})).json()
        history = (await api.get(f"/api/v1/alerts/{alert['id']}/history")).json()
    actions = [e["action"] for e in history["events"]]
    assert actions[0] == "raised"
    assert "escalated" in actions
    assert [n["user"] for n in history["notifications"]] == ["amy", "ben", "desk"]


async def test_a_failing_channel_falls_through_to_the_next_and_then_to_the_next_person(
    escalating: CarewatchServer,
    database_url: str,
    mqtt_url: str,
    smtp: tuple[str, Mailbox],
    webhooks: tuple[str, Hooks],
) -> None:
    (_, mailbox), (hook_url, hooks) = smtp, webhooks
    hub = unique_hub()
    resident = f"Mr Fallthrough {hub}"
    provision(database_url, hub, resident)
    add_person(
        database_url,
        "amy",
        "carer",
        channels=[("webhook", DEAD_WEBHOOK), ("email", "amy@example.org")],
        carer_of=resident,
    )
    add_person(
        database_url, "ben", "carer", channels=[("webhook", DEAD_WEBHOOK)], carer_of=resident
    )
    add_person(
        database_url, "desk", "responder", channels=[("webhook", f"{hook_url}/desk")], on_duty=True
    )

    raise_no_movement(mqtt_url, hub)

    async def desk_called() -> bool:
        return bool(hooks.to("/desk"))

    await wait_for(desk_called, within=15, what="the responders after Ben could not be reached")

    async def recorded() -> bool:
        return any(user == "desk" for user, *_ in notifications(database_url))

    await wait_for(recorded, what="the responders' attempt recorded")
    attempts = notifications(database_url)
    amy = [(channel, ok) for user, _, channel, ok, _, _ in attempts if user == "amy"]
    assert amy == [("webhook", False), ("webhook", False), ("email", True)]
    assert [m[0] for m in mailbox.messages] == [["amy@example.org"]]
    ben = [a for a in attempts if a[0] == "ben"]
    assert [ok for _, _, _, ok, _, _ in ben] == [False, False]
    assert all(error for _, _, _, _, error, _ in ben), "each failure says why"
    desk_at = next(at for user, *_, at in attempts if user == "desk")
    # Nobody could reach Ben, so the responders did not wait out his timeout.
    assert desk_at - ben[-1][5] < timedelta(seconds=ACK_TIMEOUT_S)


async def test_the_one_tap_link_acknowledges_once_and_stops_the_ladder(
    escalating: CarewatchServer,
    database_url: str,
    mqtt_url: str,
    smtp: tuple[str, Mailbox],
    webhooks: tuple[str, Hooks],
) -> None:
    (_, mailbox), (hook_url, hooks) = smtp, webhooks
    hub = unique_hub()
    resident = f"Mrs Link {hub}"
    provision(database_url, hub, resident)
    add_person(
        database_url, "amy", "carer", channels=[("email", "amy@example.org")], carer_of=resident
    )
    add_person(
        database_url, "ben", "carer", channels=[("webhook", f"{hook_url}/ben")], carer_of=resident
    )
    raise_no_movement(mqtt_url, hub)

    async def mailed() -> bool:
        return bool(mailbox.messages)

    await wait_for(mailed, what="the first carer's e-mail")
    match = re.search(r"(http://\S+/ack/\S+)", mailbox.messages[0][2])
    assert match is not None
    link = match[1]
    async with httpx.AsyncClient(timeout=10) as browser:
        page = await browser.get(link)
        assert page.status_code == 200
        assert "acknowledge" in page.text
        first = await browser.post(link)
        assert first.status_code == 200
        assert "Acknowledged" in first.text
        again = await browser.post(link)
        assert again.status_code == 410
        assert "already been used" in again.text
        forged = await browser.post(link[:-3] + "AAA")
        assert forged.status_code == 410

    async with _api(escalating) as api:
        (alert,) = (await api.get("/api/v1/alerts", params={"status": "acknowledged"})).json()
    assert alert["acknowledged_by"] == "amy"
    # Ben's turn would have come after the timeout; acknowledged, it never does.
    await asyncio.sleep(ACK_TIMEOUT_S * 2)
    assert hooks.to("/ben") == []


async def test_two_server_processes_escalate_each_alert_exactly_once(
    database_url: str, mqtt_url: str, smtp: tuple[str, Mailbox], webhooks: tuple[str, Hooks]
) -> None:
    hook_url, hooks = webhooks
    migrate(database_url)
    residents = []
    for i in range(4):
        hub = unique_hub()
        resident = f"Resident {i} {hub}"
        provision(database_url, hub, resident)
        add_person(
            database_url,
            f"carer{i}",
            "carer",
            channels=[("webhook", f"{hook_url}/c{i}")],
            carer_of=resident,
        )
        residents.append(hub)
    add_person(
        database_url, "desk", "responder", channels=[("webhook", f"{hook_url}/desk")], on_duty=True
    )

    first, second = _settings(smtp[0], ack_timeout_s=1.0), _settings(smtp[0], ack_timeout_s=1.0)
    async with (
        CarewatchServer(first, database_url=database_url, mqtt_url=mqtt_url),
        CarewatchServer(second, database_url=database_url, mqtt_url=mqtt_url),
    ):
        for hub in residents:
            raise_no_movement(mqtt_url, hub)

        async def all_escalated() -> bool:
            return len(hooks.to("/desk")) >= 4

        await wait_for(all_escalated, within=20, what="every alert at the responders")
        await asyncio.sleep(2)  # room for a double send to show
    for name in (first.mqtt_client_id, second.mqtt_client_id):
        forget_session(mqtt_url, name)
    assert len(hooks.to("/desk")) == 4
    for i in range(4):
        assert len(hooks.to(f"/c{i}")) == 1
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT alert_id, rung, count(*) FROM notifications GROUP BY alert_id, rung"
        ).fetchall()
    assert len(rows) == 8
    assert all(count == 1 for _, _, count in rows)


def _start_server(
    database_url: str, mqtt_url: str, email_url: str, port: int, ack_timeout_s: float
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CAREWATCH_DATABASE_URL": database_url,
        "CAREWATCH_MQTT_URL": mqtt_url,
        "CAREWATCH_HTTP_PORT": str(port),
        "CAREWATCH_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "CAREWATCH_EMAIL_URL": email_url,
        "CAREWATCH_ACK_TIMEOUT_S": str(ack_timeout_s),
        "CAREWATCH_ESCALATION_TICK_S": "0.2",
        "CAREWATCH_LINK_SECRET": "k" * 40,
        "CAREWATCH_MQTT_CLIENT_ID": KILLED_CLIENT_ID,
    }
    command = [sys.executable, "-m", "server.cli", "server"]
    # Not a pipe: nobody reads it, and a full pipe would stall the server.
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_a_killed_server_still_escalates_on_time_after_restart(
    database_url: str, mqtt_url: str, smtp: tuple[str, Mailbox], webhooks: tuple[str, Hooks]
) -> None:
    (email_url, mailbox), (hook_url, hooks) = smtp, webhooks
    ack_timeout_s = 12.0  # room for a restart on a busy machine
    migrate(database_url)
    hub = unique_hub()
    resident = f"Mrs Restart {hub}"
    provision(database_url, hub, resident)
    add_person(
        database_url, "amy", "carer", channels=[("email", "amy@example.org")], carer_of=resident
    )
    add_person(
        database_url, "ben", "carer", channels=[("webhook", f"{hook_url}/ben")], carer_of=resident
    )
    port = free_port()

    async def ready() -> bool:
        try:
            async with httpx.AsyncClient(timeout=1) as client:
                return (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
        except httpx.HTTPError:
            return False

    server = _start_server(database_url, mqtt_url, email_url, port, ack_timeout_s)
    try:
        await wait_for(ready, within=60, what="the server to start")
        raise_no_movement(mqtt_url, hub)

        async def mailed() -> bool:
            return bool(mailbox.messages)

        await wait_for(mailed, what="the first carer's e-mail")
        with psycopg.connect(database_url) as conn:
            row = conn.execute("SELECT escalation_due_at FROM alerts").fetchone()
        assert row is not None
        assert row[0] is not None
        due: datetime = row[0]
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        assert hooks.to("/ben") == []

        server = _start_server(database_url, mqtt_url, email_url, port, ack_timeout_s)
        await wait_for(ready, within=60, what="the server to start again")
        assert datetime.now(UTC) < due, "restarted before the deadline, to see it kept"

        async def ben_called() -> bool:
            return bool(hooks.to("/ben"))

        await wait_for(ben_called, within=ack_timeout_s + 5, what="Ben's call after the restart")
        called_at = datetime.now(UTC)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        forget_session(mqtt_url, KILLED_CLIENT_ID)
    # Fired within a scheduler tick (0.2 s) of its deadline, with room for the delivery.
    assert due <= called_at < due + timedelta(seconds=1.5)


def _browser_subscription(
    endpoint: str,
) -> tuple[dict[str, Any], ec.EllipticCurvePrivateKey, bytes]:
    """What a browser makes when it subscribes: its own key pair and auth secret."""
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    auth = os.urandom(16)

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return {"endpoint": endpoint, "keys": {"p256dh": b64(public), "auth": b64(auth)}}, private, auth


async def test_a_carers_phone_gets_an_encrypted_web_push(
    escalating: CarewatchServer,
    database_url: str,
    mqtt_url: str,
    webhooks: tuple[str, Hooks],
) -> None:
    hook_url, hooks = webhooks
    hub = unique_hub()
    resident = f"Mrs Push {hub}"
    provision(database_url, hub, resident)
    subscription, browser_key, auth = _browser_subscription(f"{hook_url}/push/amy")
    add_person(
        database_url,
        "amy",
        "carer",
        channels=[("webpush", json.dumps(subscription))],
        carer_of=resident,
    )
    raise_no_movement(mqtt_url, hub)

    async def pushed() -> bool:
        return bool(hooks.raw)

    await wait_for(pushed, what="the push to Amy's phone")
    path, body, headers = hooks.raw[0]
    assert path == "/push/amy"
    headers = {k.lower(): v for k, v in headers.items()}
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["authorization"].startswith("vapid t=")
    message = json.loads(http_ece.decrypt(body, private_key=browser_key, auth_secret=auth))
    assert message["title"].startswith("[URGENT]")
    assert resident in message["title"]
    assert "/ack/" in message["body"]


async def test_a_browser_subscribes_to_push_through_the_api(
    escalating: CarewatchServer, database_url: str
) -> None:
    subscription, _, _ = _browser_subscription("https://push.example.org/send/abc")
    async with _api(escalating) as api:
        key = (await api.get("/api/v1/push/key")).json()["public_key"]
        assert len(base64.urlsafe_b64decode(key + "==")) == 65  # an uncompressed P-256 point
        created = await api.post("/api/v1/me/push-subscriptions", json=subscription)
        assert created.status_code == 201
        refused = await api.post(
            "/api/v1/me/push-subscriptions", json={**subscription, "endpoint": "ftp://x"}
        )
        assert refused.status_code == 422
        assert "https" in refused.json()["detail"]
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT c.position, c.kind, c.address FROM user_channels c"
            " JOIN users u ON u.id = c.user_id WHERE u.username = 'admin'"
        ).fetchall()
    assert [(p, k) for p, k, _ in rows] == [(0, "webpush")]
    assert json.loads(rows[0][2])["endpoint"] == subscription["endpoint"]


async def test_advisories_wait_for_the_morning_digest_sent_once(
    database_url: str, smtp: tuple[str, Mailbox]
) -> None:
    email_url, mailbox = smtp
    migrate(database_url)
    provision(database_url, unique_hub(), "Mrs Digest")
    add_person(
        database_url, "amy", "carer", channels=[("email", "amy@example.org")], carer_of="Mrs Digest"
    )
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO alerts (resident_id, kind, severity, status, event_at, reason)"
            " SELECT id, 'routine', 'advisory', 'open', now(), %s FROM residents"
            " WHERE name = 'Mrs Digest'",
            ("Night toilet visits 5, 4, 6 in the last three nights; usually 1-2.",),
        )
    zone = ZoneInfo("Europe/London")
    today = datetime.now(zone).date()
    night = datetime.combine(today, time(3, 0), zone)
    morning = datetime.combine(today, time(8, 30), zone)
    pool = await open_pool(database_url)
    try:

        def scheduler() -> EscalationScheduler:
            return EscalationScheduler(
                pool,
                AppriseNotifier(email_url=email_url),
                link_key=b"k" * 32,
                public_url="http://console.example.org",
                policy=EscalationPolicy(digest_hour=8, digest_zone=zone),
            )

        first, second = scheduler(), scheduler()
        assert await first.run_digests(night) == 0
        assert mailbox.messages == [], "nobody is woken at night"
        assert await first.run_digests(morning) == 1
        assert await second.run_digests(morning + timedelta(minutes=30)) == 0
        assert await first.run_digests(morning + timedelta(hours=1)) == 0
    finally:
        await pool.close()
    ((recipients, subject, body),) = mailbox.messages
    assert recipients == ["amy@example.org"]
    assert "1 thing" in subject
    assert "Mrs Digest" in body
    assert "Night toilet visits 5, 4, 6" in body


async def test_a_residents_audit_trail_exports_changes_and_notifications(
    escalating: CarewatchServer, database_url: str, mqtt_url: str, smtp: tuple[str, Mailbox]
) -> None:
    _, mailbox = smtp
    hub = unique_hub()
    resident = f"Mrs Audit {hub}"
    provision(database_url, hub, resident)
    add_person(
        database_url, "amy", "carer", channels=[("email", "amy@example.org")], carer_of=resident
    )
    raise_no_movement(mqtt_url, hub)

    async def mailed() -> bool:
        return bool(mailbox.messages)

    await wait_for(mailed, what="the carer's e-mail")
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT id FROM residents WHERE name = %s", (resident,)).fetchone()
    assert row is not None
    async with _api(escalating) as api:
        (alert,) = (await api.get("/api/v1/alerts")).json()
        await api.post(f"/api/v1/alerts/{alert['id']}/ack")
        trail = (await api.get(f"/api/v1/residents/{row[0]}/audit")).json()
        exported = await api.get(f"/api/v1/residents/{row[0]}/audit", params={"format": "csv"})
        missing = await api.get("/api/v1/residents/999999/audit")
    actions = [entry["action"] for entry in trail]
    assert actions[0] == "raised"
    assert "notified" in actions
    assert actions[-1] == "acknowledge"
    notified = next(
        entry
        for entry in trail
        if entry["action"] == "notified"
        and entry["actor"] == "system"
        and "Amy" in (entry["note"] or "")
    )
    # The admin reading it sees where it went; see test_trail_privacy for everyone else.
    assert "email to Amy (carer, amy@example.org)" in notified["note"]
    assert notified["details"]["to"] == "Amy"
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.text.splitlines()[0] == "at,alert_id,kind,actor,action,note"
    assert len(exported.text.splitlines()) == len(trail) + 1
    assert missing.status_code == 404


async def test_a_responder_can_escalate_at_once(
    database_url: str, mqtt_url: str, smtp: tuple[str, Mailbox], webhooks: tuple[str, Hooks]
) -> None:
    (email_url, mailbox), (hook_url, hooks) = smtp, webhooks
    settings = _settings(email_url, ack_timeout_s=600.0)  # the ladder alone would wait 10 min
    async with CarewatchServer(settings, database_url=database_url, mqtt_url=mqtt_url) as server:
        hub = unique_hub()
        resident = f"Mr Escalate {hub}"
        provision(database_url, hub, resident)
        add_person(
            database_url, "amy", "carer", channels=[("email", "amy@example.org")], carer_of=resident
        )
        add_person(
            database_url,
            "desk",
            "responder",
            channels=[("webhook", f"{hook_url}/desk")],
            on_duty=True,
        )
        raise_no_movement(mqtt_url, hub)

        async def mailed() -> bool:
            return bool(mailbox.messages)

        await wait_for(mailed, what="the first carer's e-mail")
        async with _api(server) as api:
            (alert,) = (await api.get("/api/v1/alerts")).json()
            escalated = await api.post(f"/api/v1/alerts/{alert['id']}/escalate")
            assert escalated.status_code == 200
            assert escalated.json()["status"] == "escalated"

            async def desk_called() -> bool:
                return bool(hooks.to("/desk"))

            await wait_for(desk_called, within=5, what="the responders, at once")
            again = await api.post(f"/api/v1/alerts/{alert['id']}/escalate")
            assert again.status_code == 409
    forget_session(mqtt_url, settings.mqtt_client_id)


async def test_a_carer_passes_an_alert_on_and_the_next_on_the_ladder_is_told_at_once(
    database_url: str, mqtt_url: str, smtp: tuple[str, Mailbox]
) -> None:
    # A minute to answer: anyone told within seconds was told by "pass it on", not a timer.
    settings = _settings(smtp[0], ack_timeout_s=60)
    _, mailbox = smtp
    async with (
        CarewatchServer(settings, database_url=database_url, mqtt_url=mqtt_url) as server,
        _api(server) as admin,
    ):
        home = await make_home(admin, "Mrs Edith Clarke", "default", tag="pass1")
        ben = "ben-pass1"
        await add_carer(admin, ben, "Ben Clarke", ladder_of=home)
        on_duty = await admin.patch(f"/api/v1/users/{home.responder}", json={"on_duty": True})
        assert on_duty.status_code == 200, on_duty.text
        people: dict[str, httpx.AsyncClient] = {}
        for username, address in (
            (home.carer, "jo@example.org"),
            (ben, "ben@example.org"),
            (home.responder, "desk@example.org"),
        ):
            client = httpx.AsyncClient(base_url=server.http_url, timeout=10)
            client.headers["Authorization"] = f"Bearer {await bearer(client, username)}"
            people[username] = client
            reach = await client.put(
                "/api/v1/me/reach", json={"channels": [{"kind": "email", "address": address}]}
            )
            assert reach.status_code == 200, reach.text
        jo, as_ben, desk = people[home.carer], people[ben], people[home.responder]
        try:
            with psycopg.connect(database_url) as conn:
                row = conn.execute(
                    "INSERT INTO alerts (resident_id, kind, severity, status, event_at, reason,"
                    " escalation_due_at) VALUES (%s, 'no_movement', 'urgent', 'open',"
                    " now() - interval '3 h', 'No movement for 3 h.', now()) RETURNING id",
                    (home.resident_id,),
                ).fetchone()
            assert row is not None
            alert_id = row[0]

            def mailed_to(address: str) -> list[str]:
                return [subject for to, subject, _ in mailbox.messages if address in to]

            async def jo_told() -> bool:
                return bool(mailed_to("jo@example.org"))

            await wait_for(jo_told, what="the first carer's e-mail")
            # Not hers yet: nothing to pass on.
            early = await jo.post(f"/api/v1/alerts/{alert_id}/pass-on")
            assert early.status_code == 409, early.text
            assert (await jo.post(f"/api/v1/alerts/{alert_id}/ack")).status_code == 200
            # Only the one who took it on can hand it over.
            theirs = await as_ben.post(f"/api/v1/alerts/{alert_id}/pass-on")
            assert theirs.status_code == 409
            assert "who took it on" in theirs.json()["detail"]

            passed = await jo.post(f"/api/v1/alerts/{alert_id}/pass-on")
            assert passed.status_code == 200, passed.text
            body = passed.json()
            assert body["status"] == "open"
            assert body["acknowledged_by"] is None
            assert body["details"]["passed_on"]["by"] == home.carer
            assert body["details"]["passed_on"]["to"] == "Ben Clarke"

            async def ben_told() -> bool:
                return bool(mailed_to("ben@example.org"))

            await wait_for(ben_told, within=10, what="Ben told at once, not after 60 s")
            assert mailed_to("desk@example.org") == [], "the responders' turn has not come"
            trail = (await jo.get(f"/api/v1/alerts/{alert_id}/history")).json()["events"]
            line = next(e for e in trail if e["action"] == "passed_on")
            assert line["note"] == f"Passed on by Carer of {home.name} to Ben Clarke."
            assert line["actor"] == home.carer

            # Ben, the last carer, passes it on too: the alert goes to the responders.
            assert (await as_ben.post(f"/api/v1/alerts/{alert_id}/ack")).status_code == 200
            again = await as_ben.post(f"/api/v1/alerts/{alert_id}/pass-on")
            assert again.status_code == 200, again.text
            assert again.json()["status"] == "escalated"

            async def desk_told() -> bool:
                return bool(mailed_to("desk@example.org"))

            await wait_for(desk_told, within=10, what="the responders told at once")
            assert len(mailed_to("jo@example.org")) == 1, "those told already are not told again"
            # The responders are the last rung: nobody after them.
            assert (await desk.post(f"/api/v1/alerts/{alert_id}/ack")).status_code == 200
            last = await desk.post(f"/api/v1/alerts/{alert_id}/pass-on")
            assert last.status_code == 409
            assert "nobody after you" in last.json()["detail"]
        finally:
            for client in people.values():
                await client.aclose()
    forget_session(mqtt_url, settings.mqtt_client_id)

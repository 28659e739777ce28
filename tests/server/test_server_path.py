"""The server on a real broker and database: readings stored once, dead letters, alerts."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
from pydantic import SecretStr

from edge.protocol import (
    Alarm,
    AlarmAck,
    AlarmKind,
    HubState,
    HubStatus,
    Reading,
    ReadingKind,
    ReadingsBatch,
    SensorHealth,
    alarm_topic,
    encode,
    readings_topic,
    status_topic,
)
from server.runtime import CarewatchServer
from server.settings import ServerSettings
from tests.edge.helpers import Recorder
from tests.server.helpers import (
    ADMIN_PASSWORD,
    Publisher,
    eventually,
    forget_session,
    provision,
    token,
    unique_hub,
    wait_for,
)


def _count(database_url: str, query: str, *args: object) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(query.encode(), args).fetchone()
    assert row is not None
    return int(row[0])


def _batch(hub: str, seq: int, start: datetime, n: int) -> ReadingsBatch:
    readings = tuple(
        Reading("kitchen-pir", ReadingKind.MOTION, start + timedelta(seconds=40 * i), 1.0)
        for i in range(n)
    )
    return ReadingsBatch(
        hub=hub, seq=seq, sent_at=start + timedelta(seconds=40 * n), readings=readings
    )


def _heartbeat(hub: str, ts: datetime, *, watermark: datetime | None = None) -> bytes:
    return encode(HubStatus(hub=hub, state=HubState.ONLINE, ts=ts, watermark=watermark))


async def test_readings_are_stored_exactly_once(
    server: CarewatchServer, database_url: str, mqtt_url: str
) -> None:
    hub = unique_hub()
    provision(database_url, hub, f"Resident {hub}")
    start = datetime.now(UTC) - timedelta(minutes=30)
    publisher = Publisher(mqtt_url)
    try:
        for seq in range(10):
            publisher.publish(readings_topic(hub), encode(_batch(hub, seq, start, 5)))
        # Redelivery after a lost PUBACK: the same batches again.
        for seq in range(3):
            publisher.publish(readings_topic(hub), encode(_batch(hub, seq, start, 5)))
    finally:
        publisher.close()

    async def stored() -> bool:
        return (
            _count(database_url, "SELECT count(*) FROM reading_batches WHERE hub_id = %s", hub)
            == 10
        )

    await wait_for(stored, what="10 batches stored")
    await wait_for(lambda: _async(server.writer is not None and server.writer.pending() == 0))
    assert _count(database_url, "SELECT count(*) FROM readings WHERE hub_id = %s", hub) == 50


async def _async(value: bool) -> bool:
    return value


async def test_bad_and_unprovisioned_messages_are_dead_lettered_while_good_ones_flow(
    server: CarewatchServer, database_url: str, mqtt_url: str
) -> None:
    good, stranger = unique_hub("good"), unique_hub("stranger")
    provision(database_url, good, f"Resident {good}")
    now = datetime.now(UTC)
    bad_payloads = [
        b"not json at all",
        b'{"v": 1, "hub": "%s", "seq": 1}' % good.encode(),  # no sent_at, no readings
        json.dumps(
            {
                "v": 1,
                "hub": good,
                "seq": 2,
                "sent_at": now.isoformat(),
                "readings": [
                    {"sensor": "x-pir", "kind": "teleport", "ts": now.isoformat(), "value": 1}
                ],
            }
        ).encode(),
        json.dumps(
            {
                "v": 1,
                "hub": good,
                "seq": 3,
                "sent_at": now.isoformat(),
                "readings": [
                    {
                        "sensor": "x-pir",
                        "kind": "motion",
                        "ts": (now + timedelta(days=3)).isoformat(),
                        "value": 1,
                    }
                ],
            }
        ).encode(),
        json.dumps(
            {"v": 1, "hub": "someone-else", "seq": 4, "sent_at": now.isoformat(), "readings": []}
        ).encode(),
        b"{" + b" " * (300 * 1024) + b"}",
    ]
    publisher = Publisher(mqtt_url)
    try:
        for i, payload in enumerate(bad_payloads):
            publisher.publish(readings_topic(good), payload)
            publisher.publish(
                readings_topic(good), encode(_batch(good, 100 + i, now - timedelta(minutes=5), 2))
            )
        publisher.publish(readings_topic(stranger), encode(_batch(stranger, 1, now, 2)))
    finally:
        publisher.close()

    async def all_dead_lettered() -> bool:
        return (
            _count(
                database_url,
                "SELECT count(*) FROM dead_letters WHERE hub_id IN (%s, %s)",
                good,
                stranger,
            )
            == 7
        )

    await wait_for(all_dead_lettered, what="7 dead letters")
    await wait_for(
        lambda: _async(
            _count(database_url, "SELECT count(*) FROM readings WHERE hub_id = %s", good) == 12
        ),
        what="good readings stored",
    )
    with psycopg.connect(database_url) as conn:
        reasons = [
            r
            for (r,) in conn.execute(
                "SELECT reason FROM dead_letters WHERE hub_id IN (%s, %s) ORDER BY id",
                (good, stranger),
            )
        ]
    assert reasons[0].startswith("payload is not JSON")
    assert "missing field 'sent_at'" in reasons[1]
    assert "unknown kind 'teleport'" in reasons[2]
    assert "1 reading of batch 3 refused for the hub's clock" in reasons[3]
    assert "does not match topic hub" in reasons[4]
    assert "over the 262144 byte limit" in reasons[5]
    assert "not provisioned" in reasons[6]
    assert _count(database_url, "SELECT count(*) FROM readings WHERE hub_id = %s", stranger) == 0


async def test_pendant_raises_one_emergency_even_when_redelivered(
    server: CarewatchServer, database_url: str, mqtt_url: str, api: httpx.AsyncClient
) -> None:
    hub = unique_hub()
    provision(database_url, hub, "Mrs Edith Clarke")
    alarm = Alarm(
        hub=hub,
        id=str(uuid.uuid4()),
        sensor="pendant",
        kind=AlarmKind.PENDANT,
        ts=datetime.now(UTC),
    )
    publisher = Publisher(mqtt_url)
    try:
        publisher.publish(alarm_topic(hub), encode(alarm))
        publisher.publish(alarm_topic(hub), encode(alarm))
    finally:
        publisher.close()

    async def emergency() -> list[dict[str, object]]:
        alerts = (await api.get("/api/v1/alerts", params={"status": "open"})).json()
        return [a for a in alerts if a["hub"] == hub]

    (alert,) = await wait_for(emergency, what="pendant alert")
    assert alert["resident"] == "Mrs Edith Clarke"
    assert alert["kind"] == "pendant"
    assert alert["severity"] == "emergency"
    assert "pressed their pendant" in alert["reason"]
    assert _count(database_url, "SELECT count(*) FROM alarms WHERE hub_id = %s", hub) == 1


async def test_a_stored_alarm_is_confirmed_to_its_hub_and_again_when_redelivered(
    server: CarewatchServer, database_url: str, mqtt_url: str
) -> None:
    hub, stranger = unique_hub(), unique_hub("stranger")
    provision(database_url, hub, f"Mr Confirmed {hub}")
    alarm = Alarm(hub, str(uuid.uuid4()), "pull-cord", AlarmKind.PULL_CORD, datetime.now(UTC))
    unknown = Alarm(stranger, str(uuid.uuid4()), "pendant", AlarmKind.PENDANT, datetime.now(UTC))
    # The hub's side: its own topics, the confirmations among them.
    hub_side, stranger_side = Recorder(mqtt_url, hub), Recorder(mqtt_url, stranger)
    publisher = Publisher(mqtt_url)
    try:
        publisher.publish(alarm_topic(hub), encode(alarm))
        await eventually(lambda: hub_side.of_type(AlarmAck), "the alarm confirmed")
        assert [(a.hub, a.ids) for a in hub_side.of_type(AlarmAck)] == [(hub, (alarm.id,))]
        assert _count(database_url, "SELECT count(*) FROM alarms WHERE id = %s", alarm.id) == 1
        # The hub missed that confirmation and sends the alarm again: stored once,
        # confirmed again.
        publisher.publish(alarm_topic(hub), encode(alarm))
        await eventually(lambda: len(hub_side.of_type(AlarmAck)) == 2, "confirmed again")
        # A hub the server does not know: dead-lettered, never confirmed.
        publisher.publish(alarm_topic(stranger), encode(unknown))
        await eventually(
            lambda: _count(
                database_url, "SELECT count(*) FROM dead_letters WHERE hub_id = %s", stranger
            ),
            "the stranger's alarm dead-lettered",
        )
        await asyncio.sleep(0.5)
    finally:
        publisher.close()
        hub_side.close()
        stranger_side.close()
    assert stranger_side.of_type(AlarmAck) == []
    assert _count(database_url, "SELECT count(*) FROM alarms WHERE hub_id = %s", hub) == 1
    assert _count(database_url, "SELECT count(*) FROM alerts WHERE hub_id = %s", hub) == 1
    # What the server sent its hubs is not mistaken for a hub's message.
    assert _count(database_url, "SELECT count(*) FROM dead_letters WHERE hub_id = %s", hub) == 0
    sent = server.metrics.registry.get_sample_value(
        "carewatch_alarm_confirmations_total", {"outcome": "sent"}
    )
    assert sent == 2


async def test_silence_at_home_raises_no_movement_but_a_hub_backlog_does_not(
    server: CarewatchServer, database_url: str, mqtt_url: str, api: httpx.AsyncClient
) -> None:
    hub = unique_hub()
    provision(database_url, hub, "Mr Arthur Bell", timezone="UTC")
    # 13:00 UTC: daytime, last seen in the kitchen.
    t0 = datetime.now(UTC).replace(hour=13, minute=0, second=0, microsecond=0) - timedelta(days=1)
    publisher = Publisher(mqtt_url)
    try:
        publisher.publish(readings_topic(hub), encode(_batch(hub, 0, t0, 3)))
        # Two hours later, but the hub says readings up to 13:30 are still in its outbox.
        publisher.publish(
            status_topic(hub),
            _heartbeat(hub, t0 + timedelta(hours=2), watermark=t0 + timedelta(minutes=30)),
        )
        await wait_for(
            lambda: _async(
                _count(
                    database_url,
                    "SELECT count(*) FROM hubs WHERE id = %s AND state = 'online'",
                    hub,
                )
                == 1
            ),
            what="heartbeat recorded",
        )
        alerts = (await api.get("/api/v1/alerts")).json()
        assert [a for a in alerts if a["hub"] == hub] == []
        # Backlog delivered: nothing moved after 13:01:20, and the watermark is now 18:00
        # (past a new home's first-days safety net of 3 h).
        publisher.publish(status_topic(hub), _heartbeat(hub, t0 + timedelta(hours=5)))
    finally:
        publisher.close()

    async def no_movement() -> list[dict[str, object]]:
        return [a for a in (await api.get("/api/v1/alerts")).json() if a["hub"] == hub]

    (alert,) = await wait_for(no_movement, what="no-movement alert")
    assert alert["kind"] == "no_movement"
    assert alert["severity"] == "urgent"
    assert alert["resident"] == "Mr Arthur Bell"
    assert "since 13:01 (kitchen, up and about)" in alert["reason"]
    assert str(alert["reason"]).startswith("No movement for ")


async def test_acknowledge_then_resolve_with_audit_trail(
    server: CarewatchServer, database_url: str, mqtt_url: str, api: httpx.AsyncClient
) -> None:
    hub = unique_hub()
    provision(database_url, hub, "Mrs Joan Patel")
    alarm = Alarm(
        hub=hub,
        id=str(uuid.uuid4()),
        sensor="pendant",
        kind=AlarmKind.PENDANT,
        ts=datetime.now(UTC),
    )
    publisher = Publisher(mqtt_url)
    publisher.publish(alarm_topic(hub), encode(alarm))
    publisher.close()

    async def raised() -> list[dict[str, str]]:
        return [a for a in (await api.get("/api/v1/alerts")).json() if a["hub"] == hub]

    (alert,) = await wait_for(raised, what="alert")
    acked = (await api.post(f"/api/v1/alerts/{alert['id']}/ack")).json()
    assert acked["status"] == "acknowledged"
    assert acked["acknowledged_by"] == "admin"
    again = await api.post(f"/api/v1/alerts/{alert['id']}/ack")
    assert again.status_code == 409
    bad = await api.post(f"/api/v1/alerts/{alert['id']}/resolve", json={"outcome": "made_up"})
    assert bad.status_code == 422
    done = await api.post(
        f"/api/v1/alerts/{alert['id']}/resolve",
        json={"outcome": "carer_visited", "note": "All fine"},
    )
    assert done.json()["status"] == "resolved"
    assert done.json()["outcome"] == "carer_visited"
    missing = await api.post(f"/api/v1/alerts/{uuid.uuid4()}/ack")
    assert missing.status_code == 404
    with psycopg.connect(database_url) as conn:
        trail = [
            tuple(r)
            for r in conn.execute(
                "SELECT actor, action FROM alert_events WHERE alert_id = %s ORDER BY id",
                (alert["id"],),
            )
        ]
    assert trail == [("system", "raised"), ("admin", "acknowledge"), ("admin", "resolve")]


async def test_api_refuses_without_a_valid_token(server: CarewatchServer) -> None:
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        assert (await client.get("/api/v1/alerts")).status_code == 401
        wrong = await client.post(
            "/api/v1/auth/token", data={"username": "admin", "password": "nope"}
        )
        assert wrong.status_code == 401
        forged = await client.get("/api/v1/alerts", headers={"Authorization": "Bearer forged"})
        assert forged.status_code == 401
        assert (await client.get("/healthz")).json() == {
            "status": "ok",
            "database": None,
            "alert_feed": None,
            "ingest": None,
            "problem": None,
        }
        assert (await client.get("/readyz")).status_code == 200


async def test_an_admin_provisions_lists_and_revokes_a_hub_through_the_api(
    api: httpx.AsyncClient, mqtt_url: str, database_url: str
) -> None:
    hub = unique_hub()
    made = await api.post("/api/v1/hubs", json={"hub": hub, "resident": f"Mrs API {hub}"})
    assert made.status_code == 201
    body = made.json()
    assert body["username"] == hub
    assert len(body["password"]) >= 16
    assert body["agent_settings"]["CAREWATCH_AGENT_HUB_ID"] == hub
    again = await api.post("/api/v1/hubs", json={"hub": hub, "resident": "Someone"})
    assert again.status_code == 409
    bad = await api.post("/api/v1/hubs", json={"hub": "no/slash", "resident": "Someone"})
    assert bad.status_code == 422
    assert "not valid" in bad.json()["detail"]
    zone = await api.post(
        "/api/v1/hubs", json={"hub": unique_hub(), "resident": "X", "timezone": "Mars/Base"}
    )
    assert zone.status_code == 422

    listed = {h["hub"]: h for h in (await api.get("/api/v1/hubs")).json()}
    assert listed[hub]["resident"] == f"Mrs API {hub}"
    assert listed[hub]["revoked_at"] is None
    assert listed[hub]["sensors"] == []

    # Its heartbeat says which sensors it has, in which rooms, and how they are.
    publisher = Publisher(mqtt_url)
    status = HubStatus(
        hub,
        HubState.ONLINE,
        datetime.now(UTC),
        firmware="1.4.0",
        sensors=(SensorHealth("kitchen-pir", "motion", room="kitchen", battery=81.0, link=140.0),),
    )
    publisher.publish(status_topic(hub), encode(status))
    publisher.close()

    async def reported() -> object:
        listed = {h["hub"]: h for h in (await api.get("/api/v1/hubs")).json()}
        return listed[hub]["sensors"]

    sensors = await wait_for(reported, what="the hub's sensors")
    assert sensors == [{"sensor": "kitchen-pir", "room": "kitchen", "battery": 81.0, "link": 140.0}]

    assert (await api.post(f"/api/v1/hubs/{hub}/revoke")).status_code == 200
    assert (await api.post(f"/api/v1/hubs/{hub}/revoke")).status_code == 404
    listed = {h["hub"]: h for h in (await api.get("/api/v1/hubs")).json()}
    assert listed[hub]["revoked_at"] is not None


async def test_the_http_socket_sends_small_responses_at_once(server: CarewatchServer) -> None:
    # Without TCP_NODELAY a kept-alive connection waited 40 ms (delayed ACK) for each body.
    listening = server.http_socket
    assert listening is not None
    assert listening.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


async def test_the_api_refuses_a_hub_named_like_the_servers_own_broker_sessions(
    database_url: str, mqtt_url: str
) -> None:
    # A deployment's own client id, outside the carewatch-* names refused everywhere:
    # a hub of that name would take over the server's session on the broker.
    client_id = f"ops-ingest-{uuid.uuid4().hex[:6]}"
    settings = ServerSettings(
        http_port=0, admin_password=SecretStr(ADMIN_PASSWORD), mqtt_client_id=client_id
    )
    async with (
        CarewatchServer(settings, database_url=database_url, mqtt_url=mqtt_url) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=10) as api,
    ):
        api.headers["Authorization"] = f"Bearer {await token(api)}"
        for name in (client_id, f"{client_id}-alarms"):
            refused = await api.post("/api/v1/hubs", json={"hub": name, "resident": "X"})
            assert refused.status_code == 422, refused.text
            listed = [h["hub"] for h in (await api.get("/api/v1/hubs")).json()]
            assert name not in listed
    forget_session(mqtt_url, client_id)

"""Hub connections: an outage is a technical alert, not "no movement"; a revoked hub is refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest

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
from server.runtime import CarewatchServer
from tests.server.helpers import (
    Publisher,
    provision,
    running_server,
    token,
    unique_hub,
    wait_for,
)


@pytest.fixture
async def watching(database_url: str, mqtt_url: str) -> AsyncIterator[CarewatchServer]:
    async with running_server(
        database_url,
        mqtt_url,
        hub_offline_grace_s=1.0,
        hub_silence_limit_s=30.0,
        hub_check_interval_s=0.2,
    ) as server:
        yield server


async def test_an_outage_is_a_technical_alert_that_clears_when_the_hub_returns(
    watching: CarewatchServer, database_url: str, mqtt_url: str
) -> None:
    hub = unique_hub()
    provision(database_url, hub, f"Mrs Outage {hub}")
    now = datetime.now(UTC)
    moved = now - timedelta(minutes=20)
    publisher = Publisher(mqtt_url)
    try:
        batch = ReadingsBatch(hub, 1, moved, (Reading("lounge-pir", ReadingKind.MOTION, moved, 1),))
        publisher.publish(readings_topic(hub), encode(batch))
        publisher.publish(
            status_topic(hub), encode(HubStatus(hub, HubState.ONLINE, now, watermark=now))
        )
        # The broadband goes: the broker publishes the hub's last will.
        publisher.publish(status_topic(hub), encode(HubStatus(hub, HubState.OFFLINE, now)))

        async with httpx.AsyncClient(base_url=watching.http_url, timeout=10) as api:
            api.headers["Authorization"] = f"Bearer {await token(api)}"

            async def alerts() -> list[dict[str, Any]]:
                response = await api.get("/api/v1/alerts", params={"status": "active"})
                return [a for a in response.json() if a["hub"] == hub]

            async def offline_alert() -> list[dict[str, Any]]:
                return [a for a in await alerts() if a["kind"] == "hub_offline"]

            (alert,) = await wait_for(offline_alert, what="the hub_offline alert")
            assert alert["severity"] == "technical"
            assert "no-movement checks for this home are paused" in alert["reason"]

            # Back online after the outage, with the readings it kept meanwhile.
            back = datetime.now(UTC)
            publisher.publish(
                status_topic(hub), encode(HubStatus(hub, HubState.ONLINE, back, watermark=back))
            )

            async def cleared() -> bool:
                response = await api.get(f"/api/v1/alerts/{alert['id']}")
                body: dict[str, Any] = response.json()
                return bool(body["status"] == "resolved" and body["outcome"] == "self_cleared")

            await wait_for(cleared, what="the alert to clear itself")
            assert [a["kind"] for a in await alerts()] == [], "no other alert was raised"
    finally:
        publisher.close()


async def test_a_revoked_hub_is_refused_without_a_restart(
    watching: CarewatchServer, database_url: str, mqtt_url: str
) -> None:
    hub = unique_hub()
    provision(database_url, hub, f"Mr Revoked {hub}")
    now = datetime.now(UTC)
    publisher = Publisher(mqtt_url)

    def batch(seq: int) -> bytes:
        reading = Reading("kitchen-pir", ReadingKind.MOTION, now, 1)
        return encode(ReadingsBatch(hub, seq, now, (reading,)))

    def count(query: str) -> int:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(query.encode(), (hub,)).fetchone()
        assert row is not None
        return int(row[0])

    try:
        publisher.publish(readings_topic(hub), batch(1))

        async def stored() -> bool:
            return count("SELECT count(*) FROM readings WHERE hub_id = %s") == 1

        await wait_for(stored, what="the reading before revocation")
        with psycopg.connect(database_url) as conn:
            conn.execute("UPDATE hubs SET revoked_at = now() WHERE id = %s", (hub,))
        await asyncio.sleep(0.6)  # three of the server's hub refreshes
        publisher.publish(readings_topic(hub), batch(2))

        async def refused() -> bool:
            return count("SELECT count(*) FROM dead_letters WHERE hub_id = %s") == 1

        await wait_for(refused, what="the revoked hub's message dead-lettered")
        assert count("SELECT count(*) FROM readings WHERE hub_id = %s") == 1
    finally:
        publisher.close()

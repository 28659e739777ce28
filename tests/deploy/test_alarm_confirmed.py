"""An alarm the broker acknowledged and then lost in a crash still becomes an alert, exactly once.

Mosquitto 2.0 sends its PUBACK before it saves the message, so a broker killed
in that moment loses an alarm the hub believes delivered (docs/deployment.md).
Here the moment is made to last: the test broker runs the deployment's config
with ``persistence false``, so nothing it acknowledged survives the kill. The
hub's agent keeps the alarm until the server confirms it stored it, sends it
again, and the server turns it into one alert.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr

from edge.agent.agent import Agent
from edge.agent.drivers import AlarmTrigger, DriverEvent
from edge.agent.schedule import AlarmResend
from edge.protocol import AlarmKind, SensorHealth
from server.runtime import CarewatchServer
from server.settings import ServerSettings
from server.store.pool import migrate
from tests.deploy.broker import (
    SERVER_ACCOUNT,
    Broker,
    Session,
    connect,
    deployment_broker,
    mosquitto_missing,
)
from tests.server.helpers import ADMIN_PASSWORD, eventually, provision

pytestmark = pytest.mark.skipif(mosquitto_missing() is not None, reason=str(mosquitto_missing()))

SERVER_PASSWORD = "server-password-for-tests"
HUB, HUB_PASSWORD = "hub-crash", "hub-crash-password"


class Pendant:
    """A pendant the test presses; the agent polls it like any driver."""

    def __init__(self) -> None:
        self._presses: queue.SimpleQueue[AlarmTrigger] = queue.SimpleQueue()

    def press(self) -> None:
        self._presses.put(AlarmTrigger("pendant", AlarmKind.PENDANT, datetime.now(UTC)))

    def poll(self, now: datetime) -> Sequence[DriverEvent]:
        events: list[DriverEvent] = []
        while not self._presses.empty():
            events.append(self._presses.get())
        return events

    def sensors(self) -> Sequence[SensorHealth]:
        return []


@pytest.fixture
def broker() -> Iterator[Broker]:
    # Nothing saved, ever: the broker's loss after a PUBACK, made certain.
    def forget_everything(conf: str) -> str:
        assert "persistence true" in conf
        return conf.replace("persistence true", "persistence false")

    with deployment_broker(
        SERVER_PASSWORD, {HUB: HUB_PASSWORD}, edit_conf=forget_everything
    ) as running:
        yield running


def _count(database_url: str, query: str, *args: object) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(query.encode(), args).fetchone()
    assert row is not None
    return int(row[0])


def _server(database_url: str, broker: Broker) -> CarewatchServer:
    settings = ServerSettings(
        http_port=0, admin_password=SecretStr(ADMIN_PASSWORD), mqtt_client_id=SERVER_ACCOUNT
    )
    url = f"mqtt://{SERVER_ACCOUNT}:{SERVER_PASSWORD}@127.0.0.1:{broker.plain_port}"
    return CarewatchServer(settings, database_url=database_url, mqtt_url=url)


async def test_an_alarm_lost_by_a_crashed_broker_after_its_puback_becomes_one_alert(
    broker: Broker, database_url: str, tmp_path: Path
) -> None:
    migrate(database_url)  # what the server does at start, so the hub can be provisioned first
    provision(database_url, HUB, "Mrs Edith Clarke")
    # The server's alarm session exists at the broker; the server is away (restarting).
    away = connect(
        broker.plain_port,
        SERVER_ACCOUNT,
        SERVER_PASSWORD,
        client_id=f"{SERVER_ACCOUNT}-alarms",
        clean_start=False,
        subscribe="carewatch/v1/hubs/+/alarm",
    )
    assert isinstance(away, Session), away
    away.close()

    pendant = Pendant()
    agent = Agent(
        hub_id=HUB,
        driver=pendant,
        outbox_path=tmp_path / "outbox.sqlite3",
        mqtt_url=f"mqtts://{HUB}:{HUB_PASSWORD}@127.0.0.1:{broker.tls_port}",
        ca_file=broker.ca_file,
        tick_s=0.02,
        # Seconds, not the 30 s of a home, to keep the test short.
        alarm_resend=AlarmResend(first_s=1.0, cap_s=2.0),
    )
    stop = threading.Event()
    agent.start()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    try:
        await eventually(lambda: agent.connected, "the hub connected over TLS")
        pendant.press()
        await eventually(
            lambda: [k.acknowledged_at for k in agent.outbox.kept_alarms()] not in ([], [None]),
            "the broker's PUBACK for the alarm",
        )
        [alarm] = agent.outbox.pending_alarms()
        # Killed after its PUBACK and before any save: the broker forgets the alarm.
        broker.kill()
        await asyncio.to_thread(broker.start)

        async with _server(database_url, broker) as server:

            def stored() -> int:
                return _count(database_url, "SELECT count(*) FROM alarms WHERE id = %s", alarm.id)

            await eventually(stored, "the lost alarm stored, sent again by the hub", within=30)
            await eventually(
                lambda: agent.outbox.pending_alarms() == [], "the alarm confirmed to the hub"
            )
            await asyncio.sleep(3.0)  # resends would have arrived by now
            assert stored() == 1
            assert _count(database_url, "SELECT count(*) FROM alerts WHERE hub_id = %s", HUB) == 1

            # Again with the server running: its alarm session reconnects to the
            # restarted broker, and confirms on its new connection.
            broker.kill()
            await asyncio.to_thread(broker.start)
            consumer = server.alarm_consumer
            assert consumer is not None
            await eventually(
                lambda: consumer.connected.is_set() and agent.connected, "both back", within=30
            )
            pendant.press()
            await eventually(
                lambda: agent.alarms_confirmed == 2 and agent.outbox.pending_alarms() == [],
                "the second alarm confirmed",
                within=30,
            )
    finally:
        stop.set()
        thread.join(10)
        agent.stop()
    assert _count(database_url, "SELECT count(*) FROM alarms WHERE hub_id = %s", HUB) == 2
    assert _count(database_url, "SELECT count(DISTINCT id) FROM alarms WHERE hub_id = %s", HUB) == 2
    # The second press lands on the emergency being worked: one alert, pressed twice.
    assert _count(database_url, "SELECT count(*) FROM alerts WHERE hub_id = %s", HUB) == 1

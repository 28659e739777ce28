"""Nothing lost, nothing twice: every reading stored once across a server SIGKILL and a broker restart."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr

from edge.agent.agent import Agent
from edge.agent.schedule import FlushPolicy
from edge.protocol import (
    Alarm,
    AlarmKind,
    Reading,
    ReadingKind,
    ReadingsBatch,
    alarm_topic,
    encode,
    readings_topic,
)
from server.runtime import CarewatchServer
from server.settings import ServerSettings
from server.store.pool import migrate
from tests.deploy.broker import mosquitto_missing, plain_broker
from tests.edge.helpers import ScriptedDriver
from tests.server.helpers import (
    ADMIN_PASSWORD,
    Publisher,
    forget_session,
    provision,
    unique_hub,
    wait_for,
)
from tests.server.process import ServerProcess

BATCHES = 600
READINGS_PER_BATCH = 10


def _counts(database_url: str, hub: str) -> tuple[int, int, int]:
    """(readings, distinct batches, distinct (sensor, ts)) stored for the hub."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT seq), count(DISTINCT (sensor, ts))"
            " FROM readings WHERE hub_id = %s",
            (hub,),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def test_a_server_killed_during_steady_publishing_loses_and_repeats_nothing(
    database_url: str, mqtt_url: str
) -> None:
    migrate(database_url)
    hub = unique_hub()
    provision(database_url, hub, f"Mrs Durable {hub}")
    client_id = f"carewatch-durable-{uuid.uuid4().hex[:8]}"
    server = ServerProcess(database_url, mqtt_url, client_id=client_id)
    server.start()
    start = datetime.now(UTC) - timedelta(hours=2)
    published = threading.Event()

    def publish() -> None:
        publisher = Publisher(mqtt_url)
        try:
            for seq in range(1, BATCHES + 1):
                readings = tuple(
                    Reading(
                        f"sensor-{i}",
                        ReadingKind.MOTION,
                        start + timedelta(seconds=seq * READINGS_PER_BATCH + i),
                        1,
                    )
                    for i in range(READINGS_PER_BATCH)
                )
                batch = ReadingsBatch(hub, seq, start + timedelta(seconds=seq * 10), readings)
                publisher.publish(readings_topic(hub), encode(batch))
                time.sleep(0.005)
        finally:
            publisher.close()
            published.set()

    thread = threading.Thread(target=publish, daemon=True)
    thread.start()
    try:
        time.sleep(1.0)
        stored_before_kill = _counts(database_url, hub)[0]
        # A slow database: the server receives batches it cannot commit yet.
        with psycopg.connect(database_url) as blocker:
            blocker.execute("LOCK TABLE reading_batches IN EXCLUSIVE MODE")
            time.sleep(1.0)
            server.kill()
        time.sleep(0.5)
        server.start()
        assert published.wait(60), "publishing did not finish"
        deadline = time.monotonic() + 60
        while _counts(database_url, hub)[0] < BATCHES * READINGS_PER_BATCH:
            assert time.monotonic() < deadline, f"stored {_counts(database_url, hub)}"
            time.sleep(0.2)
        time.sleep(1.0)  # anything stored twice would show by now
    finally:
        server.stop()
        forget_session(mqtt_url, client_id)
    assert 0 < stored_before_kill < BATCHES * READINGS_PER_BATCH, "the kill came mid-stream"
    total = BATCHES * READINGS_PER_BATCH
    assert _counts(database_url, hub) == (total, BATCHES, total)


@pytest.mark.skipif(mosquitto_missing() is not None, reason=str(mosquitto_missing()))
async def test_a_broker_restart_during_load_loses_and_repeats_nothing(
    database_url: str, tmp_path: Path
) -> None:
    hub = unique_hub()
    with plain_broker() as broker:
        settings = ServerSettings(
            http_port=0,
            admin_password=SecretStr(ADMIN_PASSWORD),
            mqtt_client_id=f"carewatch-restart-{uuid.uuid4().hex[:8]}",
        )
        async with CarewatchServer(settings, database_url=database_url, mqtt_url=broker.url):
            provision(database_url, hub, f"Mr Restart {hub}")
            begin = datetime.now(UTC)
            # 600 readings over six seconds, the hub sending them as they happen.
            readings = [
                Reading(
                    f"room{i % 3}-pir",
                    ReadingKind.MOTION,
                    begin + timedelta(milliseconds=10 * i),
                    1,
                )
                for i in range(600)
            ]
            agent = Agent(
                hub_id=hub,
                driver=ScriptedDriver(readings),
                outbox_path=tmp_path / "outbox.sqlite3",
                mqtt_url=broker.url,
                flush=FlushPolicy(max_readings=20, max_delay_s=0.05),
                tick_s=0.01,
            )
            stop = threading.Event()
            agent.start()
            thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
            thread.start()
            try:
                await asyncio.sleep(2.0)
                broker.stop()
                await asyncio.sleep(1.5)
                broker.start()
                deadline = time.monotonic() + 60
                while _counts(database_url, hub)[0] < len(readings):
                    assert time.monotonic() < deadline, f"stored {_counts(database_url, hub)}"
                    await asyncio.sleep(0.2)
                await asyncio.sleep(1.0)
            finally:
                stop.set()
                thread.join(10)
                agent.stop()
    assert _counts(database_url, hub)[0] == len(readings)
    assert _counts(database_url, hub)[2] == len(readings)
    with psycopg.connect(database_url) as conn:
        for sensor in ("room0-pir", "room1-pir", "room2-pir"):
            stored = [
                row[0]
                for row in conn.execute(
                    "SELECT ts FROM readings WHERE hub_id = %s AND sensor = %s ORDER BY seq, ts",
                    (hub, sensor),
                )
            ]
            assert stored == sorted(stored), f"{sensor} arrived out of order"


async def test_an_alarm_is_not_held_up_by_a_backlog_of_readings(
    database_url: str, mqtt_url: str
) -> None:
    hub = unique_hub()
    settings = ServerSettings(
        http_port=0,
        admin_password=SecretStr(ADMIN_PASSWORD),
        mqtt_client_id=f"carewatch-priority-{uuid.uuid4().hex[:8]}",
        writer_max_queued_batches=2,
    )
    async with CarewatchServer(settings, database_url=database_url, mqtt_url=mqtt_url) as server:
        provision(database_url, hub, f"Mrs Priority {hub}")
        now = datetime.now(UTC)
        publisher = Publisher(mqtt_url)
        try:
            with psycopg.connect(database_url) as blocker:
                # The database is stuck on readings: the readings path fills and stops.
                # Taken on a thread: the server shares this event loop, and a transaction
                # of its own on the table (the start-up pruning) must be able to finish.
                await asyncio.to_thread(
                    blocker.execute, "LOCK TABLE reading_batches IN EXCLUSIVE MODE"
                )
                for seq in range(1, 21):
                    reading = Reading("hall-pir", ReadingKind.MOTION, now, 1)
                    batch = ReadingsBatch(hub, seq, now, (reading,))
                    publisher.publish(readings_topic(hub), encode(batch))
                alarm = Alarm(hub, str(uuid.uuid4()), "pendant", AlarmKind.PENDANT, now)
                publisher.publish(alarm_topic(hub), encode(alarm))

                async def emergency() -> bool:
                    async with server.pool.connection() as conn:
                        cursor = await conn.execute(
                            "SELECT count(*) FROM alerts WHERE hub_id = %s AND severity = 'emergency'",
                            (hub,),
                        )
                        row = await cursor.fetchone()
                    return row is not None and row[0] == 1

                await wait_for(emergency, within=10, what="the emergency alert during the backlog")
                assert _counts(database_url, hub)[0] == 0, "readings were still held up"

                # Its receipt-to-commit time is on /metrics, for the service's dashboards.
                async def timed() -> bool:
                    count = server.metrics.registry.get_sample_value(
                        "carewatch_alarm_seconds_count"
                    )
                    return count == 1.0

                await wait_for(timed, within=10, what="the alarm's time on /metrics")
        finally:
            publisher.close()
        forget_session(mqtt_url, settings.mqtt_client_id)

"""A hub that names thousands of sensors cannot make the server remember them all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from edge.protocol import (
    HubState,
    HubStatus,
    Reading,
    ReadingKind,
    ReadingsBatch,
    SensorHealth,
    encode,
    readings_topic,
    status_topic,
)
from server.ingest.sensor_roster import MAX_SENSORS_PER_HUB
from server.jobs.checkpoint_packing import unpack
from server.runtime import CarewatchServer
from tests.server.helpers import Publisher, provision, unique_hub, wait_for


async def test_sensors_past_the_limit_are_refused_and_the_home_state_stays_small(
    server: CarewatchServer, database_url: str, mqtt_url: str
) -> None:
    hub = unique_hub()
    provision(database_url, hub, f"Mrs Many Sensors {hub}")
    now = datetime.now(UTC)
    publisher = Publisher(mqtt_url)
    try:
        # 20 batches of 500 new names each: 10,000 sensors.
        for seq in range(1, 21):
            readings = tuple(
                Reading(f"s{seq}-{i}", ReadingKind.MOTION, now - timedelta(seconds=i), 1.0)
                for i in range(500)
            )
            publisher.publish(readings_topic(hub), encode(ReadingsBatch(hub, seq, now, readings)))
        sensors = tuple(SensorHealth(f"t-{i}", "motion", battery=50.0) for i in range(1000))
        status = HubStatus(hub, HubState.ONLINE, now, sensors=sensors, watermark=now)
        publisher.publish(status_topic(hub), encode(status))
        # A sensor it had before still counts.
        old = (Reading("s1-0", ReadingKind.MOTION, now, 1.0),)
        publisher.publish(readings_topic(hub), encode(ReadingsBatch(hub, 21, now, old)))
    finally:
        publisher.close()

    async def all_handled() -> bool:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM reading_batches WHERE hub_id = %s", (hub,)
            ).fetchone()
        return row is not None and row[0] == 21

    await wait_for(all_handled, what="every batch handled")
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "SELECT count(DISTINCT sensor), count(*) FROM readings WHERE hub_id = %s", (hub,)
        ).fetchone()
        reasons = [
            reason
            for (reason,) in conn.execute(
                "SELECT reason FROM dead_letters WHERE hub_id = %s", (hub,)
            ).fetchall()
        ]
    assert stored == (MAX_SENSORS_PER_HUB, MAX_SENSORS_PER_HUB + 1)
    # Each of the 20 batches (the first once past its 256th name) and the status: one
    # dead letter each, with a reason that says why.
    assert len(reasons) == 21
    assert all(f"named {MAX_SENSORS_PER_HUB} sensors already" in r for r in reasons)
    assert all(len(r) < 400 for r in reasons)
    # What the detectors keep of the home stays within a home's budget (64 KiB).
    keeper = server.detector_keeper
    assert keeper is not None
    await keeper.sync()
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT state FROM detector_state WHERE hub_id = %s", (hub,)).fetchone()
    assert row is not None
    # Both as stored and as the detectors hold it, before packing.
    assert len(row[0]) < len(unpack(bytes(row[0]))) < 64 * 1024, len(row[0])

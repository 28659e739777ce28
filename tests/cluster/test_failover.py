"""Three server processes share the hubs; one is killed with SIGKILL mid-stream.

Nothing is lost or stored twice, no alert is raised twice, and the dead
process's hubs are watched again (their readings stored, their pendants
raised, their detector state saved by the new holder) within 30 s.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from edge.protocol import (
    Alarm,
    AlarmKind,
    HubState,
    HubStatus,
    Reading,
    ReadingKind,
    ReadingsBatch,
    alarm_topic,
    encode,
    readings_topic,
    status_topic,
)
from server.cluster.partitions import partition_of
from server.store.pool import migrate
from tests.cluster.nats_broker import nats_broker, nats_missing
from tests.server.helpers import Publisher, provision, unique_hub
from tests.server.process import ServerProcess

PARTITIONS = 12
HUBS = 24
BATCHES = 60
READINGS_PER_BATCH = 3
# Between two batches of one hub: the whole run takes BATCHES * this.
PACE_S = 0.25
# Where in the run the process is killed.
KILL_AT_BATCH = 20


def _partition_holders(database_url: str) -> dict[int, str]:
    """Partition → the process (its session's application_name) holding its lock."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT l.objid::int, a.application_name FROM pg_locks l"
            " JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
            " AND l.classid::bigint = %s"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (0x63770001,),
        ).fetchall()
    return {int(p): str(name) for p, name in rows}


def _wait(probe: object, what: str, *, within: float) -> float:
    """Poll ``probe`` until true; returns the seconds it took."""
    assert callable(probe)
    began = time.monotonic()
    while not probe():
        if time.monotonic() - began > within:
            raise AssertionError(f"not within {within} s: {what}")
        time.sleep(0.1)
    return time.monotonic() - began


@pytest.mark.slow
@pytest.mark.skipif(
    nats_missing(), reason="nats-server is not installed (apt-get install nats-server)"
)
def test_a_process_killed_mid_stream_loses_repeats_and_doubles_nothing(
    database_url: str, tmp_path: Path
) -> None:
    migrate(database_url)
    hubs = [unique_hub("cl") for _ in range(HUBS)]
    for hub in hubs:
        provision(database_url, hub, f"Resident {hub}")
    with nats_broker(tmp_path, partitions=PARTITIONS) as broker:
        names = [f"carewatch-cluster-{uuid.uuid4().hex[:6]}" for _ in range(3)]
        servers = [
            ServerProcess(
                database_url,
                broker.mqtt_url,
                client_id=name,
                CAREWATCH_CLUSTER_NATS_URL=broker.nats_url,
                CAREWATCH_CLUSTER_PARTITIONS=str(PARTITIONS),
                CAREWATCH_CLUSTER_POLL_S="0.5",
                CAREWATCH_DETECTOR_CHECKPOINT_S="1",
            )
            for name in names
        ]
        try:
            for server in servers:
                server.start()
            # Shares even out: 4 partitions each, on three sessions.
            _wait(
                lambda: (
                    sorted(Counter(_partition_holders(database_url).values()).values()) == [4, 4, 4]
                ),
                "12 partitions shared 4/4/4 by the three processes",
                within=30,
            )
            before = _partition_holders(database_url)

            start = datetime.now(UTC) - timedelta(hours=1)
            half_way = threading.Event()
            errors: list[BaseException] = []

            def publish() -> None:
                publisher = Publisher(broker.mqtt_url)
                try:
                    for seq in range(1, BATCHES + 1):
                        for hub in hubs:
                            readings = tuple(
                                Reading(
                                    f"pir-{i}",
                                    ReadingKind.MOTION,
                                    start + timedelta(seconds=seq * 10 + i),
                                    1,
                                )
                                for i in range(READINGS_PER_BATCH)
                            )
                            publisher.publish(
                                readings_topic(hub),
                                encode(ReadingsBatch(hub, seq, datetime.now(UTC), readings)),
                            )
                            if seq % 4 == 0:
                                now = datetime.now(UTC)
                                publisher.publish(
                                    status_topic(hub),
                                    encode(HubStatus(hub, HubState.ONLINE, now, watermark=now)),
                                )
                        if seq == KILL_AT_BATCH:
                            half_way.set()
                        time.sleep(PACE_S)
                except BaseException as exc:
                    errors.append(exc)
                    half_way.set()
                finally:
                    publisher.close()

            thread = threading.Thread(target=publish, daemon=True)
            thread.start()
            assert half_way.wait(60)

            # The process holding hub 0's partition dies; its partitions move.
            victim_name = before[partition_of(hubs[0], PARTITIONS)]
            victim = servers[names.index(victim_name.removesuffix(" cluster"))]
            moved_partitions = {p for p, name in before.items() if name == victim_name}
            moved = [h for h in hubs if partition_of(h, PARTITIONS) in moved_partitions]
            killed_at = datetime.now(UTC)
            killed = time.monotonic()
            victim.kill()

            relocked = _wait(
                lambda: (
                    len(_partition_holders(database_url)) == PARTITIONS
                    and victim_name not in _partition_holders(database_url).values()
                ),
                "the dead process's partitions held again",
                within=30,
            )
            # A pendant on each moved hub, right after the kill.
            pressed = {hub: str(uuid.uuid4()) for hub in moved}
            presser = Publisher(broker.mqtt_url)
            try:
                for hub, alarm_id in pressed.items():
                    alarm = Alarm(hub, alarm_id, "pendant", AlarmKind.PENDANT, datetime.now(UTC))
                    presser.publish(alarm_topic(hub), encode(alarm))
            finally:
                presser.close()

            def watched_again() -> bool:
                with psycopg.connect(database_url) as conn:
                    row = conn.execute(
                        "SELECT count(DISTINCT hub_id) FROM reading_batches"
                        " WHERE hub_id = ANY(%s) AND received_at > %s",
                        (moved, killed_at),
                    ).fetchone()
                    alerts = conn.execute(
                        "SELECT count(*) FROM alerts a JOIN hubs h ON h.resident_id = a.resident_id"
                        " WHERE h.id = ANY(%s) AND a.kind = 'pendant'",
                        (moved,),
                    ).fetchone()
                assert row is not None
                assert alerts is not None
                return int(row[0]) == len(moved) and int(alerts[0]) == len(moved)

            _wait(watched_again, "moved hubs' readings stored and pendants raised", within=30)
            watched_after = time.monotonic() - killed

            thread.join(120)
            assert not errors, errors

            def all_stored() -> bool:
                with psycopg.connect(database_url) as conn:
                    row = conn.execute(
                        "SELECT count(*) FROM reading_batches WHERE hub_id = ANY(%s)", (hubs,)
                    ).fetchone()
                assert row is not None
                return int(row[0]) == HUBS * BATCHES

            _wait(all_stored, "every batch stored", within=60)
            with psycopg.connect(database_url) as conn:
                per_batch = conn.execute(
                    "SELECT hub_id, seq, count(*) FROM readings WHERE hub_id = ANY(%s)"
                    " GROUP BY hub_id, seq",
                    (hubs,),
                ).fetchall()
                doubled_alerts = conn.execute(
                    "SELECT resident_id, kind, count(*) FROM alerts"
                    " GROUP BY resident_id, kind HAVING count(*) > 1"
                ).fetchall()
                alarms = conn.execute(
                    "SELECT count(*), count(DISTINCT id) FROM alarms WHERE id = ANY(%s)",
                    (list(pressed.values()),),
                ).fetchone()
                saved_by_new_holder = conn.execute(
                    "SELECT count(*) FROM detector_state WHERE hub_id = ANY(%s) AND saved_at > %s",
                    (moved, killed_at),
                ).fetchone()
            # Every (hub, seq) once, each with all its readings, none twice.
            assert len(per_batch) == HUBS * BATCHES
            assert {count for _, _, count in per_batch} == {READINGS_PER_BATCH}
            assert doubled_alerts == []
            assert alarms == (len(moved), len(moved))
            assert saved_by_new_holder is not None
            assert saved_by_new_holder[0] == len(moved)
            assert watched_after < 30
            print(
                f"\nfailover: {len(moved)} hubs on {len(moved_partitions)} partitions; "
                f"locks taken again {relocked:.2f} s after the kill, "
                f"readings stored and pendants raised {watched_after:.2f} s after it"
            )
        finally:
            for server in servers:
                server.stop()

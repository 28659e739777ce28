"""Scale-out: the fleet mix through NATS to several server processes, one killed with SIGKILL.

    .venv/bin/python -m bench.cluster --homes 3000 --processes 3 --seconds 90 --kill-at 40

Runs a private nats-server (JetStream, the MQTT gateway, carewatch's
partition mappings), a fresh database on the machine's PostgreSQL, and
``--processes`` real ``carewatch server`` processes in cluster mode. The hubs
send bench.fleet's mix (a readings message every 30-60 s with 1-5 readings,
a heartbeat a minute, every home starting from a real learned detector
state); a pendant is pressed every ``--alarm-every-s`` on a home of its own.
At ``--kill-at`` seconds the process holding the most partitions is killed
with SIGKILL. Reported:

- raw limits in the same run, before any server starts: NATS's MQTT gateway
  alone (QoS 1, one publisher, one subscriber) and binary COPY;
- offered vs committed readings messages; lost (offered, never stored) and
  doubled (a batch's readings stored more than once);
- failover: kill → its partitions' locks held again; → their homes restored and
  their consumers re-created (resumed); → caught up (each moved partition's
  consumer less than a second of its traffic behind);
- pendant → alert p50/p99 before the kill, in the failover window, and after;
- alerts raised twice for one alarm, or two open alerts of one kind for one resident;
- each process's CPU and RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import nats.js.errors
import psycopg

from bench.fleet import (
    Fleet,
    _sample_batch,
    _seed_states,
    learned_checkpoint,
    raw_broker_rate,
    raw_copy_rate,
)
from bench.ingest import _percentile, press_to_alert_s, provision
from server.cluster.partitions import partition_of
from server.store.pool import migrate
from tests.cluster.nats_broker import nats_broker
from tests.infra import fresh_database
from tests.server.process import ServerProcess

_PARTITION_LOCKS = 0x63770001


def _holders(conn: psycopg.Connection[Any]) -> dict[int, str]:
    rows = conn.execute(
        "SELECT l.objid::int, a.application_name FROM pg_locks l"
        " JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
        " AND l.classid::bigint = %s"
        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        (_PARTITION_LOCKS,),
    ).fetchall()
    return {int(p): str(name).removesuffix(" cluster") for p, name in rows}


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _consumers_caught_up(
    nats_url: str, partitions: set[int], created_after: datetime, *, behind: int = 0
) -> bool:
    """Whether each partition's consumer was made after ``created_after`` and has at most
    ``behind`` messages not yet delivered."""
    nc = await nats.connect(nats_url)
    try:
        jsm = nc.jsm()
        for partition in partitions:
            try:
                info = await jsm.consumer_info("CAREWATCH", f"carewatch-p{partition}")
            except nats.js.errors.NotFoundError:
                return False
            created = datetime.fromisoformat(str(info.created).replace("Z", "+00:00"))
            if created < created_after or (info.num_pending or 0) > behind:
                return False
        return True
    finally:
        await nc.close()


def _ms(values: list[float]) -> dict[str, int | None]:
    if not values:
        return {"n": 0, "p50": None, "p99": None}
    return {
        "n": len(values),
        "p50": round(_percentile(values, 0.5) * 1000),
        "p99": round(_percentile(values, 0.99) * 1000),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    hubs = [f"hub-c{i:06d}" for i in range(args.homes)]
    pendant_hubs = [f"hub-q{i:04d}" for i in range(int(args.seconds / args.alarm_every_s) + 5)]
    state = learned_checkpoint()
    with (
        tempfile.TemporaryDirectory() as scratch,
        nats_broker(Path(scratch), partitions=args.partitions) as broker,
        fresh_database(args.database_url) as database_url,
    ):
        migrate(database_url)
        provision(database_url, hubs + pendant_hubs)
        _seed_states(database_url, hubs, state)
        raw_mqtt = raw_broker_rate(broker.mqtt_url, _sample_batch(hubs[0], 1, random.Random(1)))
        raw_copy = raw_copy_rate(database_url)
        names = [f"carewatch-bench-{n}-{uuid.uuid4().hex[:4]}" for n in range(args.processes)]
        servers = [
            ServerProcess(
                database_url,
                broker.mqtt_url,
                client_id=name,
                log=args.logs / f"{name}.log" if args.logs else None,
                CAREWATCH_CLUSTER_NATS_URL=broker.nats_url,
                CAREWATCH_CLUSTER_PARTITIONS=str(args.partitions),
                CAREWATCH_HUB_CHECK_INTERVAL_S="30",
            )
            for name in names
        ]
        fleet = Fleet(broker.mqtt_url, hubs, pendant_hubs=pendant_hubs, seed=args.seed)
        try:
            began = time.monotonic()
            for server in servers:
                server.start(within=180)
            with psycopg.connect(database_url, autocommit=True) as conn:
                target = -(-args.partitions // args.processes)
                while (
                    len(_holders(conn)) < args.partitions
                    or max(Counter(_holders(conn).values()).values()) > target
                ):
                    time.sleep(0.2)
                shared_s = time.monotonic() - began
                before = _holders(conn)
                cpu0 = {s.pid: _cpu_s(s.pid) for s in servers}
                fleet.start(alarm_every_s=args.alarm_every_s)
                t0 = time.monotonic()
                time.sleep(args.kill_at)

                by_holder = Counter(before.values())
                victim_name = by_holder.most_common(1)[0][0]
                victim = servers[names.index(victim_name)]
                moved = {p for p, name in before.items() if name == victim_name}
                moved_hubs = {h for h in hubs if partition_of(h, args.partitions) in moved}
                victim_cpu = _cpu_s(victim.pid) - cpu0[victim.pid]
                victim_rss = _rss_mb(victim.pid)
                killed_at = datetime.now(UTC)
                killed = time.monotonic()
                victim.kill()
                while victim_name in _holders(conn).values() or len(_holders(conn)) < len(before):
                    time.sleep(0.05)
                relocked_s = time.monotonic() - killed
                # Resumed: each moved partition consumed again (its consumer re-created).
                while not asyncio.run(
                    _consumers_caught_up(
                        broker.nats_url, moved, created_after=killed_at, behind=10**9
                    )
                ):
                    time.sleep(0.2)
                resumed_s = time.monotonic() - killed
                # Caught up: each less than a second of its own traffic behind.
                per_partition_s = (len(hubs) * (1 / 45 + 1 / 60)) / args.partitions
                while (
                    not asyncio.run(
                        _consumers_caught_up(
                            broker.nats_url,
                            moved,
                            created_after=killed_at,
                            behind=max(1, round(per_partition_s)),
                        )
                    )
                    and time.monotonic() - killed < 300
                ):
                    time.sleep(0.2)
                caught_up_s = time.monotonic() - killed
                time.sleep(max(0.0, args.seconds - (time.monotonic() - t0)))
                elapsed = time.monotonic() - t0
                survivors = [s for s in servers if s is not victim]
                cpu = {s.pid: _cpu_s(s.pid) - cpu0[s.pid] for s in survivors}
                rss = {s.pid: _rss_mb(s.pid) for s in survivors}
                after = _holders(conn)
                fleet.join()
                offered = dict(fleet.offered)
                drain_began = time.monotonic()
                committed = 0
                while time.monotonic() - drain_began < 120:
                    row = conn.execute("SELECT count(*) FROM reading_batches").fetchone()
                    committed = int(row[0]) if row else 0
                    if committed >= offered["readings"]:
                        break
                    time.sleep(0.5)
                doubled_batches = conn.execute(
                    "SELECT count(*) FROM reading_batches b WHERE b.readings <>"
                    " (SELECT count(*) FROM readings r WHERE r.hub_id = b.hub_id AND r.seq = b.seq)"
                ).fetchone()
                doubled_alerts = conn.execute(
                    "SELECT count(*) FROM (SELECT details->>'alarm_id' FROM alerts"
                    " WHERE kind = 'pendant' GROUP BY 1 HAVING count(*) > 1) d"
                ).fetchone()
                open_twice = conn.execute(
                    "SELECT count(*) FROM (SELECT 1 FROM alerts WHERE status <> 'resolved'"
                    " GROUP BY resident_id, kind HAVING count(*) > 1) d"
                ).fetchone()
                presses = fleet.presses
                seconds = press_to_alert_s(conn, presses)
                rows = conn.execute(
                    "SELECT details->>'alarm_id', raised_at, hub_id FROM alerts"
                    " WHERE details->>'alarm_id' = ANY(%s)",
                    (list(presses),),
                ).fetchall()
                window_end = killed_at.timestamp() + resumed_s
                phases: dict[str, list[float]] = {"before": [], "failover": [], "after": []}
                for alarm_id, raised, _ in rows:
                    pressed = presses[alarm_id]
                    phase = (
                        "before"
                        if pressed < killed_at
                        else "failover"
                        if pressed.timestamp() < window_end
                        else "after"
                    )
                    phases[phase].append((raised - pressed).total_seconds())
                moved_pendants = sum(
                    1
                    for alarm_id, _, hub in rows
                    if presses[alarm_id] >= killed_at
                    and partition_of(hub, args.partitions) in moved
                )
        finally:
            fleet.stop.set()
            for server in servers:
                server.stop()
    return {
        "homes": args.homes,
        "processes": args.processes,
        "partitions": args.partitions,
        "seconds": round(elapsed),
        "raw_nats_mqtt_qos1_msgs_per_s": round(raw_mqtt),
        "raw_binary_copy_rows_per_s": round(raw_copy),
        "started_and_shared_s": round(shared_s, 1),
        "offered_readings_msgs": offered["readings"],
        "offered_heartbeats": offered["status"],
        "offered_msgs_per_s": round(sum(offered.values()) / elapsed, 1),
        "committed_readings_msgs": committed,
        "lost_readings_msgs": offered["readings"] - committed,
        "batches_stored_more_than_once": int(doubled_batches[0]) if doubled_batches else None,
        "killed_process_partitions": sorted(moved),
        "killed_process_homes": len(moved_hubs),
        "killed_process_cpu_cores_before": round(victim_cpu / args.kill_at, 2),
        "killed_process_rss_mb": round(victim_rss),
        "failover_locks_held_again_s": round(relocked_s, 2),
        "failover_consumers_resumed_s": round(resumed_s, 2),
        "failover_caught_up_within_1s_of_traffic_s": round(caught_up_s, 2),
        "partitions_after": dict(Counter(after.values())),
        "survivors_cpu_cores": [round(c / elapsed, 2) for c in cpu.values()],
        "survivors_rss_mb": [round(r) for r in rss.values()],
        "pendant_presses": len(presses),
        "pendant_alerts": len(seconds),
        "pendant_alerts_on_moved_hubs_after_the_kill": moved_pendants,
        "pendant_to_alert_ms": {phase: _ms(values) for phase, values in phases.items()},
        "pendant_alerts_raised_twice": int(doubled_alerts[0]) if doubled_alerts else None,
        "residents_with_two_open_alerts_of_a_kind": int(open_twice[0]) if open_twice else None,
        "machine": f"{platform.node()} {os.cpu_count()} cores, {platform.python_version()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--homes", type=int, default=3_000)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=90.0, help="from the fleet's start")
    parser.add_argument("--kill-at", type=float, default=40.0, help="seconds into the run")
    parser.add_argument("--alarm-every-s", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "CAREWATCH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server where a fresh database may be made",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--logs", type=Path, help="a directory for each server's output")
    args = parser.parse_args()
    results = run(args)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Ingest benchmark: simulated hubs → Mosquitto → carewatch server → PostgreSQL.

    .venv/bin/python -m bench.ingest                      # defaults below, results to docs/benchmarks.md
    .venv/bin/python -m bench.ingest --seconds 10 --backlog-hubs 1000 --no-write

Runs a private Mosquitto (configured like deploy/mosquitto/mosquitto.conf:
no cap on the server's queue) and a real ``carewatch server`` process on the
machine's PostgreSQL (``--database-url``; a fresh database is made and dropped).
Measures, on this machine:

1. steady ingest: publishers send batches as fast as the server commits them;
   readings/s and messages/s committed, publish→commit latency of probe
   batches (p50/p99), server CPU and RSS;
2. a regional outage ending: ``--backlog-hubs`` hubs each flush an hour of
   readings at once; time to drain, with pendant alarms published during the
   drain and their alarm→alert latency (p50/p99).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

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
from server.embedded._broker import free_port
from server.store.pool import migrate
from tests.infra import fresh_database

ROOT = Path(__file__).resolve().parents[1]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextmanager
def private_broker() -> Iterator[str]:
    """Mosquitto on a free port with the deployment's queue settings."""
    directory = Path(tempfile.mkdtemp(prefix="carewatch-bench-"))
    directory.chmod(0o777)
    port = free_port()
    conf = directory / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\n"
        "max_queued_messages 1000000\nmax_inflight_messages 1000\n"
    )
    process = subprocess.Popen(
        [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    try:
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(directory, ignore_errors=True)


def press_to_alert_s(conn: psycopg.Connection[Any], presses: dict[str, datetime]) -> list[float]:
    """Seconds from each pendant press (alarm id → when it was published) to its alert."""
    rows = conn.execute(
        "SELECT details->>'alarm_id', raised_at FROM alerts WHERE details->>'alarm_id' = ANY(%s)",
        (list(presses),),
    ).fetchall()
    return [(raised - presses[alarm_id]).total_seconds() for alarm_id, raised in rows]


def provision(database_url: str, hubs: list[str]) -> None:
    """Residents and hubs in bulk, straight into the database."""
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        with cur.copy("COPY residents (name) FROM STDIN") as copy:
            for hub in hubs:
                copy.write_row((f"Resident of {hub}",))
        cur.execute("INSERT INTO hubs (id, resident_id) SELECT substr(name, 13), id FROM residents")


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds so far of process ``pid``, user and system (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ServerProcess:
    """``carewatch server`` with CPU and memory read from /proc."""

    def __init__(self, database_url: str, mqtt_url: str, *, ready_within_s: float = 60.0) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "CAREWATCH_DATABASE_URL": database_url,
            "CAREWATCH_MQTT_URL": mqtt_url,
            "CAREWATCH_HTTP_PORT": str(self.port),
            "CAREWATCH_ADMIN_PASSWORD": "bench-admin-password",
            "CAREWATCH_MQTT_CLIENT_ID": f"carewatch-bench-{uuid.uuid4().hex[:6]}",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "server"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + ready_within_s
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                # Not left behind holding the benchmark's database open.
                self.process.kill()
                self.process.wait(10)
                raise RuntimeError(
                    f"the carewatch server was not ready within {ready_within_s:g} s"
                )
            time.sleep(0.2)

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Publisher:
    """One MQTT connection publishing at QoS 1 with many messages in flight."""

    def __init__(self, mqtt_url: str) -> None:
        host, port = mqtt_url.removeprefix("mqtt://").split(":")
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"bench-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv311,
        )
        self.client.max_inflight_messages_set(1000)
        self.client.connect(host, int(port))
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes) -> mqtt.MQTTMessageInfo:
        return self.client.publish(topic, payload, qos=1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _batch(hub: str, seq: int, start: datetime, readings: int, spacing: timedelta) -> bytes:
    rows = tuple(
        Reading(f"room{i % 5}-pir", ReadingKind.MOTION, start + spacing * i, 1.0)
        for i in range(readings)
    )
    return encode(ReadingsBatch(hub, seq, start + spacing * readings, rows))


def _stored(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT coalesce(sum(readings), 0) FROM reading_batches").fetchone()
    return int(row[0]) if row else 0


def steady(
    args: argparse.Namespace, database_url: str, mqtt_url: str, server: ServerProcess
) -> dict[str, float]:
    """Publish as fast as the server keeps up for ``args.seconds``; probe commit latency."""
    hubs = [f"hub-s{i:05d}" for i in range(args.hubs)]
    stop = threading.Event()
    published = [0]

    def publish(offset: int) -> None:
        publisher = Publisher(mqtt_url)
        seq = 0
        start = datetime.now(UTC) - timedelta(hours=1)
        try:
            while not stop.is_set():
                seq += 1
                for hub in hubs[offset :: args.publishers]:
                    info = publisher.publish(
                        readings_topic(hub),
                        _batch(
                            hub, seq, start, args.readings_per_batch, timedelta(milliseconds=10)
                        ),
                    )
                    published[0] += 1
                    if published[0] % 500 == 0:
                        info.wait_for_publish(10)  # keep the broker's queue from running away
                # Stay at most a few seconds ahead of the server: a steady state, not a backlog.
                while (
                    not stop.is_set()
                    and published[0] * args.readings_per_batch - _stored(database_url) > 20_000
                ):
                    time.sleep(0.05)
        finally:
            publisher.close()

    threads = [
        threading.Thread(target=publish, args=(i,), daemon=True) for i in range(args.publishers)
    ]
    for thread in threads:
        thread.start()
    time.sleep(3)  # warm up
    stored0, cpu0, t0 = _stored(database_url), server.cpu_seconds(), time.monotonic()
    latencies: list[float] = []
    probe = Publisher(mqtt_url)
    probe_seq = 0
    while time.monotonic() - t0 < args.seconds:
        probe_seq += 1
        sent = time.monotonic()
        probe.publish(
            readings_topic("hub-probe"),
            _batch("hub-probe", probe_seq, datetime.now(UTC), 1, timedelta(0)),
        )
        with psycopg.connect(database_url) as conn:
            while not conn.execute(
                "SELECT 1 FROM reading_batches WHERE hub_id = 'hub-probe' AND seq = %s",
                (probe_seq,),
            ).fetchone():
                if time.monotonic() - sent > 30:
                    break
                time.sleep(0.002)
        latencies.append(time.monotonic() - sent)
        time.sleep(0.2)
    elapsed = time.monotonic() - t0
    stored1, cpu1 = _stored(database_url), server.cpu_seconds()
    stop.set()
    for thread in threads:
        thread.join(30)
    probe.close()
    readings_per_s = (stored1 - stored0) / elapsed
    return {
        "readings_per_s": readings_per_s,
        "messages_per_s": readings_per_s / args.readings_per_batch,
        "commit_p50_ms": _percentile(latencies, 0.5) * 1000,
        "commit_p99_ms": _percentile(latencies, 0.99) * 1000,
        "server_cpu_cores": (cpu1 - cpu0) / elapsed,
        "server_rss_mb": server.rss_mb(),
    }


def backlog(
    args: argparse.Namespace, database_url: str, mqtt_url: str, server: ServerProcess
) -> dict[str, float]:
    """Every backlog hub flushes an hour of readings at once; alarms go out during the drain."""
    hubs = [f"hub-b{i:05d}" for i in range(args.backlog_hubs)]
    hour_ago = datetime.now(UTC) - timedelta(hours=1, minutes=5)
    payloads = [
        (
            readings_topic(hub),
            _batch(
                hub, 1, hour_ago, args.backlog_readings, timedelta(hours=1) / args.backlog_readings
            ),
        )
        for hub in hubs
    ]
    target = _stored(database_url) + len(hubs) * args.backlog_readings
    alarm_sent: dict[str, float] = {}
    publishers = [Publisher(mqtt_url) for _ in range(args.publishers)]
    done_publishing = threading.Event()

    def flood() -> None:
        for i, (topic, payload) in enumerate(payloads):
            publishers[i % len(publishers)].publish(topic, payload)
        done_publishing.set()

    alarmer = Publisher(mqtt_url)
    t0 = time.monotonic()
    wall0 = time.time()
    threading.Thread(target=flood, daemon=True).start()
    alarm_index = 0
    while _stored(database_url) < target:
        if alarm_index < args.alarm_hubs:
            hub = f"hub-a{alarm_index:03d}"
            alarm = Alarm(hub, str(uuid.uuid4()), "pendant", AlarmKind.PENDANT, datetime.now(UTC))
            alarm_sent[alarm.id] = time.time()
            alarmer.publish(alarm_topic(hub), encode(alarm))
            alarm_index += 1
        time.sleep(0.1)
        if time.monotonic() - t0 > args.timeout:
            raise RuntimeError(f"backlog not drained within {args.timeout} s")
    drain_s = time.monotonic() - t0
    time.sleep(1)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT details->>'alarm_id', extract(epoch FROM raised_at) FROM alerts"
            " WHERE kind = 'pendant'"
        ).fetchall()
    latencies = [
        float(raised) - alarm_sent[alarm_id] for alarm_id, raised in rows if alarm_id in alarm_sent
    ]
    for publisher in (*publishers, alarmer):
        publisher.close()
    del wall0
    return {
        "backlog_readings": float(len(hubs) * args.backlog_readings),
        "drain_s": drain_s,
        "drain_readings_per_s": len(hubs) * args.backlog_readings / drain_s,
        "alarms": float(len(latencies)),
        "alarm_p50_ms": _percentile(latencies, 0.5) * 1000 if latencies else float("nan"),
        "alarm_p99_ms": _percentile(latencies, 0.99) * 1000 if latencies else float("nan"),
        "server_rss_mb_after": server.rss_mb(),
    }


def _machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    return f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "CAREWATCH_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--hubs", type=int, default=500, help="hubs publishing in the steady phase")
    parser.add_argument("--publishers", type=int, default=2, help="publishing connections")
    parser.add_argument("--readings-per-batch", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0, help="steady phase length")
    parser.add_argument("--backlog-hubs", type=int, default=10_000)
    parser.add_argument("--backlog-readings", type=int, default=60, help="readings per hub-hour")
    parser.add_argument(
        "--alarm-hubs", type=int, default=50, help="pendant presses during the drain"
    )
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument(
        "--no-write", action="store_true", help="print only; do not update docs/benchmarks.md"
    )
    args = parser.parse_args()

    with fresh_database(args.database_url) as database_url, private_broker() as mqtt_url:
        migrate(database_url)
        hubs = (
            [f"hub-s{i:05d}" for i in range(args.hubs)]
            + ["hub-probe"]
            + [f"hub-b{i:05d}" for i in range(args.backlog_hubs)]
            + [f"hub-a{i:03d}" for i in range(args.alarm_hubs)]
        )
        provision(database_url, hubs)
        server = ServerProcess(database_url, mqtt_url)
        try:
            print("steady ingest…", flush=True)
            steady_result = steady(args, database_url, mqtt_url, server)
            print(json.dumps(steady_result, indent=2), flush=True)
            print(f"backlog of {args.backlog_hubs} hubs…", flush=True)
            backlog_result = backlog(args, database_url, mqtt_url, server)
            print(json.dumps(backlog_result, indent=2), flush=True)
        finally:
            server.stop()
    if not args.no_write:
        _write(args, steady_result, backlog_result)


def _write(
    args: argparse.Namespace, steady_result: dict[str, float], backlog_result: dict[str, float]
) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    section = (
        f"\n## Ingest, {datetime.now(UTC):%Y-%m-%d}\n\n"
        f"Machine: {_machine()}. Command: `.venv/bin/python -m bench.ingest "
        f"--hubs {args.hubs} --seconds {args.seconds:g} --backlog-hubs {args.backlog_hubs}`.\n"
        "Everything on the one machine: Mosquitto, PostgreSQL 15 (no TimescaleDB), the\n"
        "carewatch server process and the publishers share its cores.\n\n"
        "| steady ingest | |\n| --- | --- |\n"
        f"| readings/s committed | {steady_result['readings_per_s']:,.0f} |\n"
        f"| messages/s committed ({args.readings_per_batch} readings each) | {steady_result['messages_per_s']:,.0f} |\n"
        f"| publish → commit, p50 / p99 | {steady_result['commit_p50_ms']:.0f} ms / {steady_result['commit_p99_ms']:.0f} ms |\n"
        f"| server CPU | {steady_result['server_cpu_cores']:.2f} cores |\n"
        f"| server RSS | {steady_result['server_rss_mb']:.0f} MB |\n\n"
        f"| backlog: {args.backlog_hubs:,} hubs flush an hour each | |\n| --- | --- |\n"
        f"| readings | {backlog_result['backlog_readings']:,.0f} |\n"
        f"| drained in | {backlog_result['drain_s']:.1f} s ({backlog_result['drain_readings_per_s']:,.0f} readings/s) |\n"
        f"| pendant alarms during the drain | {backlog_result['alarms']:.0f} |\n"
        f"| alarm → alert, p50 / p99 | {backlog_result['alarm_p50_ms']:.0f} ms / {backlog_result['alarm_p99_ms']:.0f} ms |\n"
        f"| server RSS after | {backlog_result['server_rss_mb_after']:.0f} MB |\n"
    )
    path.write_text(text + section)
    print(f"results added to {path}")


if __name__ == "__main__":
    main()

"""Fleet mix: many homes' normal traffic through Mosquitto, a carewatch server and PostgreSQL.

    .venv/bin/python -m bench.fleet --homes 1000 --seconds 180
    .venv/bin/python -m bench.fleet --homes 10000 --seconds 180 --json results.json

Real homes are message-heavy, not reading-heavy: each hub here sends a readings
message every 30-60 s carrying 1-5 motion readings, a heartbeat a minute
(four motion sensors and the front door's contact: battery and link; no front door with
``--coverage-storm``, a technical alert from every home), and pendant presses are spread over the run
on homes of their own. Every home starts from a real learned detector state
(two weeks of days, about 17 KiB) put in ``detector_state`` before the server
starts, so restore, checkpoint and memory costs are a learned home's.

Runs a private Mosquitto (as bench.ingest: deployment queue settings) and a real
``carewatch server`` process on the machine's PostgreSQL (a fresh database,
dropped after). Before the server starts it measures, in the same run, the raw
limits it is compared with: Mosquitto's QoS 1 rate for messages of the same
size (one publisher, one subscriber) and PostgreSQL's binary COPY rate for
reading rows. Then it reports, over the measured window (after a warm-up):

- offered messages/s (readings + heartbeats + alarms the broker accepted) and
  committed readings messages/s (from ``reading_batches``);
- lag p50/p99: a readings message's publish time to the server's receipt of it;
- the backlog at the end, and how long it took to drain;
- server CPU (cores) and RSS, and RSS per home; CPU per message handled, the
  server's and its PostgreSQL backends' apart (read from /proc: the same machine);
- where the rest of the machine's cores went: PostgreSQL, Mosquitto, the
  publishers standing in for the hubs (this process), and the machine busy in all;
- checkpoint bytes a minute (states saved in ``detector_state``) and WAL a
  minute (cluster-wide: other databases on the machine add to it);
- pendant press → alert committed, p50/p99; and the server's own histograms over the
  window: an alarm's receipt to its alert committed, and how late its event loop ran
  a timer (``carewatch_alarm_seconds``, ``carewatch_event_loop_lag_seconds``), and its
  full garbage collections' durations (``carewatch_gc_seconds``, generation 2).

With ``--backlog-hubs N``, N more homes come back from an hour's outage early in the
measured window: each flushes the hour's readings at once, in batches of at most
the agent's ``batch_max_readings`` (500), as its outbox would. Pendants are pressed
every 0.2 s on homes of their own while the backlog drains, and reported apart
(the issue's "alarms under 1 s while 10,000 hubs drain an hour's backlog").
"""

from __future__ import annotations

import argparse
import heapq
import json
import multiprocessing
import os
import platform
import queue
import random
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from bench.ingest import (
    Publisher,
    ServerProcess,
    _percentile,
    press_to_alert_s,
    private_broker,
    process_cpu_seconds,
    provision,
)
from edge.protocol import (
    Alarm,
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
from server.detect.watch import HomeWatch
from server.store.pool import migrate
from tests.infra import fresh_database

ROOMS = {
    "kitchen-pir": "kitchen",
    "lounge-pir": "lounge",
    "bedroom-pir": "bedroom",
    "bathroom-pir": "bathroom",
}
# The front door's contact, in every heartbeat's sensor map unless --coverage-storm: a
# home mapped without one raises a technical sensor_coverage alert on its first heartbeat.
FRONT_DOOR = SensorHealth("front-door", "contact", "front_door")
PUBLISHERS = 4
# The hub agent's default batch_max_readings: a backlog leaves the outbox in batches this big.
BACKLOG_BATCH_READINGS = 500
# Pendant presses while a backlog drains: often enough for a p99 over a drain of seconds.
DRAIN_PRESS_EVERY_S = 0.2


def learned_checkpoint(seed: int = 1, days: int = 14) -> bytes:
    """A home after two weeks of days up 07:00-22:00 moving every few minutes, and up now."""
    rng = random.Random(seed)
    watch, hub = HomeWatch(), "hub-learned"
    watch.set_timezone(hub, ZoneInfo("Europe/London"))
    watch.set_sensor_map(hub, ROOMS)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=days)
    for day in range(days):
        t = start + timedelta(days=day, hours=7, minutes=rng.uniform(-20, 20))
        end = start + timedelta(days=day, hours=22, minutes=rng.uniform(-20, 20))
        while t < end:
            watch.observe(hub, Reading(rng.choice(list(ROOMS)), ReadingKind.MOTION, t, 1.0))
            watch.advance(hub, t)
            t += timedelta(minutes=rng.expovariate(1 / 6))
    # And up and about for the last two hours: the run's readings carry on from
    # here. (Seeded silent since last night, half the fleet raised no_movement
    # at once when the run began: 2,502 alerts of 5,000 homes, the consumer
    # behind by 12 s raising them one by one.)
    t, now = datetime.now(UTC) - timedelta(hours=2), datetime.now(UTC)
    while t < now:
        watch.observe(hub, Reading(rng.choice(list(ROOMS)), ReadingKind.MOTION, t, 1.0))
        watch.advance(hub, t)
        t += timedelta(minutes=rng.expovariate(1 / 3))
    return watch.take_checkpoints()[hub]


def _seed_states(database_url: str, hubs: list[str], state: bytes) -> None:
    query = "COPY detector_state (hub_id, state) FROM STDIN (FORMAT BINARY)"
    with psycopg.connect(database_url) as conn, conn.cursor() as cur, cur.copy(query) as copy:
        copy.set_types(["text", "bytea"])
        for hub in hubs:
            copy.write_row((hub, state))


def _sample_batch(hub: str, seq: int, rng: random.Random) -> bytes:
    now = datetime.now(UTC)
    count = rng.randint(1, 5)
    readings = tuple(
        Reading(
            rng.choice(list(ROOMS)),
            ReadingKind.MOTION,
            now - timedelta(seconds=rng.uniform(0, 30)),
            1.0,
        )
        for _ in range(count)
    )
    ordered = tuple(sorted(readings, key=lambda r: r.ts))
    return encode(ReadingsBatch(hub, seq, now, ordered))


def _heartbeat(hub: str, rng: random.Random, started: float, *, front_door: bool) -> bytes:
    now = datetime.now(UTC)
    mapped = [SensorHealth(sensor, "motion", room) for sensor, room in ROOMS.items()] + (
        [FRONT_DOOR] if front_door else []
    )
    sensors = tuple(
        replace(sensor, battery=rng.randint(40, 100), link=rng.randint(60, 200))
        for sensor in mapped
    )
    return encode(
        HubStatus(
            hub,
            HubState.ONLINE,
            now,
            uptime_s=time.monotonic() - started,
            outbox=0,
            firmware="1.0.0",
            sensors=sensors,
            watermark=now,
        )
    )


def raw_broker_rate(mqtt_url: str, payload: bytes, seconds: float = 5.0) -> float:
    """Mosquitto alone: QoS 1 messages a second from one publisher to one subscriber."""
    host, port = mqtt_url.removeprefix("mqtt://").split(":")
    received = [0]
    subscriber = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"raw-sub-{uuid.uuid4().hex[:6]}"
    )
    subscriber.max_inflight_messages_set(1000)
    subscriber.on_message = lambda client, userdata, message: received.__setitem__(
        0, received[0] + 1
    )
    subscriber.connect(host, int(port))
    subscriber.subscribe("bench/raw", qos=1)
    subscriber.loop_start()
    time.sleep(0.5)
    publisher = Publisher(mqtt_url)
    began = time.monotonic()
    sent = 0
    try:
        while time.monotonic() - began < seconds:
            info = publisher.publish("bench/raw", payload)
            sent += 1
            if sent % 500 == 0:
                info.wait_for_publish(10)
        deadline = time.monotonic() + 10
        while received[0] < sent and time.monotonic() < deadline:
            time.sleep(0.01)
        elapsed = time.monotonic() - began
    finally:
        publisher.close()
        subscriber.loop_stop()
        subscriber.disconnect()
    return received[0] / elapsed


def raw_copy_rate(database_url: str, seconds: float = 3.0) -> float:
    """PostgreSQL alone: reading rows a second by binary COPY (each 10,000 rows committed)."""
    rows = 0
    now = datetime.now(UTC)
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE raw_copy (LIKE readings INCLUDING DEFAULTS)")
        conn.commit()
        began = time.monotonic()
        with conn.cursor() as cur:
            while time.monotonic() - began < seconds:
                with cur.copy(
                    "COPY raw_copy (hub_id, seq, sensor, kind, ts, value, received_at)"
                    " FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    copy.set_types(
                        ["text", "int8", "text", "text", "timestamptz", "float8", "timestamptz"]
                    )
                    for i in range(10_000):
                        copy.write_row(
                            (f"hub-{i % 1000}", rows + i, "kitchen-pir", "motion", now, 1.0, now)
                        )
                conn.commit()
                rows += 10_000
        elapsed = time.monotonic() - began
        conn.execute("DROP TABLE raw_copy")
    return rows / elapsed


def press_pendants(
    mqtt_url: str,
    hubs: list[str],
    *,
    every_s: float,
    until: threading.Event,
    presses: dict[str, datetime],
    pressed: Callable[[], None] = lambda: None,
    ready: threading.Event | None = None,
) -> None:
    """One press on each of ``hubs`` in turn, every ``every_s``, until ``until`` is set;
    ``ready`` is set once the presser is connected.

    The presses are made in a process of their own, as a pendant is a device of its
    own: here they would wait for the interpreter behind the fleet's and the
    backlog's publishing threads, and that wait would be counted as the server's.
    (Moved when alarms were slow during a drain, it changed nothing measurable
    there: the server was the cause; docs/benchmarks.md, 2026-12-04.)
    """
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    made: multiprocessing.Queue[tuple[str, datetime]] = context.Queue()
    presser = context.Process(
        target=_press_in_turn, args=(mqtt_url, hubs, every_s, stop, made), daemon=True
    )
    presser.start()
    try:
        while presser.is_alive() or not made.empty():
            if until.is_set():
                stop.set()
            try:
                alarm_id, at = made.get(timeout=0.2)
            except queue.Empty:
                continue
            if not alarm_id:
                if ready is not None:
                    ready.set()
                continue
            presses[alarm_id] = at
            pressed()
    finally:
        stop.set()
        presser.join(30)


def _press_in_turn(
    mqtt_url: str,
    hubs: list[str],
    every_s: float,
    stop: ProcessEvent,
    made: multiprocessing.Queue[tuple[str, datetime]],
) -> None:
    """The presser's process: each press is reported once the broker has it."""
    publisher = Publisher(mqtt_url)
    made.put(("", datetime.now(UTC)))  # connected
    try:
        for hub in hubs:
            if stop.wait(every_s):
                return
            alarm = Alarm(hub, str(uuid.uuid4()), "pendant", AlarmKind.PENDANT, datetime.now(UTC))
            publisher.publish(alarm_topic(hub), encode(alarm)).wait_for_publish(10)
            made.put((alarm.id, alarm.ts))
    finally:
        publisher.close()


class Fleet:
    """Publishers for every home on a few MQTT connections, each on its own schedule."""

    def __init__(
        self,
        mqtt_url: str,
        hubs: list[str],
        *,
        pendant_hubs: list[str],
        seed: int,
        front_door: bool = True,
    ):
        self._mqtt_url = mqtt_url
        self._front_door = front_door
        self._hubs = hubs
        self._pendant_hubs = pendant_hubs
        self._seed = seed
        self.stop = threading.Event()
        self.offered = {"readings": 0, "status": 0, "alarm": 0}
        self.presses: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self, *, alarm_every_s: float) -> None:
        for n in range(PUBLISHERS):
            thread = threading.Thread(target=self._publish, args=(n,), daemon=True)
            thread.start()
            self._threads.append(thread)
        pendants = threading.Thread(target=self._press, args=(alarm_every_s,), daemon=True)
        pendants.start()
        self._threads.append(pendants)

    def join(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(30)

    def _count(self, kind: str) -> None:
        with self._lock:
            self.offered[kind] += 1

    def _publish(self, n: int) -> None:
        rng = random.Random(self._seed * 100 + n)
        started = time.monotonic()
        publisher = Publisher(self._mqtt_url)
        mine = self._hubs[n::PUBLISHERS]
        seqs = dict.fromkeys(mine, 0)
        # (when, kind, hub): first messages spread over the first minute, not all at once.
        due: list[tuple[float, str, str]] = []
        for hub in mine:
            due.append((started + rng.uniform(0, 60), "readings", hub))
            due.append((started + rng.uniform(0, 60), "status", hub))
        heapq.heapify(due)
        sent = 0
        try:
            while not self.stop.is_set() and due:
                when, kind, hub = due[0]
                now = time.monotonic()
                if when > now:
                    self.stop.wait(min(when - now, 0.05))
                    continue
                heapq.heappop(due)
                if kind == "readings":
                    seqs[hub] += 1
                    info = publisher.publish(
                        readings_topic(hub), _sample_batch(hub, seqs[hub], rng)
                    )
                    heapq.heappush(due, (when + rng.uniform(30, 60), kind, hub))
                else:
                    heartbeat = _heartbeat(hub, rng, started, front_door=self._front_door)
                    info = publisher.publish(status_topic(hub), heartbeat)
                    heapq.heappush(due, (when + 60.0, kind, hub))
                self._count(kind)
                sent += 1
                if sent % 200 == 0:
                    info.wait_for_publish(10)
        finally:
            publisher.close()

    def _press(self, every_s: float) -> None:
        press_pendants(
            self._mqtt_url,
            self._pendant_hubs,
            every_s=every_s,
            until=self.stop,
            presses=self.presses,
            pressed=lambda: self._count("alarm"),
        )


def _backlog_batches(hub: str, rng: random.Random, flush_at: datetime) -> list[ReadingsBatch]:
    """The hour before ``flush_at`` as a hub's outbox holds it: readings every 30-60 s, 1-5 each."""
    readings: list[Reading] = []
    t = flush_at - timedelta(hours=1)
    while t < flush_at:
        for _ in range(rng.randint(1, 5)):
            readings.append(Reading(rng.choice(list(ROOMS)), ReadingKind.MOTION, t, 1.0))
        t += timedelta(seconds=rng.uniform(30, 60))
    step = BACKLOG_BATCH_READINGS
    return [
        ReadingsBatch(hub, seq, flush_at, tuple(readings[i : i + step]))
        for seq, i in enumerate(range(0, len(readings), step), start=1)
    ]


class Backlog:
    """Homes back from an outage, each flushing its hour at once; pendants pressed meanwhile."""

    def __init__(
        self, mqtt_url: str, hubs: list[str], pendant_hubs: list[str], *, flush_at: datetime
    ) -> None:
        rng = random.Random(7)
        self._mqtt_url = mqtt_url
        self._pendant_hubs = pendant_hubs
        self.homes = len(hubs)
        batches = [batch for hub in hubs for batch in _backlog_batches(hub, rng, flush_at)]
        self.payloads = [(readings_topic(batch.hub), encode(batch)) for batch in batches]
        self.readings = sum(len(batch.readings) for batch in batches)
        self.presses: dict[str, datetime] = {}
        self.drained = threading.Event()
        self.drain_s: float | None = None

    def flush(self, database_url: str, *, timeout_s: float = 600.0) -> None:
        """Publish every backlog batch; press pendants until all of them are committed."""
        pressing = threading.Event()
        threading.Thread(target=self._press, args=(pressing,), daemon=True).start()
        pressing.wait(60)  # the presses cover the drain from its start
        began = time.monotonic()
        threading.Thread(target=self._flood, daemon=True).start()
        with psycopg.connect(database_url, autocommit=True) as conn:
            while time.monotonic() - began < timeout_s:
                row = conn.execute(
                    "SELECT count(*) FROM reading_batches WHERE hub_id LIKE 'hub-b%'"
                ).fetchone()
                if row is not None and int(row[0]) >= len(self.payloads):
                    self.drain_s = time.monotonic() - began
                    break
                time.sleep(0.25)
        self.drained.set()

    def _flood(self) -> None:
        publishers = [Publisher(self._mqtt_url) for _ in range(2)]
        try:
            for i, (topic, payload) in enumerate(self.payloads):
                info = publishers[i % 2].publish(topic, payload)
                if i % 200 == 199:
                    info.wait_for_publish(60)
            self.drained.wait(600)
        finally:
            for publisher in publishers:
                publisher.close()

    def _press(self, ready: threading.Event) -> None:
        press_pendants(
            self._mqtt_url,
            self._pendant_hubs,
            every_s=DRAIN_PRESS_EVERY_S,
            until=self.drained,
            presses=self.presses,
            ready=ready,
        )


@contextmanager
def _server_env(overrides: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# The fleet's own batches: a backlog's (hub-b…) are counted apart, not as the fleet's lag.
_FLEET_BATCHES = "substr(hub_id, 1, 5) <> 'hub-b'"


def _committed(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(f"SELECT count(*) FROM reading_batches WHERE {_FLEET_BATCHES}").fetchone()
    return int(row[0]) if row else 0


def _backend_cpu(conn: psycopg.Connection[Any]) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend on this database but the bench's own."""
    pids = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid()"
    ).fetchall()
    # One gone meanwhile (a pool's connection past its lifetime) counts 0.
    return {int(pid): process_cpu_seconds(int(pid)) for (pid,) in pids}


def _broker_pids() -> list[int]:
    """The private Mosquitto's process (its configuration is in a carewatch-bench- directory)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"mosquitto" in command and b"carewatch-bench-" in command:
            pids.append(int(entry.name))
    return pids


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy (every core, from /proc/stat)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _buckets(lines: list[str], histogram: str, labels: str = "") -> dict[str, int]:
    """A histogram of a /metrics page: observations at or under each bound, by bound.

    ``labels``: the series' labels before its bound, as the page writes them
    (``generation="2",``).
    """
    prefix = f'{histogram}_bucket{{{labels}le="'
    return {
        line[len(prefix) :].split('"', 1)[0]: round(float(line.rsplit(" ", 1)[1]))
        for line in lines
        if line.startswith(prefix)
    }


def _since(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {bound: count - before.get(bound, 0) for bound, count in after.items()}


@dataclass(frozen=True, slots=True)
class _ServerFigures:
    """What the server's /metrics page says at one moment, read once for all of it."""

    # Messages handled (its carewatch_messages counters, every channel).
    handled: int
    # Alarm receipt to commit, how late the loop ran a timer, full collections' durations.
    alarm_s: dict[str, int]
    loop_lag_s: dict[str, int]
    full_gc_s: dict[str, int]

    @classmethod
    def read(cls, server: ServerProcess) -> _ServerFigures:
        page = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=10).text
        lines = page.splitlines()
        return cls(
            handled=round(
                sum(
                    float(line.rsplit(" ", 1)[1])
                    for line in lines
                    if line.startswith("carewatch_messages_total{")
                )
            ),
            alarm_s=_buckets(lines, "carewatch_alarm_seconds"),
            loop_lag_s=_buckets(lines, "carewatch_event_loop_lag_seconds"),
            full_gc_s=_buckets(lines, "carewatch_gc_seconds", 'generation="2",'),
        )


def _profile(
    server: ServerProcess, path: Path | None, *, seconds: float
) -> subprocess.Popen[bytes] | None:
    """py-spy sampling the server (100 Hz, without pausing it) for ``seconds``, raw stacks to ``path``."""
    if path is None:
        return None
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    command = [spy, "record", "-r", "100", "-d", str(round(seconds)), "--nonblocking"]
    command += ["--format", "raw", "-o", str(path), "-p", str(server.process.pid)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wal_lsn(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
    return int(row[0]) if row else 0


def _progress(
    at_s: float, fleet: Fleet, committed: int, rss_mb: float, backlog: Backlog | None
) -> None:
    """A line on stderr every 10 s: a 10-minute run should not look hung."""
    line = (
        f"{at_s:5.0f} s: {sum(fleet.offered.values())} messages offered, {committed} readings"
        f" messages committed, server RSS peak {rss_mb:.0f} MB"
    )
    if backlog is not None:
        line += ", backlog drained" if backlog.drained.is_set() else ", backlog draining"
    print(line, file=sys.stderr)


def _drain_report(backlog: Backlog, presses: list[float]) -> dict[str, Any]:
    return {
        "backlog_homes": backlog.homes,
        "backlog_readings": backlog.readings,
        "backlog_batches": len(backlog.payloads),
        "backlog_drained_in_s": None if backlog.drain_s is None else round(backlog.drain_s, 1),
        "drain_pendant_presses": len(backlog.presses),
        "drain_pendant_alerts": len(presses),
        "drain_pendant_to_alert_p50_ms": round(_percentile(presses, 0.5) * 1000)
        if presses
        else None,
        "drain_pendant_to_alert_p99_ms": round(_percentile(presses, 0.99) * 1000)
        if presses
        else None,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    hubs = [f"hub-f{i:06d}" for i in range(args.homes)]
    pendant_hubs = [f"hub-p{i:04d}" for i in range(int(args.seconds / args.alarm_every_s) + 5)]
    backlog_hubs = [f"hub-b{i:06d}" for i in range(args.backlog_hubs)]
    # Presses while the backlog drains, each on a home of its own (up to 10 minutes of them).
    drain_pendant_hubs = [f"hub-q{i:04d}" for i in range(3000 if backlog_hubs else 0)]
    state = learned_checkpoint()
    with fresh_database(args.database_url) as database_url, private_broker() as mqtt_url:
        migrate(database_url)
        provision(database_url, hubs + pendant_hubs + backlog_hubs + drain_pendant_hubs)
        _seed_states(database_url, hubs + backlog_hubs, state)
        sample = _sample_batch(hubs[0], 1, random.Random(1))
        raw_mqtt = raw_broker_rate(mqtt_url, sample)
        raw_copy = raw_copy_rate(database_url)
        started = time.monotonic()
        server_env = {"CAREWATCH_HUB_CHECK_INTERVAL_S": "30"}
        if args.findings_one_by_one:
            # The path before findings were batched: each raised inside the consumer.
            server_env["CAREWATCH_FINDINGS_BATCHED"] = "false"
        with _server_env(server_env):
            # A fleet's learned states are restored before ready: 100,000 take minutes here.
            server = ServerProcess(database_url, mqtt_url, ready_within_s=600.0)
        ready_s = time.monotonic() - started
        rss_start = server.rss_mb()
        fleet = Fleet(
            mqtt_url,
            hubs,
            pendant_hubs=pendant_hubs,
            seed=args.seed,
            front_door=not args.coverage_storm,
        )
        backlog: Backlog | None = None
        if backlog_hubs:
            # Their outage ends just into the measured window; the hour is built now, off the clock.
            flush_at = datetime.now(UTC) + timedelta(seconds=args.warmup)
            backlog = Backlog(mqtt_url, backlog_hubs, drain_pendant_hubs, flush_at=flush_at)
            print(
                f"backlog: {len(backlog_hubs)} homes, {backlog.readings} readings in "
                f"{len(backlog.payloads)} batches",
                file=sys.stderr,
            )
        backlog_thread: threading.Thread | None = None
        checkpoint_bytes = 0
        rss_peak = rss_start
        try:
            fleet.start(alarm_every_s=args.alarm_every_s)
            time.sleep(args.warmup)
            with psycopg.connect(database_url, autocommit=True) as conn:
                t0, cpu0 = time.monotonic(), server.cpu_seconds()
                # Where the rest of the 2 cores go: the broker, the publishers standing in
                # for the hubs (this process), everything on the machine.
                broker = _broker_pids()
                broker_cpu0 = sum(process_cpu_seconds(pid) for pid in broker)
                publishers_cpu0, busy0 = process_cpu_seconds(os.getpid()), _machine_busy()
                db_cpu0, figures0 = _backend_cpu(conn), _ServerFigures.read(server)
                profiler = _profile(server, args.profile, seconds=min(30.0, args.seconds))
                db_t0 = conn.execute("SELECT now()").fetchone()
                assert db_t0 is not None
                committed0, wal0 = _committed(conn), _wal_lsn(conn)
                offered0 = dict(fleet.offered)
                last = db_t0[0]
                while time.monotonic() - t0 < args.seconds:
                    time.sleep(10)
                    if backlog is not None and backlog_thread is None:
                        backlog_thread = threading.Thread(
                            target=backlog.flush, args=(database_url,), daemon=True
                        )
                        backlog_thread.start()
                    rss_peak = max(rss_peak, server.rss_mb())
                    _progress(time.monotonic() - t0, fleet, _committed(conn), rss_peak, backlog)
                    row = conn.execute(
                        "SELECT now(), coalesce(sum(octet_length(state)), 0) FROM detector_state"
                        " WHERE saved_at > %s",
                        (last,),
                    ).fetchone()
                    assert row is not None
                    last, written = row
                    checkpoint_bytes += int(written)
                elapsed = time.monotonic() - t0
                cpu = server.cpu_seconds() - cpu0
                broker_cpu = sum(process_cpu_seconds(pid) for pid in broker) - broker_cpu0
                publishers_cpu = process_cpu_seconds(os.getpid()) - publishers_cpu0
                busy = _machine_busy() - busy0
                figures = _ServerFigures.read(server)
                handled = figures.handled - figures0.handled
                # The server's own view: receipt to alert committed, and how late its loop ran.
                alarm_s = _since(figures0.alarm_s, figures.alarm_s)
                loop_lag = _since(figures0.loop_lag_s, figures.loop_lag_s)
                full_gc = _since(figures0.full_gc_s, figures.full_gc_s)
                db_cpu = sum(
                    seconds - db_cpu0.get(pid, 0.0) for pid, seconds in _backend_cpu(conn).items()
                )
                load = Path("/proc/loadavg").read_text().split()[:3]
                if profiler is not None:
                    profiler.wait(60)
                committed1, wal1 = _committed(conn), _wal_lsn(conn)
                offered1 = dict(fleet.offered)
                fleet.join()
                drain_began = time.monotonic()
                total_readings = fleet.offered["readings"]
                while _committed(conn) < total_readings and time.monotonic() - drain_began < 120:
                    time.sleep(0.5)
                drain_s = time.monotonic() - drain_began
                left = total_readings - _committed(conn)
                lags = [
                    float(lag)
                    for (lag,) in conn.execute(
                        "SELECT extract(epoch FROM received_at - sent_at) FROM reading_batches"
                        f" WHERE received_at > %s AND {_FLEET_BATCHES}",
                        (db_t0[0],),
                    ).fetchall()
                ]
                # When the lag happened: p99 per 30 s of receipt, from the start of the warm-up.
                lag_by_30s = [
                    (int(bucket), round(float(p99), 1))
                    for bucket, p99 in conn.execute(
                        "SELECT floor(extract(epoch FROM received_at - %s) / 30),"
                        " percentile_cont(0.99) WITHIN GROUP"
                        " (ORDER BY extract(epoch FROM received_at - sent_at))"
                        f" FROM reading_batches WHERE {_FLEET_BATCHES} GROUP BY 1 ORDER BY 1",
                        (db_t0[0] - timedelta(seconds=args.warmup),),
                    ).fetchall()
                ]
                alerts: dict[str, int] = {
                    str(kind): int(count)
                    for kind, count in conn.execute(
                        "SELECT kind, count(*) FROM alerts GROUP BY kind"
                    ).fetchall()
                }
                presses = press_to_alert_s(conn, fleet.presses)
                if backlog_thread is not None:
                    backlog_thread.join(600)
                drain_presses = (
                    press_to_alert_s(conn, backlog.presses) if backlog is not None else []
                )
        finally:
            fleet.stop.set()
            server.stop()
    minutes = elapsed / 60
    offered = {k: (offered1[k] - offered0[k]) / elapsed for k in offered0}
    return {
        "homes": args.homes,
        "findings": "one by one, in the consumer" if args.findings_one_by_one else "batched",
        "sensor_map": "no front door (coverage storm)" if args.coverage_storm else "full",
        "seconds": round(elapsed),
        "raw_mosquitto_qos1_msgs_per_s": round(raw_mqtt),
        "raw_binary_copy_rows_per_s": round(raw_copy),
        "server_ready_s": round(ready_s, 1),
        "offered_msgs_per_s": round(sum(offered.values()), 1),
        "offered_readings_msgs_per_s": round(offered["readings"], 1),
        "offered_heartbeats_per_s": round(offered["status"], 1),
        "committed_readings_msgs_per_s": round((committed1 - committed0) / elapsed, 1),
        "lag_p50_s": round(_percentile(lags, 0.5), 3) if lags else None,
        "lag_p99_s": round(_percentile(lags, 0.99), 3) if lags else None,
        "backlog_at_end_msgs": left,
        "drained_in_s": round(drain_s, 1),
        "server_cpu_cores": round(cpu / elapsed, 2),
        "messages_handled_per_s": round(handled / elapsed, 1),
        "server_cpu_ms_per_message": round(cpu * 1000 / handled, 3) if handled else None,
        "postgres_cpu_ms_per_message": round(db_cpu * 1000 / handled, 3) if handled else None,
        "postgres_cpu_cores": round(db_cpu / elapsed, 2),
        "broker_cpu_cores": round(broker_cpu / elapsed, 2),
        "publishers_cpu_cores": round(publishers_cpu / elapsed, 2),
        "machine_busy_cores": round(busy / elapsed, 2),
        "load_average_at_end": " ".join(load),
        "server_rss_mb_start": round(rss_start),
        "server_rss_mb_peak": round(rss_peak),
        "server_rss_kib_per_home": round(rss_peak * 1024 / args.homes, 1),
        "checkpoint_mb_per_min": round(checkpoint_bytes / 1e6 / minutes, 1),
        "wal_mb_per_min_cluster": round((wal1 - wal0) / 1e6 / minutes, 1),
        "lag_p99_s_by_30s_from_warmup": lag_by_30s,
        "alerts_by_kind": alerts,
        "pendant_presses": len(fleet.presses),
        "pendant_alerts": len(presses),
        "pendant_to_alert_p50_ms": round(_percentile(presses, 0.5) * 1000) if presses else None,
        "pendant_to_alert_p99_ms": round(_percentile(presses, 0.99) * 1000) if presses else None,
        "broker_ratio": round(sum(offered.values()) / raw_mqtt, 3),
        "server_alarm_receipt_to_commit_s_at_or_under": alarm_s,
        "server_loop_lag_s_at_or_under": loop_lag,
        "server_full_gc_s_at_or_under": full_gc,
        **({} if backlog is None else _drain_report(backlog, drain_presses)),
        "machine": f"{platform.node()} {os.cpu_count()} cores, {platform.python_version()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--homes", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=180.0, help="measured, after the warm-up")
    parser.add_argument("--warmup", type=float, default=60.0)
    parser.add_argument("--alarm-every-s", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--backlog-hubs",
        type=int,
        default=0,
        help="this many more homes flush an hour's backlog 10 s into the measured window",
    )
    parser.add_argument(
        "--findings-one-by-one",
        action="store_true",
        help="raise each finding inside the consumer (the old path), to compare with batching",
    )
    parser.add_argument(
        "--coverage-storm",
        action="store_true",
        help="map no front-door sensor, so every home's first heartbeat raises a technical "
        "sensor_coverage alert: a storm in the warm-up, as when a council imports a fleet with "
        "incomplete maps (by default each home's map has its front door and raises none)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "CAREWATCH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server where a fresh database may be made",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy (in the venv) samples the server for the measured window's first 30 s, "
        "raw stacks written here (bench/profile_summary.py sums them)",
    )
    args = parser.parse_args()
    result = run(args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()

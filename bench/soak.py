"""Soak: a fleet's normal traffic, every kind of bad input, live streams and a login flood,
while a pendant is pressed every 10 s on another home.

    .venv/bin/python -m bench.soak                    # 10 minutes, 1,000 hubs (docs/benchmarks.md)
    .venv/bin/python -m bench.soak --seconds 60 --hubs 200

Runs a private Mosquitto and a real ``carewatch server`` process on the
machine's PostgreSQL (a fresh database, dropped after), like bench.ingest.
What it checks, and prints as JSON:

- every pendant press becomes an alert (alarm → alert p50/p99/max, from the
  hub's press time to the server's commit of the alert), each resolved by a
  responder so the next press raises a new one;
- every good reading is stored exactly once;
- every bad input is dead-lettered with a reason (counted per kind, each kind
  from a hub of its own);
- the server's memory (RSS sampled every 5 s) stays bounded.

The test ``tests/server/test_soak.py`` (``-m slow``) runs it and asserts the
targets; ``CAREWATCH_SOAK_SECONDS`` shortens it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg

from bench.ingest import (
    Publisher,
    ServerProcess,
    _percentile,
    press_to_alert_s,
    private_broker,
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
    alarm_topic,
    encode,
    format_timestamp,
    readings_topic,
    status_topic,
)
from server.store.pool import migrate
from tests.infra import fresh_database

ADMIN_PASSWORD = "bench-admin-password"
PENDANT_HUB = "hub-soak-pendant"


def _now() -> str:
    return format_timestamp(datetime.now(UTC))


def _readings_json(hub: str, seq: int, readings: list[dict[str, Any]]) -> bytes:
    body = {"v": 1, "hub": hub, "seq": seq, "sent_at": _now(), "readings": readings}
    return json.dumps(body).encode()


def _motion(ts: str) -> dict[str, Any]:
    return {"sensor": "hall-pir", "kind": "motion", "ts": ts, "value": 1}


# Each bad input: (topic, payload) for a hub of its own; every one must become a dead letter.
BadInput = Callable[[str, int], tuple[str, bytes]]


def _seq_past_bigint(hub: str, n: int) -> tuple[str, bytes]:
    return readings_topic(hub), _readings_json(hub, 2**63 + n, [_motion(_now())])


def _deeply_nested(hub: str, n: int) -> tuple[str, bytes]:
    return alarm_topic(hub), b'{"v": 1, "hub": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"


def _huge_integer(hub: str, n: int) -> tuple[str, bytes]:
    return readings_topic(hub), (
        b'{"v": 1, "hub": "' + hub.encode() + b'", "seq": ' + b"9" * 5000 + b"}"
    )


def _year_9999(hub: str, n: int) -> tuple[str, bytes]:
    return readings_topic(hub), _readings_json(hub, n, [_motion("9999-12-31T23:59:59-01:00")])


def _day_ahead(hub: str, n: int) -> tuple[str, bytes]:
    ahead = format_timestamp(datetime.now(UTC) + timedelta(hours=23))
    return readings_topic(hub), _readings_json(hub, n, [_motion(ahead)])


def _year_1(hub: str, n: int) -> tuple[str, bytes]:
    return readings_topic(hub), _readings_json(hub, n, [_motion("0001-01-01T00:00:00+01:00")])


def _nan_value(hub: str, n: int) -> tuple[str, bytes]:
    reading = {"sensor": "hall-pir", "kind": "motion", "ts": _now(), "value": float("nan")}
    return readings_topic(hub), _readings_json(hub, n, [reading])


def _newline_sensor(hub: str, n: int) -> tuple[str, bytes]:
    reading = {"sensor": "hall-pir\n", "kind": "motion", "ts": _now(), "value": 1}
    return readings_topic(hub), _readings_json(hub, n, [reading])


def _not_json(hub: str, n: int) -> tuple[str, bytes]:
    return readings_topic(hub), b"\xff\xfe not json"


def _unknown_hub(hub: str, n: int) -> tuple[str, bytes]:
    return readings_topic(hub), _readings_json(hub, n, [_motion(_now())])


BAD_INPUTS: dict[str, BadInput] = {
    "seq_past_bigint": _seq_past_bigint,
    "deeply_nested": _deeply_nested,
    "huge_integer": _huge_integer,
    "year_9999": _year_9999,
    "year_1": _year_1,
    "day_ahead": _day_ahead,
    "nan_value": _nan_value,
    "newline_sensor": _newline_sensor,
    "not_json": _not_json,
    "unknown_hub": _unknown_hub,
}


@dataclass
class Tally:
    """What the load sent, shared between threads (each counter has one writer)."""

    good_readings: int = 0
    good_batches: int = 0
    bad: Counter[str] = field(default_factory=Counter)
    presses: dict[str, datetime] = field(default_factory=dict)
    unresolved_presses: list[str] = field(default_factory=list)
    logins: Counter[int] = field(default_factory=Counter)
    stream_events: int = 0
    streams_open: int = 0
    rss_mb: list[tuple[float, float]] = field(default_factory=list)


def _fleet(
    mqtt_url: str, hubs: list[str], interval_s: float, stop: threading.Event, tally: Tally
) -> None:
    """Each hub: a batch of 1-4 readings every ``interval_s``, a heartbeat every minute."""
    publisher = Publisher(mqtt_url)
    rng = random.Random(7)
    seq = dict.fromkeys(hubs, 0)
    next_heartbeat = 0.0
    try:
        while not stop.is_set():
            round_start = time.monotonic()
            now = datetime.now(UTC)
            for hub in hubs:
                seq[hub] += 1
                count = rng.randint(1, 4)
                readings = tuple(
                    Reading(
                        rng.choice(("hall-pir", "kitchen-pir", "lounge-pir")),
                        ReadingKind.MOTION,
                        now - timedelta(seconds=count - i),
                        1.0,
                    )
                    for i in range(count)
                )
                publisher.publish(
                    readings_topic(hub), encode(ReadingsBatch(hub, seq[hub], now, readings))
                )
                tally.good_readings += count
                tally.good_batches += 1
            if round_start >= next_heartbeat:
                for hub in hubs:
                    status = HubStatus(
                        hub, HubState.ONLINE, now, uptime_s=60.0, outbox=0, watermark=now
                    )
                    publisher.publish(status_topic(hub), encode(status))
                next_heartbeat = round_start + 60
            stop.wait(max(0.0, interval_s - (time.monotonic() - round_start)))
    finally:
        publisher.close()


def _bad_inputs(mqtt_url: str, per_second: float, stop: threading.Event, tally: Tally) -> None:
    """Every kind in turn, each from a hub of its own."""
    publisher = Publisher(mqtt_url)
    kinds = list(BAD_INPUTS)
    n = 0
    try:
        while not stop.is_set():
            kind = kinds[n % len(kinds)]
            hub = f"hub-soak-bad-{kind.replace('_', '-')}"
            topic, payload = BAD_INPUTS[kind](hub, n)
            publisher.publish(topic, payload).wait_for_publish(10)
            tally.bad[kind] += 1
            n += 1
            stop.wait(1 / per_second)
    finally:
        publisher.close()


def _pendants(
    mqtt_url: str,
    database_url: str,
    api: httpx.Client,
    every_s: float,
    stop: threading.Event,
    tally: Tally,
) -> None:
    """Press, wait for the emergency, resolve it as a responder would; again every ``every_s``."""
    publisher = Publisher(mqtt_url)
    try:
        while not stop.is_set():
            started = time.monotonic()
            alarm = Alarm(
                PENDANT_HUB, str(uuid.uuid4()), "pendant", AlarmKind.PENDANT, datetime.now(UTC)
            )
            publisher.publish(alarm_topic(PENDANT_HUB), encode(alarm)).wait_for_publish(10)
            tally.presses[alarm.id] = alarm.ts
            alert = None
            with psycopg.connect(database_url, autocommit=True) as conn:
                while alert is None and time.monotonic() - started < 30:
                    row = conn.execute(
                        "SELECT id FROM alerts WHERE details->>'alarm_id' = %s", (alarm.id,)
                    ).fetchone()
                    alert = row[0] if row else None
                    if alert is None:
                        time.sleep(0.02)
                if alert is None:
                    tally.unresolved_presses.append(alarm.id)
                else:
                    # A responder closes it, so the next press raises a new emergency.
                    api.post(f"/api/v1/alerts/{alert}/resolve", json={"outcome": "resolved_ok"})
            stop.wait(max(0.0, every_s - (time.monotonic() - started)))
    finally:
        publisher.close()


async def _http_load(
    base_url: str,
    token: str,
    streams: int,
    logins_per_s: float,
    stop: threading.Event,
    tally: Tally,
) -> None:
    """Live streams held open by an admin, and wrong passwords flooding sign-in."""
    limits = httpx.Limits(max_connections=streams + 50, max_keepalive_connections=streams + 50)
    timeout = httpx.Timeout(30, read=None)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as client:
        headers = {"Authorization": f"Bearer {token}"}

        async def stream() -> None:
            try:
                async with client.stream("GET", "/api/v1/alerts/stream", headers=headers) as live:
                    tally.streams_open += 1
                    async for _ in live.aiter_lines():
                        tally.stream_events += 1
                        if stop.is_set():
                            break
            except httpx.HTTPError:
                pass

        async def login_flood() -> None:
            n = 0
            while not stop.is_set():
                username = "admin" if n % 2 else f"nobody-{n}"
                try:
                    answer = await client.post(
                        "/api/v1/auth/token", data={"username": username, "password": "wrong"}
                    )
                    tally.logins[answer.status_code] += 1
                except httpx.HTTPError:
                    tally.logins[0] += 1
                n += 1
                await asyncio.sleep(1 / logins_per_s)

        tasks = [asyncio.create_task(stream()) for _ in range(streams)]
        tasks.append(asyncio.create_task(login_flood()))
        # The stop flag is a thread's, not the loop's: wait for it in a thread.
        await asyncio.to_thread(stop.wait)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _stored_good(conn: psycopg.Connection[Any], hubs: list[str]) -> tuple[int, int]:
    row = conn.execute(
        "SELECT count(*), count(DISTINCT (hub_id, seq, sensor, ts)) FROM readings WHERE hub_id = ANY(%s)",
        (hubs,),
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def run(
    *,
    seconds: float,
    hubs: int,
    interval_s: float,
    streams: int,
    logins_per_s: float,
    bad_per_s: float,
) -> dict[str, Any]:
    """The whole soak; returns the figures."""
    fleet = [f"hub-soak-{i:05d}" for i in range(hubs)]
    bad_hubs = [f"hub-soak-bad-{k.replace('_', '-')}" for k in BAD_INPUTS if k != "unknown_hub"]
    tally = Tally()
    with (
        fresh_database("postgresql://127.0.0.1:5432/postgres") as database_url,
        private_broker() as mqtt_url,
    ):
        migrate(database_url)
        provision(database_url, [*fleet, *bad_hubs, PENDANT_HUB])
        server = ServerProcess(database_url, mqtt_url)
        base_url = f"http://127.0.0.1:{server.port}"
        # Signed in before the flood: the flood's wrong passwords for admin lock sign-in.
        api = httpx.Client(base_url=base_url, timeout=30)
        answer = api.post(
            "/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD}
        )
        answer.raise_for_status()
        token = answer.json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        try:
            stop = threading.Event()
            shards = 4
            threads = [
                threading.Thread(
                    target=_fleet,
                    args=(mqtt_url, fleet[i::shards], interval_s, stop, tally),
                    daemon=True,
                )
                for i in range(shards)
            ]
            threads.append(
                threading.Thread(
                    target=_bad_inputs, args=(mqtt_url, bad_per_s, stop, tally), daemon=True
                )
            )
            threads.append(
                threading.Thread(
                    target=_pendants,
                    args=(mqtt_url, database_url, api, 10.0, stop, tally),
                    daemon=True,
                )
            )
            http = threading.Thread(
                target=lambda: asyncio.run(
                    _http_load(base_url, token, streams, logins_per_s, stop, tally)
                ),
                daemon=True,
            )
            threads.append(http)
            started = time.monotonic()
            for thread in threads:
                thread.start()
            while time.monotonic() - started < seconds:
                tally.rss_mb.append((time.monotonic() - started, server.rss_mb()))
                elapsed = time.monotonic() - started
                print(
                    f"soak: {elapsed:4.0f}/{seconds:.0f} s, {tally.good_batches} batches, "
                    f"{sum(tally.bad.values())} bad, {len(tally.presses)} presses, "
                    f"{tally.streams_open} streams, RSS {tally.rss_mb[-1][1]:.0f} MB",
                    flush=True,
                )
                time.sleep(5)
            stop.set()
            for thread in threads:
                thread.join(60)
            # Let the server commit what it has taken.
            with psycopg.connect(database_url, autocommit=True) as conn:
                deadline = time.monotonic() + 120
                while (
                    _stored_good(conn, fleet)[0] < tally.good_readings
                    and time.monotonic() < deadline
                ):
                    time.sleep(0.5)
                time.sleep(2)
                stored, distinct = _stored_good(conn, fleet)
                letters: dict[str, int] = dict(
                    conn.execute(
                        "SELECT hub_id, count(*) FROM dead_letters GROUP BY hub_id"
                    ).fetchall()
                )
                empty_reasons = conn.execute(
                    "SELECT count(*) FROM dead_letters WHERE coalesce(reason, '') = ''"
                ).fetchone()
                latencies = press_to_alert_s(conn, tally.presses)
            ready = api.get("/readyz").status_code
        finally:
            api.close()
            server.stop()
    half = len(tally.rss_mb) // 2
    dead_lettered = {
        kind: letters.get(f"hub-soak-bad-{kind.replace('_', '-')}", 0) for kind in BAD_INPUTS
    }
    return {
        "seconds": seconds,
        "hubs": hubs,
        "batch_interval_s": interval_s,
        "good_batches": tally.good_batches,
        "good_readings_sent": tally.good_readings,
        "good_readings_stored": stored,
        "good_readings_stored_distinct": distinct,
        "bad_sent": dict(tally.bad),
        "bad_dead_lettered": dead_lettered,
        "dead_letters_without_reason": int(empty_reasons[0]) if empty_reasons else 0,
        "presses": len(tally.presses),
        "presses_without_alert": len(tally.presses) - len(latencies),
        "alarm_to_alert_p50_ms": _percentile(latencies, 0.5) * 1000 if latencies else None,
        "alarm_to_alert_p99_ms": _percentile(latencies, 0.99) * 1000 if latencies else None,
        "alarm_to_alert_max_ms": max(latencies) * 1000 if latencies else None,
        "live_streams_opened": tally.streams_open,
        "live_stream_lines": tally.stream_events,
        "login_answers": {str(k): v for k, v in sorted(tally.logins.items())},
        "rss_mb_first_half_max": max((r for _, r in tally.rss_mb[:half]), default=0.0),
        "rss_mb_second_half_max": max((r for _, r in tally.rss_mb[half:]), default=0.0),
        "readyz_after": ready,
    }


def main() -> None:
    """Run the soak and print its figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--hubs", type=int, default=1000)
    parser.add_argument(
        "--interval", type=float, default=10.0, help="seconds between a hub's batches"
    )
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--logins-per-s", type=float, default=20.0)
    parser.add_argument("--bad-per-s", type=float, default=5.0)
    args = parser.parse_args()
    figures = run(
        seconds=args.seconds,
        hubs=args.hubs,
        interval_s=args.interval,
        streams=args.streams,
        logins_per_s=args.logins_per_s,
        bad_per_s=args.bad_per_s,
    )
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

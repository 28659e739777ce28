"""A flood of malformed messages among good ones: every bad one dead-lettered with a reason,
every good one stored, the service up, and the dead letters listed for an admin only."""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from edge.protocol import Reading, ReadingKind, ReadingsBatch, encode, readings_topic
from server.passwords import hash_password
from server.runtime import CarewatchServer
from tests.server.helpers import Publisher, provision, unique_hub, wait_for

Mutation = Callable[[random.Random, str, dict[str, object]], tuple[str, bytes]]


def _truncated(rng: random.Random, hub: str, good: dict[str, object]) -> tuple[str, bytes]:
    text = json.dumps(good).encode()
    return readings_topic(hub), text[: rng.randrange(1, len(text) - 1)]


def _not_utf8(rng: random.Random, hub: str, good: dict[str, object]) -> tuple[str, bytes]:
    return readings_topic(hub), b"\xff\xfe" + rng.randbytes(rng.randrange(0, 50))


def _missing_field(rng: random.Random, hub: str, good: dict[str, object]) -> tuple[str, bytes]:
    document = dict(good)
    del document[rng.choice(["hub", "seq", "sent_at", "readings", "v"])]
    return readings_topic(hub), json.dumps(document).encode()


def _wrong_type(rng: random.Random, hub: str, good: dict[str, object]) -> tuple[str, bytes]:
    field = rng.choice(["seq", "sent_at", "readings"])
    return readings_topic(hub), json.dumps(
        {**good, field: {"seq": "7", "sent_at": 5, "readings": "x"}[field]}
    ).encode()


def _unknown_kind(rng: random.Random, hub: str, good: dict[str, object]) -> tuple[str, bytes]:
    readings = [dict(r) for r in good["readings"]]  # type: ignore[attr-defined]
    readings[0]["kind"] = rng.choice(["teleport", "", "MOTION", "smell"])
    return readings_topic(hub), json.dumps({**good, "readings": readings}).encode()


def _absurd_time(rng: random.Random, hub: str, good: dict[str, object]) -> tuple[str, bytes]:
    readings = [dict(r) for r in good["readings"]]  # type: ignore[attr-defined]
    readings[0]["ts"] = rng.choice(["2999-01-01T00:00:00Z", "yesterday", "2026-13-45T99:00:00Z"])
    # A reading ahead is split off and its batch goes on (empty): a seq of its own,
    # or the good batch sent with the same seq would be taken for a redelivery.
    seq = good["seq"] + 1_000_000  # type: ignore[operator]
    return readings_topic(hub), json.dumps({**good, "seq": seq, "readings": readings}).encode()


def _other_hub(rng: random.Random, hub: str, good: dict[str, object]) -> tuple[str, bytes]:
    return readings_topic(hub), json.dumps({**good, "hub": "hub-someone-else"}).encode()


def _unprovisioned(rng: random.Random, hub: str, good: dict[str, object]) -> tuple[str, bytes]:
    stranger = f"hub-stranger-{rng.randrange(10**6)}"
    return readings_topic(stranger), json.dumps({**good, "hub": stranger}).encode()


def _oversized(rng: random.Random, hub: str, good: dict[str, object]) -> tuple[str, bytes]:
    return readings_topic(hub), b'{"pad": "' + b"x" * (260 * 1024) + b'"}'


MUTATIONS: list[Mutation] = [
    _truncated,
    _not_utf8,
    _missing_field,
    _wrong_type,
    _unknown_kind,
    _absurd_time,
    _other_hub,
    _unprovisioned,
]


_FLOOD = "topic LIKE '%%/readings'"


async def _caught_up(database_url: str, dead: int) -> bool:
    return _count(database_url, f"SELECT count(*) FROM dead_letters WHERE {_FLOOD}") >= dead


def _count(database_url: str, query: str, *args: object) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(query.encode(), args).fetchone()
    assert row is not None
    return int(row[0])


async def _flood(
    server: CarewatchServer, database_url: str, mqtt_url: str, *, bad: int, good_every: int
) -> None:
    rng = random.Random(20261124)
    hub = unique_hub()
    provision(database_url, hub, f"Mrs Flood {hub}")
    now = datetime.now(UTC)
    publisher = Publisher(mqtt_url)
    good_batches = 0
    try:
        for i in range(bad):
            seq = i + 1
            reading = Reading("hall-pir", ReadingKind.MOTION, now - timedelta(seconds=i), 1)
            good = json.loads(encode(ReadingsBatch(hub, seq, now, (reading,))))
            mutation = _oversized if i % 500 == 0 else rng.choice(MUTATIONS)
            topic, payload = mutation(rng, hub, good)
            publisher.publish(topic, payload)
            if i % good_every == 0:
                publisher.publish(readings_topic(hub), json.dumps(good).encode())
                good_batches += 1
            if i % 200 == 199:
                # Stay within what a default Mosquitto queues for one session (1,000
                # messages); beyond it the broker, not carewatch, drops them.
                await wait_for(
                    functools.partial(_caught_up, database_url, i + 1),
                    within=60,
                    what="the server to catch up",
                )
    finally:
        publisher.close()

    await wait_for(lambda: _caught_up(database_url, bad), within=60, what=f"{bad} dead letters")

    async def stored() -> bool:
        query = "SELECT count(*) FROM readings WHERE hub_id = %s"
        return _count(database_url, query, hub) >= good_batches

    await wait_for(stored, within=60, what=f"{good_batches} good batches stored")
    # Only the flood's topics: a shared broker also hands over other tests' retained statuses.
    assert _count(database_url, f"SELECT count(*) FROM dead_letters WHERE {_FLOOD}") == bad
    assert _count(database_url, "SELECT count(*) FROM dead_letters WHERE reason = ''") == 0
    assert (
        _count(database_url, "SELECT count(*) FROM readings WHERE hub_id = %s", hub) == good_batches
    )
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as client:
        assert (await client.get("/readyz")).status_code == 200
        page = (await client.get("/metrics")).text
    samples = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in page.splitlines()
        if line and not line.startswith("#")
    }
    assert samples['carewatch_dead_letters_total{reason="unprovisioned"}'] >= bad / 10
    assert samples['carewatch_dead_letters_total{reason="too_large"}'] >= 1
    assert samples["carewatch_readings_stored_total"] >= good_batches
    assert samples['carewatch_broker_connected{session="readings"}'] == 1
    assert samples['carewatch_broker_connected{session="alarms"}'] == 1
    assert samples["carewatch_ingest_lag_seconds_count"] >= good_batches
    assert hub not in page, "no hub ids in the metrics"


async def test_malformed_messages_are_dead_lettered_and_good_ones_stored(
    server: CarewatchServer, api: httpx.AsyncClient, database_url: str, mqtt_url: str
) -> None:
    await _flood(server, database_url, mqtt_url, bad=1_000, good_every=5)
    page = (await api.get("/api/v1/dead-letters", params={"limit": 50})).json()
    assert len(page) == 50
    assert all(letter["reason"] for letter in page)
    older = (
        await api.get("/api/v1/dead-letters", params={"limit": 50, "before_id": page[-1]["id"]})
    ).json()
    assert older[0]["id"] < page[-1]["id"]
    payload_problems = (
        await api.get("/api/v1/dead-letters", params={"reason": "payload is", "limit": 1000})
    ).json()
    assert all(letter["reason"].startswith("payload is") for letter in payload_problems)
    oversized = [letter for letter in payload_problems if "byte limit" in letter["reason"]]
    assert len(oversized) == 2  # one in every 500
    assert all(letter["payload_size"] > 256 * 1024 for letter in oversized)
    assert all(len(letter["payload"]) <= 2048 for letter in oversized)


@pytest.mark.slow
async def test_ten_thousand_malformed_messages(
    server: CarewatchServer, database_url: str, mqtt_url: str
) -> None:
    await _flood(server, database_url, mqtt_url, bad=10_000, good_every=5)


async def test_only_an_admin_lists_dead_letters(server: CarewatchServer, database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO users (username, password_hash, role) VALUES ('rita', %s, 'responder')",
            (hash_password("rita-password"),),
        )
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as client:
        token = (
            await client.post(
                "/api/v1/auth/token", data={"username": "rita", "password": "rita-password"}
            )
        ).json()["access_token"]
        response = await client.get(
            "/api/v1/dead-letters", headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 403
    assert "admin" in response.json()["detail"]

"""The server's CPU per fleet message in its parts: parsing, and the SQL the writers send.

    PYTHONPATH=<a tree> .venv/bin/python -m bench.ingest_cpu

Counts the process's own CPU seconds (``time.process_time``), best of several
rounds, so that runs on a shared machine compare: parsing a heartbeat (five
sensors) and a readings message (three readings) as bench.fleet sends them, and
the client's CPU in ``store_batches`` (30 batches a flush) and
``record_hub_statuses`` (500 hubs a statement) on a fresh database. Run it with
``PYTHONPATH`` at the tree before and after a change, one after the other.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg

from bench.fleet import _heartbeat, _sample_batch
from bench.ingest import provision
from edge.protocol import HubStatus, ReadingsBatch, parse_message, readings_topic, status_topic
from server.store.people import record_hub_statuses
from server.store.pool import migrate
from server.store.readings import ReceivedBatch, store_batches
from tests.infra import fresh_database

_HUB = "hub-f000001"


def _best_us(work: Callable[[], object], *, times: int = 5_000, rounds: int = 7) -> float:
    """The fewest CPU microseconds one call took, over ``rounds`` rounds of ``times`` calls."""
    best = float("inf")
    for _ in range(rounds):
        began = time.process_time()
        for _ in range(times):
            work()
        best = min(best, (time.process_time() - began) / times * 1e6)
    return best


def parsing() -> dict[str, float]:
    """CPU of parse_message for a fleet heartbeat and a three-reading message."""
    rng = random.Random(1)
    heartbeat = _heartbeat(_HUB, rng, time.monotonic(), front_door=True)
    readings = _sample_batch(_HUB, 5, rng)
    while readings.count(b'"sensor"') != 3:
        readings = _sample_batch(_HUB, 5, rng)
    return {
        "parse_heartbeat_us": round(
            _best_us(lambda: parse_message(status_topic(_HUB), heartbeat)), 1
        ),
        "parse_readings_us": round(
            _best_us(lambda: parse_message(readings_topic(_HUB), readings)), 1
        ),
    }


async def _storing(database_url: str) -> dict[str, float]:
    hubs = [f"hub-f{i:06d}" for i in range(2_000)]
    provision(database_url, hubs)
    rng = random.Random(1)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        seq, best_batch = 0, float("inf")
        for round_ in range(60):
            flush = []
            for hub in hubs[round_ * 30 % 2_000 :][:30]:
                seq += 1
                batch = parse_message(readings_topic(hub), _sample_batch(hub, seq, rng))
                assert isinstance(batch, ReadingsBatch)
                flush.append(ReceivedBatch(batch, datetime.now(UTC)))
            began = time.process_time()
            await store_batches(conn, flush)
            best_batch = min(best_batch, (time.process_time() - began) / len(flush) * 1e6)
        best_status = float("inf")
        for _ in range(10):
            statuses = []
            for hub in hubs[:500]:
                status = parse_message(
                    status_topic(hub), _heartbeat(hub, rng, time.monotonic(), front_door=True)
                )
                assert isinstance(status, HubStatus)
                statuses.append((status, datetime.now(UTC)))
            began = time.process_time()
            await record_hub_statuses(conn, statuses)
            best_status = min(best_status, (time.process_time() - began) / len(statuses) * 1e6)
    return {
        "store_batches_us_a_batch": round(best_batch, 1),
        "record_hub_statuses_us_a_status": round(best_status, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "CAREWATCH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server where a fresh database may be made",
    )
    args = parser.parse_args()
    result = parsing()
    with fresh_database(args.database_url) as database_url:
        migrate(database_url)
        result |= asyncio.run(_storing(database_url))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

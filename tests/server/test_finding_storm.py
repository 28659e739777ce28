"""A storm of findings (2,000 homes' conditions at once) is raised in batches beside ingest, not in front of it.

Ingest, the reading writer and the finding queue as the server wires them, on
the real database: the consumer's cost of a storm is a queue append per
finding, and another home's readings are stored while the storm is raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from edge.protocol import Reading, ReadingKind, ReadingsBatch, encode, readings_topic
from server.alerts.finding_queue import FindingQueue
from server.alerts.service import AlertService
from server.detect.watch import HomeWatch
from server.domain.alerts import AlertKind
from server.domain.findings import Cleared, Condition
from server.domain.homes import HubHome
from server.ingest.service import IngestService
from server.ingest.writer import ReadingWriter
from server.store import hub_import
from server.store.pool import Pool, migrate, open_pool

HOMES = 2_000


@dataclass
class Ingest:
    service: IngestService
    findings: FindingQueue
    homes: list[HubHome]
    pool: Pool


@pytest.fixture
async def ingest(database_url: str) -> AsyncIterator[Ingest]:
    migrate(database_url)
    pool = await open_pool(database_url, min_size=2, max_size=4)
    async with pool.connection() as conn, conn.transaction():
        await hub_import.insert_homes(
            conn,
            [
                hub_import.ImportedHome(f"storm-{n:04d}", f"Storm Resident {n}", "UTC", "x", [])
                for n in range(HOMES + 1)
            ],
        )
    alerts = AlertService(pool, link_key=b"k" * 32)
    findings = FindingQueue(alerts, max_batch=500)
    writer = ReadingWriter(pool)
    service = IngestService(
        pool, alerts=alerts, detector=HomeWatch(), writer=writer, findings=findings
    )
    await service.start()
    tasks = [asyncio.create_task(writer.run()), asyncio.create_task(findings.run())]
    async with pool.connection() as conn:
        homes = [home for home in await hub_import_homes(conn) if home.hub != f"storm-{HOMES:04d}"]
    try:
        yield Ingest(service, findings, homes, pool)
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await pool.close()


async def hub_import_homes(conn: psycopg.AsyncConnection[tuple[object, ...]]) -> list[HubHome]:
    from server.store.people import hub_homes

    return sorted(await hub_homes(conn), key=lambda home: home.hub)


async def test_two_thousand_conditions_at_once_do_not_stall_readings_being_stored(
    ingest: Ingest, database_url: str
) -> None:
    now = datetime.now(UTC)
    storm = [
        (
            home,
            Condition(home.hub, AlertKind.NO_MOVEMENT, now, f"No movement at {home.resident}'s."),
        )
        for home in ingest.homes
    ]
    queued = time.monotonic()
    raised = [ingest.findings.put(home, condition) for home, condition in storm]
    # What the consumer pays for a storm: a queue append per finding (2,000 commits took 6 s).
    assert time.monotonic() - queued < 1.0
    # Meanwhile another home's readings arrive: stored as promptly as on a quiet day.
    reader = f"storm-{HOMES:04d}"
    batch = ReadingsBatch(reader, 1, now, (Reading("hall-pir", ReadingKind.MOTION, now, 1.0),))
    sent = time.monotonic()
    durable = await ingest.service.handle(readings_topic(reader), encode(batch), datetime.now(UTC))
    assert durable is not None
    await durable
    stored_in = time.monotonic() - sent
    still_queued = ingest.findings.pending()
    await asyncio.gather(*raised)
    storm_took = time.monotonic() - queued
    assert stored_in < 0.5, (stored_in, storm_took)
    assert still_queued > 0, "the readings waited for the whole storm"
    # Every condition raised once, with its audit row, in a few transactions, not 2,000.
    assert ingest.findings.transactions == HOMES // 500
    with psycopg.connect(database_url) as conn:
        alerts = conn.execute(
            "SELECT count(*), count(DISTINCT resident_id), min(escalation_due_at) IS NOT NULL"
            " FROM alerts WHERE kind = 'no_movement' AND status = 'open'"
        ).fetchone()
        events = conn.execute(
            "SELECT count(*) FROM alert_events WHERE action = 'raised'"
        ).fetchone()
        readings = conn.execute(
            "SELECT count(*) FROM readings WHERE hub_id = %s", (reader,)
        ).fetchone()
    assert alerts == (HOMES, HOMES, True)
    assert events == (HOMES,)
    assert readings == (1,)


async def test_a_clear_queued_behind_its_raise_closes_it_and_a_repeat_raises_nothing_new(
    ingest: Ingest, database_url: str
) -> None:
    home = ingest.homes[0]
    now = datetime.now(UTC)
    coverage = Condition(home.hub, AlertKind.SENSOR_COVERAGE, now, "No front-door sensor.")
    silent = Condition(home.hub, AlertKind.NO_MOVEMENT, now, "No movement since 09:00.")
    moved = Cleared(home.hub, AlertKind.NO_MOVEMENT, now + timedelta(minutes=5), "Moving again.")
    done = [ingest.findings.put(home, f) for f in (coverage, silent, coverage, moved)]
    await asyncio.gather(*done)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT a.kind, a.status, a.outcome, array_agg(e.action ORDER BY e.id)"
            " FROM alerts a JOIN alert_events e ON e.alert_id = a.id WHERE a.resident_id = %s"
            " GROUP BY a.id ORDER BY a.kind",
            (home.resident_id,),
        ).fetchall()
    assert rows == [
        ("no_movement", "resolved", "self_cleared", ["raised", "self_cleared"]),
        ("sensor_coverage", "open", None, ["raised", "repeated"]),
    ]
    assert ingest.findings.transactions == 1

"""The finding queue's own rules, with a stand-in for the alert service: order, batches, outages, poison."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import cast

import psycopg

from server.alerts.finding_queue import FindingQueue
from server.alerts.service import AlertService
from server.domain.alerts import AlertKind
from server.domain.findings import Cleared, Condition, Finding
from server.domain.homes import HubHome

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


class Alerts:
    """Records each transaction's findings; fails as told."""

    def __init__(self, *, outages: int = 0, poison: str | None = None) -> None:
        self.transactions: list[list[str]] = []
        self.outages = outages
        self.poison = poison

    async def apply_findings(self, findings: Sequence[tuple[HubHome, Finding]]) -> None:
        await asyncio.sleep(0)
        if self.outages:
            self.outages -= 1
            raise psycopg.OperationalError("the database went away")
        if any(f.reason == self.poison for _, f in findings):
            raise psycopg.DataError("refused")
        self.transactions.append([f.reason for _, f in findings])


def _home(n: int) -> HubHome:
    return HubHome(f"hub-{n}", n, f"Resident {n}", "UTC")


def _raise(n: int) -> Condition:
    return Condition(f"hub-{n}", AlertKind.NO_MOVEMENT, NOW, f"raise {n}")


async def _running(alerts: Alerts, *, max_batch: int) -> tuple[FindingQueue, asyncio.Task[None]]:
    queue = FindingQueue(cast(AlertService, alerts), max_batch=max_batch)
    return queue, asyncio.create_task(queue.run())


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_findings_are_applied_in_order_in_batches_and_flushed_waits_for_them() -> None:
    alerts = Alerts()
    queue, task = await _running(alerts, max_batch=3)
    for n in range(7):
        queue.put(_home(n), _raise(n))
    cleared = Cleared("hub-0", AlertKind.NO_MOVEMENT, NOW, "clear 0")
    last = queue.put(_home(0), cleared)
    assert queue.pending() == 8
    await queue.flushed()
    assert last.done()
    assert alerts.transactions == [
        ["raise 0", "raise 1", "raise 2"],
        ["raise 3", "raise 4", "raise 5"],
        ["raise 6", "clear 0"],
    ]
    assert queue.transactions == 3
    await _stop(task)


async def test_an_outage_keeps_the_batch_and_its_order() -> None:
    alerts = Alerts(outages=1)
    queue, task = await _running(alerts, max_batch=10)
    done = [queue.put(_home(n), _raise(n)) for n in range(3)]
    async with asyncio.timeout(5):
        await asyncio.gather(*done)
    assert alerts.transactions == [["raise 0", "raise 1", "raise 2"]]
    await _stop(task)


async def test_a_refused_finding_does_not_take_its_batch_with_it() -> None:
    alerts = Alerts(poison="raise 1")
    queue, task = await _running(alerts, max_batch=10)
    done = [queue.put(_home(n), _raise(n)) for n in range(3)]
    await asyncio.gather(*done)
    assert alerts.transactions == [["raise 0"], ["raise 2"]]
    await _stop(task)


async def test_what_is_queued_at_a_stop_is_applied_before_the_task_ends() -> None:
    alerts = Alerts()
    queue, task = await _running(alerts, max_batch=2)
    await asyncio.sleep(0)
    for n in range(5):
        queue.put(_home(n), _raise(n))
    await _stop(task)
    assert [r for batch in alerts.transactions for r in batch] == [f"raise {n}" for n in range(5)]
    # Stopped: nothing is left to wait for.
    await queue.flushed()

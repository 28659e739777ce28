"""Rounds at an interval: a failing round is logged and the rounds go on."""

from __future__ import annotations

import asyncio
import logging

import pytest

from server.jobs.periodic import every


async def test_a_failed_round_is_logged_and_the_next_one_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rounds: list[int] = []
    done = asyncio.Event()

    async def round_() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("the database went away")
        if len(rounds) == 3:
            done.set()

    log = logging.getLogger("test.periodic")
    task = asyncio.create_task(every(0.01, round_, failed="round failed; trying again", log=log))
    await asyncio.wait_for(done.wait(), timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert rounds[:3] == [0, 1, 2]
    assert [r.getMessage() for r in caplog.records] == ["round failed; trying again"]
    assert caplog.records[0].exc_info is not None


async def test_waiting_first_runs_no_round_before_the_interval() -> None:
    rounds: list[None] = []

    async def round_() -> None:
        rounds.append(None)

    log = logging.getLogger("test.periodic")
    task = asyncio.create_task(every(60, round_, failed="x", log=log, wait_first=True))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert rounds == []

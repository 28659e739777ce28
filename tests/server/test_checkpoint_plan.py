"""The checkpoint line and byte budget: pure, no database, no clock."""

from __future__ import annotations

from server.jobs.checkpoint_plan import ByteBudget, CheckpointLine, chunk_pause


def test_a_home_that_changes_again_keeps_its_place_and_put_back_goes_first() -> None:
    line = CheckpointLine()
    line.changed(["a", "b", "c"])
    line.changed(["a", "d"])
    assert line.take(2) == ["a", "b"]
    line.put_back(["a", "b"])
    assert line.take(10) == ["a", "b", "c", "d"]
    assert len(line) == 0


def test_the_budget_banks_at_most_a_minute_and_refills_at_its_rate() -> None:
    budget = ByteBudget(bytes_per_min=6_000, now=0.0)
    budget.spend(6_000, now=0.0)
    assert not budget.allows(now=0.0)
    assert budget.allows(now=0.5)  # 50 bytes back
    budget.spend(1_000, now=0.5)  # overshoot: a checkpoint's size is known only after
    assert not budget.allows(now=9.0)  # -950 + 850
    assert budget.allows(now=10.5)
    # An idle hour banks no more than a minute's worth.
    budget = ByteBudget(bytes_per_min=6_000, now=0.0)
    budget.spend(6_001, now=3_600.0)
    assert not budget.allows(now=3_600.0)


def test_chunks_are_spread_over_the_interval() -> None:
    assert chunk_pause(interval_s=30.0, waiting=1_001, chunk_homes=250) == 6.0
    assert chunk_pause(interval_s=30.0, waiting=10, chunk_homes=250) == 30.0

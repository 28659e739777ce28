"""The checkpoint line and byte budget: pure, no database, no clock."""

from __future__ import annotations

from server.jobs.checkpoint_plan import ByteBudget, CheckpointLine, chunk_pause
from server.jobs.checkpoint_yield import YieldToBacklog, chunk_waits


def test_a_home_that_changes_again_keeps_its_place_and_put_back_goes_first() -> None:
    line = CheckpointLine()
    line.changed(["a", "b", "c"], now=0.0)
    line.changed(["a", "d"], now=1.0)
    assert line.take(2) == ["a", "b"]
    line.put_back(["a", "b"], since=0.0)
    assert line.take(10) == ["a", "b", "c", "d"]
    assert len(line) == 0


def test_the_line_knows_how_long_its_front_has_waited_unsaved() -> None:
    line = CheckpointLine()
    assert line.waited_s(now=100.0) == 0.0
    line.changed(["a", "b"], now=10.0)
    line.changed(["a", "c"], now=50.0)  # a keeps its place and its time
    assert line.waited_s(now=100.0) == 90.0
    taken = line.take(2)
    assert line.waited_s(now=100.0) == 50.0  # c is at the front now
    # A chunk put back (its write failed) has waited since its first home joined.
    line.put_back(taken, since=10.0)
    assert line.waited_s(now=100.0) == 90.0
    # A home put back that was waiting already keeps the earlier time.
    line.put_back(["c"], since=80.0)
    assert line.take(1) == ["c"]
    assert line.waited_s(now=100.0) == 90.0


def test_a_chunk_waits_only_while_ingest_is_behind_and_never_past_the_ceiling() -> None:
    policy = YieldToBacklog(behind_at=500, max_unsaved_s=600.0)
    assert not chunk_waits(policy, backlog=0, waited_s=0.0)
    assert not chunk_waits(policy, backlog=499, waited_s=10.0)
    assert chunk_waits(policy, backlog=500, waited_s=10.0)
    assert chunk_waits(policy, backlog=20_000, waited_s=599.9)
    # State unsaved for the ceiling is saved, however far behind ingest is.
    assert not chunk_waits(policy, backlog=20_000, waited_s=600.0)
    # behind_at 0: the keeper never yields.
    assert not chunk_waits(YieldToBacklog(behind_at=0), backlog=10**6, waited_s=0.0)


def test_an_always_behind_fleet_is_still_saved_at_the_ceilings_rate() -> None:
    """Each 30 s round, with ingest always behind: a home is saved once it has waited 10 min."""
    policy = YieldToBacklog(behind_at=100, max_unsaved_s=600.0)
    line = CheckpointLine()
    saved_at: dict[str, float] = {}
    for round_no in range(60):  # half an hour
        now = round_no * 30.0
        line.changed([f"hub-{n}" for n in range(10)], now=now)  # every home changes
        while line and not chunk_waits(policy, backlog=5_000, waited_s=line.waited_s(now=now)):
            for hub in line.take(2):
                saved_at.setdefault(hub, now)
    # Nothing in the first ten minutes, then every home, none waiting past the ceiling.
    assert min(saved_at.values()) == 600.0
    assert sorted(saved_at) == sorted(f"hub-{n}" for n in range(10))
    assert line.waited_s(now=59 * 30.0) < 600.0


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

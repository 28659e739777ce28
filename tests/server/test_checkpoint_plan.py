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


def test_the_budget_banks_a_few_seconds_and_refills_at_its_rate() -> None:
    budget = ByteBudget(bytes_per_min=6_000, now=0.0)
    assert budget.rate == 5_500 / 60  # what is not banked, spread over the minute
    budget.spend(500, now=0.0)  # the 5 s banked
    assert not budget.allows(now=0.0)
    assert budget.allows(now=0.5)
    budget.spend(1_000, now=0.5)  # overshoot: a checkpoint's size is known only after
    assert not budget.allows(now=10.5)  # about -954 + 917
    assert budget.allows(now=11.0)
    # An idle hour banks no more than its few seconds' worth.
    budget = ByteBudget(bytes_per_min=6_000, now=0.0)
    budget.spend(501, now=3_600.0)
    assert not budget.allows(now=3_600.0)


def test_no_minute_writes_more_than_the_bound() -> None:
    """A writer that saves whenever allowed, after quiet spells too, stays in bounds."""
    bound, state = 60_000, 700
    budget = ByteBudget(bytes_per_min=bound, now=0.0)
    written: list[tuple[float, int]] = []
    t = 0.0
    while t < 1_200.0:
        # Quiet for a minute now and then (ingest behind: the keeper yields), then greedy.
        if not 300.0 <= t % 400.0 < 360.0 and budget.allows(now=t):
            budget.spend(state, now=t)
            written.append((t, state))
        t += 0.05
    # Twenty minutes, three of them quiet: near the refill rate for the other seventeen.
    assert sum(size for _, size in written) > budget.rate * 60 * 17
    for start, _ in written:
        in_minute = sum(size for at, size in written if start <= at < start + 60.0)
        assert in_minute <= bound + state  # one home's state over, at most


def test_chunks_are_spread_over_the_interval() -> None:
    assert chunk_pause(interval_s=30.0, waiting=1_001, chunk_homes=250) == 6.0
    assert chunk_pause(interval_s=30.0, waiting=10, chunk_homes=250) == 30.0

"""Reconnect back-off: grows, is capped, spreads hubs apart, starts small again after a success."""

from __future__ import annotations

import random
from statistics import mean, pstdev

from edge.agent.schedule import Backoff


def test_delays_grow_to_the_cap_and_reset() -> None:
    rng = random.Random(1)
    backoff = Backoff(initial_s=1.0, cap_s=60.0)
    ceilings = [min(60.0, 2.0**i) for i in range(10)]
    for ceiling in ceilings:
        assert 0.5 <= backoff.next_delay(rng) <= max(ceiling, 0.5)
    backoff.reset()
    assert backoff.next_delay(rng) <= 1.0


def test_a_thousand_hubs_coming_back_do_not_knock_in_step() -> None:
    waits = []
    for hub in range(1000):
        backoff = Backoff(initial_s=1.0, cap_s=60.0)
        rng = random.Random(hub)
        for _ in range(6):  # the sixth failed attempt of each
            delay = backoff.next_delay(rng)
        waits.append(delay)
    assert pstdev(waits) > 5, "spread out"
    assert 10 < mean(waits) < 22  # full jitter over a ceiling of 32 s averages 16 s

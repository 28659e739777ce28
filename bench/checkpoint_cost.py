"""What one learned home's detector checkpoint costs to make, pack, unpack and read.

CPU per home (the median of 5 rounds over five learned homes, each two weeks of
a scripted routine, from ``tests/server/test_checkpoints_at_scale.py``), and its
bytes plain and packed, with zlib's levels 1 and 6 side by side. Run against
another tree to compare (the tree's own ``tests`` and ``server`` are imported):

    PYTHONPATH=/path/to/tree .venv/bin/python -m bench.checkpoint_cost
"""

from __future__ import annotations

import statistics
import time
import zlib
from collections.abc import Callable, Sequence

from server.detect.home_state import HomeState
from server.jobs.checkpoint_packing import pack, unpack
from tests.server.test_checkpoints_at_scale import _learned_checkpoint

_ROUNDS = 5


def per_home_ms(
    states: Sequence[HomeState], work: Callable[[int], object], *, n: int = 400
) -> float:
    """Median CPU milliseconds of ``work(i)`` for home ``i``, over ``_ROUNDS`` rounds."""
    rounds = []
    for _ in range(_ROUNDS):
        start = time.process_time()
        for _ in range(n):
            for i in range(len(states)):
                work(i)
        rounds.append((time.process_time() - start) / (n * len(states)) * 1e3)
    return statistics.median(rounds)


def main() -> None:
    states = [HomeState.from_bytes(_learned_checkpoint(seed)) for seed in range(1, 6)]
    plain = [state.to_bytes() for state in states]
    packed = [pack(checkpoint) for checkpoint in plain]
    print(
        f"plain {statistics.mean(map(len, plain)):.0f} B, packed {statistics.mean(map(len, packed)):.0f} B"
    )
    made = per_home_ms(states, lambda i: states[i].to_bytes())
    made_packed = per_home_ms(states, lambda i: pack(states[i].to_bytes()))
    print(f"made {made:.3f} ms, made and packed {made_packed:.3f} ms")
    read = per_home_ms(states, lambda i: HomeState.from_bytes(unpack(packed[i])))
    print(f"unpacked and read {read:.3f} ms")
    for level in (1, 6):

        def made_at(i: int, level: int = level) -> bytes:
            return zlib.compress(states[i].to_bytes(), level)

        ms = per_home_ms(states, made_at)
        size = statistics.mean(len(zlib.compress(checkpoint, level)) for checkpoint in plain)
        print(f"zlib level {level}: made and packed {ms:.3f} ms, {size:.0f} B")


if __name__ == "__main__":
    main()

"""The false-alarm budget's trade-off on real homes: false urgent alerts against time to find a fall.

    .venv/bin/python -m bench.budget ../shared/realhomes/kasteren2010-house{B,C}
    .venv/bin/python -m bench.budget REC... --budgets 0.25 0.5 1 2 4 8 --inject-count 40

A no-movement limit is set so that a home's expected false urgent alerts stay
within ``WatchSettings.false_alarm_budget`` a resident-month; a longer budget
buys sooner falls. For each budget this replays each recording as it is (its
alerts per resident-month: the recordings are normal life, so all false) and
with injected falls (``carewatch-eval --inject falls``, same seed), and prints
both next to the fixed 3-hour timer's. Print only; the figures go to
docs/benchmarks.md by hand with the command line.
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

from firmware_sim.recording import read_recording
from server.detect.watch import HomeWatch, WatchSettings
from server.evaluation import cli


def _row(name: str, budget: str, evaluation: cli.Evaluation, column: str) -> str:
    c = evaluation.columns[column]
    urgent = c.score.false_per_resident_month("urgent")
    recall = c.injected.recall("fall")
    median = c.injected.minutes_to_detect("fall", 0.5)
    p90 = c.injected.minutes_to_detect("fall", 0.9)
    found = "-" if recall is None else f"{recall:.0%}"
    times = "-" if median is None or p90 is None else f"{median:.0f} / {p90:.0f} min"
    return f"| {name} | {budget} | {urgent:.2f} | {found} | {times} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recordings", nargs="+", type=Path)
    parser.add_argument("--budgets", type=float, nargs="+", default=[0.25, 0.5, 1, 2, 4, 8])
    parser.add_argument("--inject-count", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print("| home | budget | false urgent / resident-month | falls found | median / p90 |")
    print("| --- | --- | --- | --- | --- |")
    for path in args.recordings:
        recording = read_recording(path)
        for i, budget in enumerate(args.budgets):
            settings = WatchSettings(false_alarm_budget=budget)
            cli.DETECTORS["carewatch"] = partial(HomeWatch, settings)
            names = ["carewatch", "fixed-timer"] if i == 0 else ["carewatch"]
            done = cli.evaluate_homes(
                recording,
                names,
                inject=["fall"],
                inject_count=args.inject_count,
                seed=args.seed,
                workers=1,
            )
            if i == 0:
                print(_row(path.name, "fixed 3 h timer", done, "fixed-timer"))
            print(_row(path.name, f"{budget:g}", done, "carewatch"))


if __name__ == "__main__":
    main()

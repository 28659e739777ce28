"""The not-up trade-off: how early "still in bed" can be called, and what it costs in false alarms.

    .venv/bin/python -m bench.wake_margin                  # 100 homes x 60 days, seed 4242
    .venv/bin/python -m bench.wake_margin --margins 60 30 --spreads 4 2

A resident who has not got up looks, to every sensor in the home, like one
who is having a lie-in: the only lever is how long after their usual time
carewatch waits. For each margin (minutes past the median getting-up time)
and number of spreads (median absolute deviations; the later of the two is
the resident's latest usual time) this replays the same simulated
homes and prints not-up recall, median and 90th-percentile time to detect,
and false not-up alerts per resident-month. Print only; the figures go to
docs/benchmarks.md by hand with the command line.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from firmware_sim.offline import export_trial
from firmware_sim.recording import read_labels, read_recording, read_stream
from firmware_sim.scenario import Scenario
from server.detect.watch import HomeWatch, WatchSettings
from server.evaluation.replay import RaisedAlert, replay
from server.evaluation.scoring import score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=100)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--margins", type=float, nargs="+", default=[60.0, 45.0, 30.0])
    parser.add_argument("--spreads", type=float, nargs="+", default=[4.0])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        scenario = Scenario.model_validate(
            {"trial": {"homes": args.homes, "days": args.days, "seed": args.seed}}
        )
        export_trial(scenario, folder)
        recording = read_recording(folder)
        labels = read_labels(recording.labels) if recording.labels else []
        homes = [(h, list(read_stream(h.stream))) for h in recording.homes]
        print(f"{args.homes} homes x {args.days} days, seed {args.seed}")
        print(
            "margin | spreads | not-up recall | median / p90 to detect"
            " | false not-up per resident-month"
        )
        for margin, spreads in itertools.product(args.margins, args.spreads):
            settings = WatchSettings(wake_margin=timedelta(minutes=margin), wake_spreads=spreads)
            raised: list[RaisedAlert] = []
            for home, records in homes:
                raised += replay(
                    home.home,
                    ZoneInfo(home.timezone),
                    records,
                    HomeWatch(settings),
                    end=recording.end,
                )
            s = score(raised, labels, homes=len(homes), start=recording.start, end=recording.end)
            recall = s.recall("not_up") or 0.0
            median = s.minutes_to_detect("not_up", 0.5) or 0.0
            p90 = s.minutes_to_detect("not_up", 0.9) or 0.0
            false = s.false_by_kind["not_up"] / s.resident_months
            print(
                f"{margin:.0f} min | {spreads:g} | {recall:.0%} | {median:.0f} / {p90:.0f} min"
                f" | {false:.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()

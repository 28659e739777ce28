"""The not-up bound: how early an oracle that knows all but the morning's jitter could call "not up".

    .venv/bin/python -m bench.not_up_bound                 # 200 homes x 60 days, seed 4242
    .venv/bin/python -m bench.not_up_bound --ks 1.5 2 2.5
    .venv/bin/python -m bench.not_up_bound --homes 20 --days 30 --check   # labels vs export

A resident who has not got up looks like one having a lie-in, so no detector
can do better than one that knows, for each home and day, what the simulator
knows before the morning's random draw: the persona's wake hour, the day's
shift (drift and weekend lie-in) and the jitter's sd. This oracle calls
"not up" at ``mean + k * sd`` if the resident is still in bed then. For each k
it prints not-up recall (calls before the label's end, from 2 h before its
onset, as ``carewatch-eval`` scores; early ones count as 0 minutes and are
also shown on their own), median and 90th-percentile minutes to detect, and false not-up calls per resident-month
(mornings at home, not labelled not up, still in bed at the call), then the
smallest median reachable within 1.0 and 0.5 false calls per resident-month.
The mornings are replayed from the trial's own simulated homes, not a copy
of the simulator. Print only.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from firmware_sim.incidents import NotUp
from firmware_sim.offline import export_trial
from firmware_sim.progress import Progress
from firmware_sim.recording import read_labels, read_recording
from firmware_sim.routine import local_epoch, plan_day
from firmware_sim.scenario import Scenario

_MIN = 60.0
_SLACK_S = 2 * 3600.0
# The bound is searched on this grid of k, finer than any sweep worth printing.
_GRID = [i / 100 for i in range(0, 401)]


@dataclass(slots=True, frozen=True)
class Morning:
    """One home's morning: the oracle's mean and sd, and what really happened (epoch seconds)."""

    home: str
    persona: str
    mean: float
    sigma: float
    usual_wake: float
    woke: float
    not_up: bool
    away: tuple[float, float] | None

    def call(self, k: float) -> float:
        """When the oracle calls "not up" with ``k`` spreads."""
        return self.mean + k * self.sigma

    def at_home(self, at: float) -> bool:
        """Whether the resident is at home (not on holiday) at ``at``."""
        return self.away is None or not (self.away[0] <= at < self.away[1])


@dataclass(slots=True, frozen=True)
class Outcome:
    """The oracle's not-up results at one k."""

    k: float
    recall: float
    early: float
    median: float | None
    p90: float | None
    false_per_month: float


def replay_mornings(scenario: Scenario, progress: Callable[[int, int], None]) -> list[Morning]:
    """Every home's mornings of ``scenario``, drawn exactly as the trial draws them."""
    trial = scenario.trial
    weather = scenario.weather()
    mornings: list[Morning] = []
    for index in range(trial.homes):
        spec = scenario.home(index)
        home = scenario.build(spec)
        persona = spec.persona
        first = home.start.astimezone(home.zone).date()
        for offset in range(trial.days):
            day = first + timedelta(days=offset)
            # The private day builder, minus the sensors: _conditions pops the day's
            # incidents and draws holidays as SimulatedHome._day does, so calling it
            # once a day in order gives the trial's conditions without re-implementing
            # them, and plan_day's rng is seeded exactly as in _day.
            conditions, today = home._conditions(day, weather.on(day).rain)
            plan = plan_day(
                persona,
                day,
                home.zone,
                random.Random(f"{home.seed}:{day.isoformat()}"),
                conditions,
            )
            # plan_day's mean wake, without its jitter: the same hour and shift.
            lie_in = persona.weekend_lie_in_min if day.weekday() >= 5 else 0.0
            shift = conditions.drift_min + lie_in
            mean = local_epoch(day, persona.wake_hour + shift / 60, home.zone)
            not_up = any(isinstance(i, NotUp) for i in today) and plan.woke > plan.usual_wake
            mornings.append(
                Morning(
                    home=spec.hub,
                    persona=persona.name,
                    mean=mean,
                    sigma=persona.wake_spread_min * _MIN,
                    usual_wake=plan.usual_wake,
                    woke=plan.woke,
                    not_up=not_up,
                    away=conditions.away,
                )
            )
        progress(index + 1, trial.homes)
    return mornings


def _quantile(times: Sequence[float], q: float) -> float | None:
    """As server.evaluation.scoring does: statistics.median, else the nearest rank."""
    if not times:
        return None
    if q == 0.5:
        return statistics.median(times)
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def evaluate(mornings: Sequence[Morning], k: float, resident_months: float) -> Outcome:
    """The oracle's recall, minutes to detect and false calls at ``k``."""
    labelled, early, false = 0, 0, 0
    times: list[float] = []
    for m in mornings:
        call = m.call(k)
        # On holiday nobody is in bed at home: the oracle knows and does not call.
        called = m.at_home(call) and m.woke > call
        if m.not_up:
            labelled += 1
            # Scored as carewatch-eval scores the detector: a call up to 2 h before the
            # onset is a detection at 0 minutes (the resident was in bed and needed help).
            if called and call >= m.usual_wake - _SLACK_S:
                times.append(max(0.0, call - m.usual_wake) / _MIN)
                early += call < m.usual_wake
        elif called:
            false += 1
    return Outcome(
        k=k,
        recall=len(times) / labelled if labelled else 0.0,
        early=early / labelled if labelled else 0.0,
        median=_quantile(times, 0.5),
        p90=_quantile(times, 0.9),
        false_per_month=false / resident_months,
    )


def check_labels(scenario: Scenario, mornings: Sequence[Morning]) -> tuple[int, int, int]:
    """Export the trial and compare its not_up labels with the replay: (matched, export, replay)."""

    def ms(ts: float) -> int:
        return round(ts * 1000)

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        export_trial(scenario, folder, progress=Progress("export for --check"))
        recording = read_recording(folder)
        labels = read_labels(recording.labels) if recording.labels else []
    exported = {
        (label.home, ms(label.start.timestamp()), ms(label.end.timestamp()))
        for label in labels
        if label.kind == "not_up" and label.end is not None
    }
    # Rounded to the millisecond first, as SimulatedHome._label does.
    replayed = {
        (m.home, ms(round(m.usual_wake, 3)), ms(round(m.woke, 3))) for m in mornings if m.not_up
    }
    return len(exported & replayed), len(exported), len(replayed)


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def main() -> None:
    """Replay the mornings, sweep k and print the table and the bound."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=200)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument(
        "--ks",
        type=float,
        nargs="+",
        default=[0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0],
    )
    parser.add_argument(
        "--check", action="store_true", help="also export the trial and compare its not_up labels"
    )
    args = parser.parse_args()
    scenario = Scenario.model_validate(
        {"trial": {"homes": args.homes, "days": args.days, "seed": args.seed}}
    )
    mornings = replay_mornings(scenario, Progress(f"{args.homes} homes"))
    resident_months = args.homes * args.days / 30
    not_up = [m for m in mornings if m.not_up]
    away_not_up = sum(1 for m in not_up if not m.at_home(m.usual_wake))
    # The jitter is (usual_wake - mean) / sd: a standard normal if the mean is right.
    z = [(m.usual_wake - m.mean) / m.sigma for m in mornings]
    print(f"{args.homes} homes x {args.days} days, seed {args.seed}")
    print(
        f"{len(mornings)} mornings, {len(not_up)} labelled not_up ({away_not_up} on holiday),"
        f" {resident_months:g} resident-months;"
        f" jitter/sd mean {statistics.fmean(z):+.3f}, sd {statistics.stdev(z):.3f} (expect 0, 1)"
    )
    if args.check:
        matched, exported, replayed = check_labels(scenario, mornings)
        verdict = "match" if matched == exported == replayed else "MISMATCH"
        print(
            f"label check: {exported} exported not_up labels, {replayed} replayed,"
            f" {matched} identical to the ms: {verdict}"
        )
    print(
        "k (sd) | not-up recall | of them called before onset | median / p90 to detect"
        " | false not-up per resident-month"
    )
    for k in args.ks:
        o = evaluate(mornings, k, resident_months)
        print(
            f"{k:g} | {o.recall:.0%} | {o.early:.0%} | {_minutes(o.median)} / {_minutes(o.p90)} min"
            f" | {o.false_per_month:.2f}"
        )
    grid = [evaluate(mornings, k, resident_months) for k in _GRID]
    for budget in (1.0, 0.5):
        within = [o for o in grid if o.false_per_month <= budget and o.median is not None]
        if not within:
            print(f"false <= {budget:g}: not reached for k <= {_GRID[-1]:g}")
            continue
        best = min(within, key=lambda o: (o.median, o.k))
        print(
            f"false <= {budget:g} per resident-month: smallest median {best.median:.0f} min"
            f" (k = {best.k:.2f}: recall {best.recall:.0%}, p90 {_minutes(best.p90)} min,"
            f" false {best.false_per_month:.2f})"
        )


if __name__ == "__main__":
    main()

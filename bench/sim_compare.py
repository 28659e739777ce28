"""The simulator against real homes: the same measures on both, a table, a plot and a distance each.

    .venv/bin/python -m bench.sim_compare ../shared/realhomes/kasteren2010-house{B,C}
    .venv/bin/python -m bench.sim_compare REAL... --sim /tmp/trial       # an exported trial
    .venv/bin/python -m bench.sim_compare REAL... --sim-homes 200 --days 30 --seed 7 \\
        --markdown docs/sim-compare.md --plot docs/sim-compare.png

Each measure (``firmware_sim.measures``) is pooled over the real homes and
over the simulated ones; the distance is the two-sample Kolmogorov-Smirnov
statistic D (0 = the same distribution, 1 = no overlap).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import ks_2samp

from firmware_sim.measures import HomeMeasures, measure, recording_homes
from firmware_sim.offline import export_trial
from firmware_sim.realism import Realism, realism_overrides
from firmware_sim.scenario import Scenario

__all__ = ["MEASURES", "Comparison", "compare", "main", "markdown"]


@dataclass(slots=True, frozen=True)
class Measure:
    """One row of the comparison: a name, its unit, and how to take its values from a home."""

    name: str
    unit: str
    values: Callable[[HomeMeasures], Sequence[float]]


def _kind(kind: str) -> Callable[[HomeMeasures], Sequence[float]]:
    return lambda m: m.readings_per_day.get(kind, [])


MEASURES: tuple[Measure, ...] = (
    Measure("silence between movements", "min", lambda m: m.silences_min),
    Measure("longest silence of the day", "h", lambda m: m.longest_silence_h),
    Measure("longest still spell, 18-23 h", "min", lambda m: m.evening_still_min),
    Measure("naps (silence > 1 h, 10-20 h) a day", "", lambda m: m.naps_per_day),
    Measure("to bed", "h", lambda m: m.bed_hour),
    Measure("to bed: spread from own median", "min", lambda m: m.spread_min(m.bed_hour)),
    Measure("getting up", "h", lambda m: m.up_hour),
    Measure("getting up: spread from own median", "min", lambda m: m.spread_min(m.up_hour)),
    Measure("night toilet visits", "", lambda m: m.night_toilet_visits),
    Measure("time out a day", "h", lambda m: m.out_h_per_day),
    Measure("outings a day", "", lambda m: m.outings_per_day),
    Measure("share of the day unseen > 1 h", "", lambda m: m.unseen_share),
    Measure("motion readings a day", "", _kind("motion")),
    Measure("contact readings a day", "", _kind("contact")),
    Measure("bed readings a day", "", _kind("bed")),
    Measure("chair readings a day", "", _kind("chair")),
)


@dataclass(slots=True, frozen=True)
class Row:
    """A measure's figures on both sides."""

    measure: Measure
    real: np.ndarray
    sim: np.ndarray
    ks: float | None


@dataclass(slots=True, frozen=True)
class Comparison:
    """Every measure's row, and the hour-by-hour activity profile of both sides."""

    rows: tuple[Row, ...]
    real_hours: np.ndarray
    sim_hours: np.ndarray
    real_homes: int
    sim_homes: int


def _pool(homes: Sequence[HomeMeasures], m: Measure) -> np.ndarray:
    return np.array([v for h in homes for v in m.values(h)], dtype=float)


def compare(real: Sequence[HomeMeasures], sim: Sequence[HomeMeasures]) -> Comparison:
    """Each measure pooled over ``real`` and over ``sim``, with the KS distance between them."""
    rows = []
    for m in MEASURES:
        a, b = _pool(real, m), _pool(sim, m)
        ks = float(ks_2samp(a, b).statistic) if len(a) and len(b) else None
        rows.append(Row(m, a, b, ks))

    def hours(homes: Sequence[HomeMeasures]) -> np.ndarray:
        found = [h.active_by_hour for h in homes if h.active_by_hour]
        return np.mean(np.array(found), axis=0) if found else np.zeros(24)

    return Comparison(tuple(rows), hours(real), hours(sim), len(real), len(sim))


def _q(values: np.ndarray, q: float) -> str:
    if not len(values):
        return "-"
    v = float(np.quantile(values, q))
    return f"{v:.2f}" if abs(v) < 10 else f"{v:.0f}"


def markdown(c: Comparison) -> str:
    """The comparison as a markdown table: median / 90th / 99th percentile and KS D per measure."""
    lines = [
        f"| measure | unit | real ({c.real_homes} homes): p50 / p90 / p99 | "
        f"simulated ({c.sim_homes} homes): p50 / p90 / p99 | KS D |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in c.rows:
        real = " / ".join(_q(r.real, q) for q in (0.5, 0.9, 0.99))
        sim = " / ".join(_q(r.sim, q) for q in (0.5, 0.9, 0.99))
        ks = "-" if r.ks is None else f"{r.ks:.2f}"
        lines.append(f"| {r.measure.name} | {r.measure.unit} | {real} | {sim} | {ks} |")
    return "\n".join(lines) + "\n"


def plot(c: Comparison, path: Path) -> None:
    """Empirical distributions, real against simulated, one panel per measure, and the hour profile."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as plt

    panels = len(c.rows) + 1
    cols = 4
    fig, axes = plt.subplots((panels + cols - 1) // cols, cols, figsize=(16, 3.2 * 5))
    flat = axes.ravel()
    for ax, r in zip(flat, c.rows, strict=False):
        for values, label, colour in ((r.real, "real", "C3"), (r.sim, "simulated", "C0")):
            if len(values):
                xs = np.sort(values)
                ax.step(
                    xs, np.arange(1, len(xs) + 1) / len(xs), where="post", color=colour, label=label
                )
        if r.measure.name.startswith("silence between"):
            ax.set_xscale("log")
        ks = "" if r.ks is None else f" (KS {r.ks:.2f})"
        ax.set_title(r.measure.name + ks, fontsize=9)
        ax.set_xlabel(r.measure.unit, fontsize=8)
        ax.tick_params(labelsize=7)
    ax = flat[len(c.rows)]
    ax.plot(range(24), c.real_hours, color="C3", label="real")
    ax.plot(range(24), c.sim_hours, color="C0", label="simulated")
    ax.set_title("share of days with movement, by local hour", fontsize=9)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=8)
    for extra in flat[panels:]:
        extra.set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _measured(path: Path) -> list[HomeMeasures]:
    return [measure(home) for home in recording_homes(path)]


def main(argv: Sequence[str] | None = None) -> int:
    """Measure real recordings and a simulated trial, print the table, write the plot."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.sim_compare",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("real", nargs="+", type=Path, help="recordings of real homes")
    parser.add_argument("--sim", type=Path, help="an exported simulated trial (else one is made)")
    parser.add_argument("--sim-homes", type=int, default=50)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--realism",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one [realism] key of the default scenario (repeatable), e.g. errands=0",
    )
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--plot", type=Path, help="write the plot (PNG) here")
    args = parser.parse_args(argv)
    real = [m for path in args.real for m in _measured(path)]
    scratch: Path | None = None
    sim_path = args.sim
    if sim_path is None:
        scratch = Path(tempfile.mkdtemp(prefix="carewatch-compare-"))
        sim_path = scratch / "trial"
        try:
            overrides = realism_overrides(args.realism)
        except ValueError as exc:
            parser.error(str(exc))
        realism = Realism.model_validate(Realism().model_dump() | overrides)
        scenario = Scenario(realism=realism).with_trial(
            homes=args.sim_homes, days=args.days, seed=args.seed
        )
        export_trial(scenario, sim_path)
    try:
        sim = _measured(sim_path)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    result = compare(real, sim)
    table = markdown(result)
    sys.stdout.write(table)
    if args.markdown:
        args.markdown.write_text(table, encoding="utf-8")
    if args.plot:
        plot(result, args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

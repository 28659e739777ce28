"""The detector core's CPU time on an exported trial, for before/after comparisons on a busy machine.

    .venv/bin/carewatch-sim export --homes 12 --days 30 --seed 91 --out /tmp/trial
    PYTHONPATH=<a tree> .venv/bin/python -m bench.detector_cpu /tmp/trial --label before

``bench.detector`` times wall-clock seconds, which a machine shared with other
work only makes longer; this counts the process's own CPU seconds
(``time.process_time``) over the same loop (every reading in arrival order, the
watermark advanced each minute), best of ``--runs``. Run it alternately with
the code before and after a change, ``PYTHONPATH`` pointing at each tree.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.detector import _run
from edge.protocol import Reading
from firmware_sim.recording import RecordedReading, read_recording, read_stream


def _load(trial: Path) -> list[tuple[str, str, list[Reading]]]:
    loaded = []
    for home in read_recording(trial).homes:
        records = [r for r in read_stream(home.stream) if isinstance(r, RecordedReading)]
        records.sort(key=lambda r: r.received)
        loaded.append((home.home, home.timezone, [r.reading for r in records]))
    return loaded


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("trial", type=Path, help="a recording from carewatch-sim export")
    parser.add_argument("--label", default="", help="printed with the result")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    homes = _load(args.trial)
    _run(homes[:2])  # warm up imports
    seconds, readings = [], 0
    for _ in range(args.runs):
        started = time.process_time()
        _, readings, _ = _run(homes)
        seconds.append(time.process_time() - started)
    print(
        json.dumps(
            {
                "label": args.label,
                "readings": readings,
                "cpu_s": [round(s, 3) for s in seconds],
                "readings_per_cpu_s": round(readings / min(seconds)),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()

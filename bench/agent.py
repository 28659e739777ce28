"""Hub agent footprint and outbox throughput.

    .venv/bin/python -m bench.agent                 # results added to docs/benchmarks.md
    .venv/bin/python -m bench.agent --seconds 10 --no-write

Runs the real agent in its own process against the machine's Mosquitto
(``--mqtt-url``) with 20 simulated sensors, first at a typical home's rate
(one reading every 10 s per sensor), then in a burst of 10 readings/s, and
reads its CPU and resident memory from /proc. Then measures the outbox alone:
readings stored, batched and acknowledged per second on this disk.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from edge.agent.outbox import Outbox
from edge.protocol import Reading, ReadingKind

ROOT = Path(__file__).resolve().parents[1]


def _agent_main(hub: str, mqtt_url: str, outbox: str, rate: float) -> None:
    """The agent process: 20 sensors reporting ``rate`` readings a second in all."""
    import threading
    from collections.abc import Sequence

    from edge.agent.agent import Agent
    from edge.agent.drivers import DriverEvent
    from edge.protocol import SensorHealth

    class Sensors:
        def __init__(self) -> None:
            self.next_at = time.monotonic()
            self.count = 0

        def poll(self, now: datetime) -> Sequence[DriverEvent]:
            events: list[DriverEvent] = []
            while time.monotonic() >= self.next_at:
                events.append(
                    Reading(f"sensor-{self.count % 20:02d}", ReadingKind.MOTION, now, 1.0)
                )
                self.count += 1
                self.next_at += 1 / rate
            return events

        def sensors(self) -> Sequence[SensorHealth]:
            return [
                SensorHealth(f"sensor-{i:02d}", "motion", "room", 90.0, 120.0) for i in range(20)
            ]

    agent = Agent(hub_id=hub, driver=Sensors(), outbox_path=Path(outbox), mqtt_url=mqtt_url)
    agent.start()
    agent.run(threading.Event())


def _cpu_and_rss(pid: int) -> tuple[float, float]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    return cpu, rss


def footprint(mqtt_url: str, rate: float, seconds: float) -> tuple[float, float]:
    """(share of one core, RSS in MB) of an agent process at ``rate`` readings/s."""
    with tempfile.TemporaryDirectory() as scratch:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.agent",
                "--run-agent",
                f"bench-hub-{os.getpid()}",
                mqtt_url,
                str(Path(scratch) / "outbox.sqlite3"),
                str(rate),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(3)  # start-up and imports are not the steady state
            cpu0, _ = _cpu_and_rss(process.pid)
            time.sleep(seconds)
            cpu1, rss = _cpu_and_rss(process.pid)
        finally:
            process.terminate()
            process.wait(10)
    return (cpu1 - cpu0) / seconds, rss


def outbox_throughput(readings: int = 20_000, batch: int = 100) -> float:
    """Readings per second through add → batch → acknowledge, in batches as the agent does."""
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as scratch:
        box = Outbox(Path(scratch) / "outbox.sqlite3", hub="bench")
        started = time.perf_counter()
        for start in range(0, readings, batch):
            box.add_readings(
                Reading("s", ReadingKind.MOTION, now + timedelta(seconds=i), 1.0)
                for i in range(start, start + batch)
            )
            made = box.assign_batch(max_readings=batch, sent_at=now)
            assert made is not None
            box.batch_acknowledged(made.seq)
        elapsed = time.perf_counter() - started
        box.close()
    return readings / elapsed


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--run-agent":
        _agent_main(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mqtt-url", default="mqtt://127.0.0.1:1883")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    typical = footprint(args.mqtt_url, 2.0, args.seconds)
    burst = footprint(args.mqtt_url, 10.0, args.seconds)
    throughput = outbox_throughput()
    lines = [
        f"| typical home: 20 sensors, 2 readings/s in all | {typical[0] * 100:.1f} % of a core | {typical[1]:.0f} MB |",
        f"| burst: 10 readings/s | {burst[0] * 100:.1f} % of a core | {burst[1]:.0f} MB |",
    ]
    print("\n".join(lines))
    print(f"outbox: {throughput:,.0f} readings/s stored, batched and acknowledged")
    if args.no_write:
        return
    from bench.ingest import _machine

    path = ROOT / "docs" / "benchmarks.md"
    path.write_text(
        path.read_text() + f"\n## Hub agent, {datetime.now(UTC):%Y-%m-%d}\n\n"
        f"Machine: {_machine()}. Command: `.venv/bin/python -m bench.agent --seconds {args.seconds:g}`.\n"
        "The agent in its own process against the machine's Mosquitto; CPU and RSS from /proc.\n\n"
        "| load | CPU | RSS |\n| --- | --- | --- |\n" + "\n".join(lines) + "\n\n"
        f"Outbox alone (SQLite, WAL, synchronous=FULL, on this disk): {throughput:,.0f} readings/s "
        "stored, put in batches of 100 and acknowledged.\n"
        "Not measured on a Raspberry Pi: compare with its 2 % / 50 MB aim with care.\n"
    )
    print(f"results added to {path}")


if __name__ == "__main__":
    main()

"""The ``carewatch-sim`` command: simulated homes live through hub agents, or offline to disk."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from zoneinfo import ZoneInfo

from firmware_sim.fleet import LiveFleet
from firmware_sim.offline import export_trial
from firmware_sim.persona import PERSONAS
from firmware_sim.progress import Progress
from firmware_sim.recording import label_line
from firmware_sim.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["main"]


def _trial_options(parser: argparse.ArgumentParser, *, days_help: str) -> None:
    parser.add_argument(
        "--scenario", type=Path, help="a trial described in TOML (docs/simulator.md)"
    )
    parser.add_argument("--homes", type=int, help="how many homes (default: the scenario's, 10)")
    parser.add_argument("--days", type=int, help=days_help)
    parser.add_argument("--seed", type=int, help="random seed; the same seed, the same homes")
    parser.add_argument(
        "--hub-prefix", help="hub ids are this plus 0001, 0002, … (default hub-sim-)"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carewatch-sim",
        description="Simulated older residents' homes with labelled incidents: live through real "
        "hub agents to a broker, or offline to a recording on disk.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run",
        help="homes publishing through hub agents to a broker",
        description="Each home runs a real hub agent publishing to the broker. The server "
        "refuses hubs it does not know: provision each one first "
        "('carewatch hub add HUB --resident NAME'). With --days the homes start that many "
        "days ago and run at --speed until they reach now, then stop once everything is "
        "delivered (or carry on live with --follow); without it they run live until Ctrl-C.",
    )
    _trial_options(run, days_help="simulate this many days up to now (default 0: live from now)")
    run.add_argument(
        "--speed", type=float, default=600.0, help="speed-up while catching up (default 600)"
    )
    run.add_argument("--follow", action="store_true", help="after catching up, carry on live")
    run.add_argument("--mqtt-url", default="mqtt://127.0.0.1:1883", help="the server's broker")
    run.add_argument(
        "--mqtt-protocol", choices=("5", "3.1.1"), default="5", help="MQTT version (default 5)"
    )
    run.add_argument("--outbox-dir", type=Path, help="where the hubs keep their outboxes")
    run.add_argument("--labels", type=Path, help="write the run's ground truth here (JSON lines)")

    export = commands.add_parser(
        "export",
        help="write a trial to disk: one stream per home and a labels file",
        description="Offline mode: no broker, all cores. Writes the recording format of "
        "docs/recording-format.md, which carewatch-eval reads.",
    )
    _trial_options(export, days_help="how many days (default: the scenario's, 30)")
    export.add_argument("--out", type=Path, required=True, help="a new or empty directory")
    export.add_argument("--workers", type=int, help="processes (default: one per core)")

    commands.add_parser("personas", help="list the residents the simulator can play")
    return parser


def _scenario(args: argparse.Namespace, **extra: object) -> Scenario:
    scenario = load_scenario(args.scenario) if args.scenario else Scenario()
    given = {
        "homes": args.homes,
        "days": args.days,
        "seed": args.seed,
        "hub_prefix": args.hub_prefix,
    }
    return scenario.with_trial(**(given | extra))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``carewatch-sim``."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "personas":
            for persona in PERSONAS.values():
                print(f"{persona.name:12} {persona.description}")
            return 0
        if args.command == "export":
            return _export(args)
        return _run(args)
    except (ScenarioError, ValueError, FileExistsError) as exc:
        print(f"carewatch-sim: {exc}", file=sys.stderr)
        return 2


def _export(args: argparse.Namespace) -> int:
    scenario = _scenario(args)
    trial = scenario.trial
    started = time.monotonic()
    summary = export_trial(
        scenario, args.out, workers=args.workers, progress=Progress(f"{trial.homes} homes")
    )
    print(
        f"carewatch-sim: {summary.homes} homes x {summary.days} days (seed {trial.seed}) → "
        f"{summary.out}: {summary.lines:,} records, {summary.labels} labels, "
        f"{time.monotonic() - started:.1f} s"
    )
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.speed <= 0 or (args.days is not None and args.days < 0):
        raise ValueError("--speed must be positive and --days not negative")
    days = args.days or 0
    now = datetime.now(UTC)
    probe = _scenario(args, days=max(days, 1))
    zone = ZoneInfo(probe.trial.timezone)
    first_day = (now - timedelta(days=days)).astimezone(zone).date()
    # A live run starts now; a catch-up run at local midnight ``days`` ago.
    scenario = probe.with_trial(start=first_day, days=max(days, 1))
    start = scenario.start() if days else now
    end = start + timedelta(days=days)
    stops_at_end = bool(days) and not args.follow
    with tempfile.TemporaryDirectory(prefix="carewatch-sim-") as scratch:
        fleet = LiveFleet(
            scenario,
            start=start,
            speed=args.speed,
            # A run that ends stops its clock at the end, so the outboxes can empty.
            end=end if stops_at_end else None,
            mqtt_url=args.mqtt_url,
            outbox_dir=args.outbox_dir or Path(scratch),
            heartbeat_s=60.0 if days == 0 else 300.0,
            mqtt_protocol=args.mqtt_protocol,
        )
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, request_stop)
            signal.signal(signal.SIGINT, request_stop)
        fleet.start()
        print(
            f"carewatch-sim: {scenario.trial.homes} homes publishing to {args.mqtt_url}"
            + (f", {days} days at {args.speed:g}x" if days else " live")
            + "; Ctrl-C stops.",
            flush=True,
        )
        try:
            if stops_at_end:
                _until_delivered(fleet, start, end, stop)
            else:
                stop.wait()
        finally:
            fleet.stop()
        stopped_at = fleet.clock.now()
    if args.labels:
        _write_labels(args.labels, scenario, start, stopped_at)
    return 0


def _write_labels(path: Path, scenario: Scenario, start: datetime, until: datetime) -> None:
    """The run's ground truth, from the same homes replayed (they are deterministic)."""
    with path.open("w", encoding="utf-8") as f:
        for spec in scenario.homes():
            home = scenario.build(spec, start=start)
            home.sensor_events_until(until)
            for label in home.take_labels():
                if label.start < until:
                    f.write(label_line(label) + "\n")


def _until_delivered(
    fleet: LiveFleet, start: datetime, end: datetime, stop: threading.Event
) -> None:
    total = round((end - start).total_seconds() / 3600)
    progress = Progress("simulated hours")
    while not stop.wait(1.0):
        now = fleet.clock.now()
        progress(min(total, int((now - start).total_seconds() // 3600)), total)
        if fleet.failed():
            raise RuntimeError("a simulator worker process stopped; see its messages above")
        if now >= end and fleet.waiting() == 0:
            return

"""The ``carewatch-sim`` command: simulated homes driving hub agents against a broker."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

from firmware_sim.clock import CatchUpClock
from firmware_sim.home import SimulatedHome
from firmware_sim.live import LiveHomes

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carewatch-sim",
        description="Simulated homes, each with a real hub agent publishing to a broker. "
        "The server refuses hubs it does not know: provision each one first with "
        "'carewatch hub add HUB --resident NAME'.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run homes until stopped (Ctrl-C)")
    run.add_argument("--mqtt-url", default="mqtt://127.0.0.1:1883", help="the server's broker")
    run.add_argument("--homes", type=int, default=3, help="how many homes (default 3)")
    run.add_argument(
        "--hub-prefix",
        default="hub-sim-",
        help="hub ids are this plus 01, 02, … (default hub-sim-)",
    )
    run.add_argument(
        "--days-back",
        type=float,
        default=0.0,
        help="start simulated time this many days ago and run fast until it catches up",
    )
    run.add_argument("--speed", type=float, default=600.0, help="speed-up while catching up")
    run.add_argument(
        "--seed", type=int, default=1, help="random seed; the same seed, the same days"
    )
    run.add_argument("--outbox-dir", type=Path, help="where the hubs keep their outboxes")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``carewatch-sim``."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.homes < 1 or args.speed <= 0 or args.days_back < 0:
        print(
            "carewatch-sim: --homes and --speed must be positive, --days-back not negative",
            file=sys.stderr,
        )
        return 2
    start = datetime.now(UTC) - timedelta(days=args.days_back)
    clock = CatchUpClock(start=start, speed=args.speed)
    with tempfile.TemporaryDirectory(prefix="carewatch-sim-") as scratch:
        homes = LiveHomes(
            mqtt_url=args.mqtt_url,
            outbox_dir=args.outbox_dir or Path(scratch),
            clock=clock.now,
            heartbeat_s=60.0 if args.days_back == 0 else 300.0,
        )
        for i in range(args.homes):
            hub = f"{args.hub_prefix}{i + 1:02d}"
            homes.add(hub, SimulatedHome(home_id=hub, start=start, seed=args.seed * 1000 + i))
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        homes.start()
        print(
            f"carewatch-sim: {args.homes} homes publishing to {args.mqtt_url}; Ctrl-C stops.",
            flush=True,
        )
        try:
            stop.wait()
        finally:
            homes.stop()
    return 0

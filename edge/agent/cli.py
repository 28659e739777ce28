"""The ``carewatch-agent`` command: run the hub agent in a resident's home."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from types import FrameType

from pydantic import ValidationError

from edge.agent.agent import Agent
from edge.agent.drivers import Driver
from edge.agent.schedule import FlushPolicy
from edge.agent.settings import AgentSettings

__all__ = ["main"]

log = logging.getLogger("carewatch.agent")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carewatch-agent",
        description="The carewatch hub agent: reads the home's sensors, keeps every reading "
        "on disk until the server's broker has it, and sends alarms at once. Settings come "
        "from CAREWATCH_AGENT_* environment variables; options override them.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the agent until stopped (SIGTERM or Ctrl-C)")
    run.add_argument("--hub", dest="hub_id", help="this hub's id (CAREWATCH_AGENT_HUB_ID)")
    run.add_argument("--mqtt-url", help="the server's broker, mqtt://user:pass@host:port")
    run.add_argument("--outbox", dest="outbox_path", help="the outbox database file")
    run.add_argument("--heartbeat-s", type=float, help="seconds between heartbeats")
    run.add_argument("--ca-file", help="the CA that signed the broker's certificate (mqtts://)")
    run.add_argument(
        "--driver",
        choices=["sim"],
        default="sim",
        help="where readings come from: 'sim' is a simulated home in real time "
        "(real sensor drivers are still to come)",
    )
    run.add_argument("--sim-seed", type=int, default=1, help="the simulated home's seed")
    return parser


def _simulated_home(hub: str, seed: int) -> Driver:
    try:
        from firmware_sim.driver import SimDriver
        from firmware_sim.home import SimulatedHome
    except ImportError:
        raise SystemExit(
            "carewatch-agent: the 'sim' driver needs the simulator: pip install 'carewatch[sim]'"
        ) from None
    return SimDriver(SimulatedHome(home_id=hub, start=datetime.now(UTC), seed=seed))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``carewatch-agent``."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    overrides = {
        key: value
        for key in ("hub_id", "mqtt_url", "outbox_path", "heartbeat_s", "ca_file")
        if (value := getattr(args, key)) is not None
    }
    try:
        settings = AgentSettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        print(
            f"carewatch-agent: configuration is not valid: {problems}\n"
            "Set it with options (see --help) or CAREWATCH_AGENT_* variables.",
            file=sys.stderr,
        )
        return 2
    settings.outbox_path.parent.mkdir(parents=True, exist_ok=True)
    agent = Agent(
        hub_id=settings.hub_id,
        driver=_simulated_home(settings.hub_id, args.sim_seed),
        outbox_path=settings.outbox_path,
        mqtt_url=settings.mqtt_url,
        heartbeat_s=settings.heartbeat_s,
        flush=FlushPolicy(settings.batch_max_readings, settings.batch_max_delay_s),
        ca_file=settings.ca_file,
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        log.info("stopping (signal %d)", signum)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    agent.start()
    try:
        agent.run(stop)
    finally:
        agent.stop()
    return 0

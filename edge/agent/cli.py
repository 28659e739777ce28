"""The ``carewatch-agent`` command: run the hub agent in a resident's home."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from pydantic import ValidationError

from edge.agent.agent import Agent
from edge.agent.check import run_check
from edge.agent.drivers import Combined, Driver
from edge.agent.registry import installed_drivers, load_driver
from edge.agent.schedule import FlushPolicy
from edge.agent.settings import AgentSettings, read_config

__all__ = ["main"]

log = logging.getLogger("carewatch.agent")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carewatch-agent",
        description="The carewatch hub agent: reads the home's sensors, keeps every reading "
        "on disk until the server's broker has it, and sends alarms at once. Settings come "
        "from options, then --config agent.toml, then CAREWATCH_AGENT_* variables.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the agent until stopped (SIGTERM or Ctrl-C)")
    run.add_argument("--hub", dest="hub_id", help="this hub's id (CAREWATCH_AGENT_HUB_ID)")
    run.add_argument("--mqtt-url", help="the server's broker, mqtt://user:pass@host:port")
    run.add_argument("--outbox", dest="outbox_path", help="the outbox database file")
    run.add_argument("--heartbeat-s", type=float, help="seconds between heartbeats")
    run.add_argument("--ca-file", help="the CA that signed the broker's certificate (mqtts://)")
    run.add_argument("--config", type=Path, help="agent.toml (see deploy/agent/agent.example.toml)")
    run.add_argument(
        "--driver",
        help="where readings come from: 'zigbee2mqtt' on the hub's local broker, or 'sim', "
        f"a simulated home in real time, for trials (installed: {', '.join(installed_drivers())}; "
        "default: the config's; there is no default beyond it)",
    )
    run.add_argument("--sim-seed", type=int, help="the simulated home's seed (default 1)")
    check = commands.add_parser(
        "check",
        help="before leaving a home: broker reachable? zigbee2mqtt running? sensors heard?",
    )
    check.add_argument("--config", type=Path, help="agent.toml")
    check.add_argument(
        "--listen-s", type=float, default=10.0, help="how long to listen for sensors (default 10)"
    )
    return parser


def _driver(settings: AgentSettings) -> Driver:
    main_driver = load_driver(settings)
    if not settings.gpio:
        return main_driver
    from edge.agent.gpio import GpioDriver, GpioSensor  # needs gpiozero, on the Pi

    wired = [GpioSensor(g.pin, g.sensor, g.kind, g.room, g.closed_when_low) for g in settings.gpio]
    log.info("%d wired sensors on GPIO", len(wired))
    return Combined([main_driver, GpioDriver(wired)])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``carewatch-agent``."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    overrides = {
        key: value
        for key in (
            "hub_id",
            "mqtt_url",
            "outbox_path",
            "heartbeat_s",
            "ca_file",
            "driver",
            "sim_seed",
        )
        if (value := getattr(args, key, None)) is not None
    }
    if args.command == "check":
        try:
            from_file = read_config(args.config) if args.config else {}
            report = run_check(AgentSettings(**from_file), listen_s=args.listen_s)
        except ValueError as exc:
            print(f"carewatch-agent: {exc}", file=sys.stderr)
            return 2
        print("\n".join(report.lines()))
        return 0 if report.ok else 1
    try:
        from_file = read_config(args.config) if args.config else {}
        settings = AgentSettings(**{**from_file, **overrides})
        driver = _driver(settings)
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
    except ValueError as exc:
        print(f"carewatch-agent: {exc}", file=sys.stderr)
        return 2
    settings.outbox_path.parent.mkdir(parents=True, exist_ok=True)
    agent = Agent(
        hub_id=settings.hub_id,
        driver=driver,
        outbox_path=settings.outbox_path,
        mqtt_url=settings.mqtt_url,
        heartbeat_s=settings.heartbeat_s,
        flush=FlushPolicy(settings.batch_max_readings, settings.batch_max_delay_s),
        ca_file=settings.ca_file,
        max_outbox_readings=settings.max_outbox_readings,
        mqtt_protocol=settings.mqtt_protocol,
        client_cert=(
            (settings.client_cert_file, settings.client_key_file)
            if settings.client_cert_file and settings.client_key_file
            else None
        ),
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

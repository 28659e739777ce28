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
from edge.agent.check import file_answers, run_check
from edge.agent.drivers import Combined, Driver
from edge.agent.registry import installed_drivers, load_driver
from edge.agent.schedule import FlushPolicy
from edge.agent.settings import AgentSettings, load_settings

__all__ = ["main"]

log = logging.getLogger("carewatch.agent")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carewatch-agent",
        description="The carewatch hub agent: reads the home's sensors, keeps every reading "
        "on disk until the server's broker has it, and sends alarms at once. Settings come "
        "from options, then CAREWATCH_AGENT_* variables (agent.env), then --config agent.toml.",
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
        help="before leaving a home: files, broker, zigbee2mqtt, each sensor's battery, "
        "signal and room, unmapped devices, the clock; exits 0 only if all is well",
    )
    check.add_argument("--config", type=Path, help="agent.toml")
    check.add_argument(
        "--listen-s", type=float, default=10.0, help="how long to listen for sensors (default 10)"
    )
    check.add_argument(
        "--test",
        action="store_true",
        help="also send a test alarm and wait for the server to confirm it stored it "
        "(it raises no alert and notifies nobody); compares the hub's clock with the server's",
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


def _settings(config: Path | None, overrides: dict[str, object]) -> AgentSettings | None:
    """The hub's settings, or None after saying on stderr what is wrong and where to fix it."""
    try:
        return load_settings(config, overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}" for e in exc.errors()
        )
        print(
            f"carewatch-agent: configuration is not valid: {problems}\n"
            "Set it with options (see --help), CAREWATCH_AGENT_* variables in "
            "/etc/carewatch/agent.env, or agent.toml (docs/hub-install.md).",
            file=sys.stderr,
        )
    except ValueError as exc:
        print(f"carewatch-agent: {exc}", file=sys.stderr)
    return None


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
    settings = _settings(args.config, overrides)
    if settings is None:
        return 2
    if args.command == "check":
        report = run_check(settings, listen_s=args.listen_s, test=args.test)
        print("\n".join(report.lines()))
        return 0 if report.ok else 1
    if missing := file_answers(settings):
        # The same words as `check`: a missing CA file is no reason for a traceback.
        print(
            "\n".join(f"carewatch-agent: {a.subject}: {a.words}" for a in missing), file=sys.stderr
        )
        return 2
    try:
        driver = _driver(settings)
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

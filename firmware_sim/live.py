"""Live mode: simulated homes driving real hub agents over MQTT, each on its own thread."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from edge.agent.agent import Agent
from edge.agent.drivers import Clock, wall_clock
from edge.agent.link import MqttProtocol
from edge.agent.schedule import FlushPolicy
from firmware_sim.driver import SimDriver
from firmware_sim.home import SimulatedHome

__all__ = ["LiveHomes"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Running:
    agent: Agent
    thread: threading.Thread


class LiveHomes:
    """Runs one hub agent per simulated home against a broker, with a shared clock.

    ``heartbeat_s`` is in simulated seconds: at a speed-up of 600 a heartbeat
    every five simulated minutes is one every half second of real time, which
    is what lets the server see a silence as it grows.
    """

    def __init__(
        self,
        *,
        mqtt_url: str,
        outbox_dir: Path,
        clock: Clock = wall_clock,
        heartbeat_s: float = 60.0,
        flush: FlushPolicy | None = None,
        tick_s: float = 0.05,
        mqtt_protocol: MqttProtocol = "3.1.1",
    ) -> None:
        self._mqtt_protocol = mqtt_protocol
        self._mqtt_url = mqtt_url
        self._outbox_dir = outbox_dir
        self._clock = clock
        self._heartbeat_s = heartbeat_s
        self._flush = flush or FlushPolicy(max_readings=500, max_delay_s=0.5)
        self._tick_s = tick_s
        self._homes: dict[str, SimulatedHome] = {}
        self._running: dict[str, _Running] = {}
        self._stop = threading.Event()

    def add(self, hub: str, home: SimulatedHome) -> None:
        """A home whose hub is ``hub``; add them all before :meth:`start`."""
        self._homes[hub] = home

    def agent(self, hub: str) -> Agent:
        """The running agent of ``hub``."""
        return self._running[hub].agent

    def start(self) -> None:
        """Start every home's agent."""
        self._outbox_dir.mkdir(parents=True, exist_ok=True)
        for hub, home in self._homes.items():
            agent = Agent(
                hub_id=hub,
                driver=SimDriver(home),
                outbox_path=self._outbox_dir / f"{hub}.sqlite3",
                mqtt_url=self._mqtt_url,
                clock=self._clock,
                heartbeat_s=self._heartbeat_s,
                flush=self._flush,
                tick_s=self._tick_s,
                # The demo's embedded broker (amqtt) speaks MQTT 3.1.1 only.
                mqtt_protocol=self._mqtt_protocol,
            )
            agent.start()
            thread = threading.Thread(
                target=agent.run, args=(self._stop,), name=f"hub-{hub}", daemon=True
            )
            thread.start()
            self._running[hub] = _Running(agent, thread)
        log.info("%d simulated homes running", len(self._running))

    def waiting(self) -> int:
        """What waits in the hubs' outboxes: readings not acknowledged, alarms not confirmed."""
        return sum(running.agent.outbox.depth() for running in self._running.values())

    def stop(self) -> None:
        """Stop every agent; each says it is going offline."""
        self._stop.set()
        for running in self._running.values():
            running.thread.join(timeout=10)
            running.agent.stop()
        self._running.clear()

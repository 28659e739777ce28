"""A scenario's homes live, through real hub agents, spread over worker processes.

One process cannot run more than about 150 hub agents: paho's network loop
uses ``select()``, which cannot watch a socket numbered 1024 or above, and
each agent holds a socket and three files for its SQLite outbox. So a fleet
gives each process its share of homes (``homes_per_process``), with a clock
that all of them compute the same way from the wall clock.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.context import SpawnProcess
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path

from edge.agent.link import MqttProtocol
from firmware_sim.live import LiveHomes
from firmware_sim.scenario import Scenario

__all__ = ["FleetClock", "LiveFleet"]

log = logging.getLogger(__name__)


@dataclass(slots=True, frozen=True)
class FleetClock:
    """Simulated time from ``start`` at ``speed`` since the wall-clock ``origin``, never past now or ``end``."""

    start: datetime
    speed: float
    origin: float
    end: datetime | None = None

    def now(self) -> datetime:
        """The simulated time, the same in every process of the fleet."""
        simulated = self.start + timedelta(seconds=(time.time() - self.origin) * self.speed)
        latest = datetime.now(UTC) if self.end is None else min(datetime.now(UTC), self.end)
        return min(simulated, latest)


@dataclass(slots=True, frozen=True)
class _Share:
    scenario: Scenario
    indices: tuple[int, ...]
    start: datetime
    clock: FleetClock
    mqtt_url: str
    outbox_dir: Path
    heartbeat_s: float
    mqtt_protocol: MqttProtocol


def _run_share(share: _Share, stop: Event, waiting: Synchronized[int]) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    homes = LiveHomes(
        mqtt_url=share.mqtt_url,
        outbox_dir=share.outbox_dir,
        clock=share.clock.now,
        heartbeat_s=share.heartbeat_s,
        mqtt_protocol=share.mqtt_protocol,
    )
    for index in share.indices:
        spec = share.scenario.home(index)
        homes.add(spec.hub, share.scenario.build(spec, start=share.start))
    homes.start()
    end = share.clock.end
    ended_at: float | None = None
    try:
        while not stop.wait(1.0):
            if end is not None and share.clock.now() < end:
                continue
            # Count only once every agent has stepped past the end at least once.
            ended_at = ended_at or time.monotonic()
            if time.monotonic() - ended_at >= 2.0:
                waiting.value = homes.waiting()
    finally:
        homes.stop()


class LiveFleet:
    """Every home of ``scenario`` publishing through its own hub agent, from ``start`` on."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        start: datetime,
        speed: float,
        mqtt_url: str,
        outbox_dir: Path,
        end: datetime | None = None,
        heartbeat_s: float = 300.0,
        mqtt_protocol: MqttProtocol = "5",
        homes_per_process: int = 100,
    ) -> None:
        self.clock = FleetClock(start=start, speed=speed, origin=time.time(), end=end)
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._workers: list[tuple[SpawnProcess, Synchronized[int]]] = []
        indices = list(range(scenario.trial.homes))
        outbox_dir.mkdir(parents=True, exist_ok=True)
        for first in range(0, len(indices), homes_per_process):
            share = _Share(
                scenario=scenario,
                indices=tuple(indices[first : first + homes_per_process]),
                start=start,
                clock=self.clock,
                mqtt_url=mqtt_url,
                outbox_dir=outbox_dir,
                heartbeat_s=heartbeat_s,
                mqtt_protocol=mqtt_protocol,
            )
            # -1 until the worker has its agents running and has counted.
            waiting: Synchronized[int] = context.Value("q", -1)
            process = context.Process(
                target=_run_share, args=(share, self._stop, waiting), daemon=True
            )
            self._workers.append((process, waiting))

    def start(self) -> None:
        """Start every worker process and its agents."""
        for process, _ in self._workers:
            process.start()

    def waiting(self) -> int | None:
        """Readings and alarms not yet acknowledged in all outboxes.

        None until every worker has counted, which with an ``end`` is only
        once its clock has stopped there.
        """
        counts = [waiting.value for _, waiting in self._workers]
        if any(count < 0 for count in counts):
            return None
        return sum(counts)

    def failed(self) -> bool:
        """Whether a worker process died."""
        return any(p.exitcode not in (None, 0) for p, _ in self._workers)

    def stop(self) -> None:
        """Stop every agent (each says it is going offline) and the workers."""
        self._stop.set()
        for process, _ in self._workers:
            process.join(timeout=60)
            if process.is_alive():
                log.warning("a simulator worker did not stop; terminating it")
                process.terminate()

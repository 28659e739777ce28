"""The simulator seen from the hub agent: zigbee2mqtt messages through the agent's own mapper.

The home's devices speak zigbee2mqtt (:mod:`firmware_sim.zigbee`); the driver
hands those messages to :class:`edge.agent.zigbee.Zigbee2Mqtt`, the code that
reads a real hub's zigbee2mqtt, so a simulated home goes through the same
mapping, change detection and battery bookkeeping as a real one.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime

from edge.agent.drivers import DriverEvent
from edge.agent.settings import AgentSettings
from edge.agent.zigbee import Zigbee2Mqtt
from edge.protocol import SensorHealth
from firmware_sim.home import SimulatedHome
from firmware_sim.zigbee import Zigbee2MqttEncoder

__all__ = ["SimDriver", "from_settings"]


class SimDriver:
    """Hands the agent what a simulated home's devices reported up to ``now``."""

    def __init__(self, home: SimulatedHome) -> None:
        self.home = home
        link_noise = random.Random(f"{home.seed}:links")

        def health(sensor: str, ts: float) -> tuple[float | None, float]:
            battery = home.firmware.batteries.get(sensor)
            level = None if battery is None else round(battery.at(ts, home.firmware.start))
            quality = home.firmware.link_quality[sensor] + link_noise.gauss(0, 8)
            return level, round(min(255.0, max(0.0, quality)))

        self._encoder = Zigbee2MqttEncoder(health=health, silent=home.firmware.silent)
        # Only what the installer fitted: the hub's sensor map lists no missing device.
        self._mapper = Zigbee2Mqtt(home.sensors)

    def poll(self, now: datetime) -> Sequence[DriverEvent]:
        """Events since the last poll, oldest first."""
        messages = self._encoder.encode(self.home.sensor_events_until(now))
        messages += self._encoder.due(now.timestamp())
        messages.sort(key=lambda m: m[0])
        events: list[DriverEvent] = []
        for ts, topic, payload in messages:
            events.extend(self._mapper.feed(topic, payload, datetime.fromtimestamp(ts, UTC)))
        return events

    def sensors(self) -> Sequence[SensorHealth]:
        """The home's sensors with their battery and link as last reported."""
        return self._mapper.health()


def from_settings(settings: AgentSettings) -> SimDriver:
    """The ``sim`` entry of ``carewatch.drivers``: a simulated home in real time, for trials."""
    return SimDriver(
        SimulatedHome(home_id=settings.hub_id, start=datetime.now(UTC), seed=settings.sim_seed)
    )

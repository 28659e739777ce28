"""The simulator seen from the hub agent: a driver like any real sensor driver."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from edge.agent.drivers import DriverEvent
from edge.protocol import SensorHealth
from firmware_sim.home import SimulatedHome

__all__ = ["SimDriver"]


class SimDriver:
    """Hands the agent what a simulated home's sensors reported up to ``now``."""

    def __init__(self, home: SimulatedHome) -> None:
        self.home = home

    def poll(self, now: datetime) -> Sequence[DriverEvent]:
        """Events since the last poll, oldest first."""
        return self.home.events_until(now)

    def sensors(self) -> Sequence[SensorHealth]:
        """The home's sensors with their battery and link."""
        return self.home.sensors()

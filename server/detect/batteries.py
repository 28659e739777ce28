"""Batteries running low: the installer's to change (a technical alert, once per sensor).

Its own state (the sensors told about) and checkpoint section, ``batteries``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from edge.protocol import SensorHealth
from server.domain.alerts import AlertKind
from server.domain.findings import Condition, Finding

__all__ = ["BATTERY_CHANGED", "Batteries", "judge_batteries"]

# A battery low once is low until it reads at least this (changed), not at each wobble
# around the low limit.
BATTERY_CHANGED = 50.0


@dataclass(slots=True)
class Batteries:
    """The sensors whose low battery the installer was told about."""

    low: set[str] = field(default_factory=set)

    def section(self) -> dict[str, Any]:
        """The checkpoint section (the name is that of the first checkpoints)."""
        return {"low_batteries": sorted(self.low)}

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> Batteries:
        """A state from :meth:`section`."""
        return cls(low=set(section["low_batteries"]))


def judge_batteries(
    hub: str, batteries: Batteries, sensors: Sequence[SensorHealth], ts: datetime, *, low: float
) -> list[Finding]:
    """A heartbeat's battery levels: each sensor below ``low`` is told once, until changed."""
    found: list[Finding] = []
    for sensor in sensors:
        if sensor.battery is None:
            continue
        if sensor.battery < low and sensor.sensor not in batteries.low:
            batteries.low.add(sensor.sensor)
            found.append(
                Condition(
                    hub=hub,
                    kind=AlertKind.BATTERY_LOW,
                    event_at=ts,
                    reason=f"The battery of {sensor.sensor} is at {sensor.battery:.0f} %: "
                    "change it within a week, or the sensor will stop.",
                    details={"sensor": sensor.sensor, "battery": sensor.battery},
                )
            )
        elif sensor.battery >= BATTERY_CHANGED:
            batteries.low.discard(sensor.sensor)
    return found

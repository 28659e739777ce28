"""What the simulated devices say on zigbee2mqtt: the same messages real ones publish.

zigbee2mqtt publishes a device's whole state on ``zigbee2mqtt/<friendly name>``
at every change: a PIR's ``occupancy`` (cleared again after its occupancy
timeout), a contact's ``contact`` (true = magnet touching = closed), the
battery and link quality with everything, and a state report every few hours
that changes nothing. The hub agent's zigbee2mqtt mapper reads these, so a
simulated home exercises the same code a real one does.

>>> from firmware_sim.devices import SensorEvent
>>> encoder = Zigbee2MqttEncoder(health=lambda sensor, ts: (90.0, 120.0))
>>> [(topic, payload) for _, topic, payload in encoder.encode([SensorEvent(0.0, "front-door", "contact", 1.0)])]
[('zigbee2mqtt/front-door', b'{"contact": false, "battery": 90.0, "linkquality": 120.0}')]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from firmware_sim.devices import ALARM_KINDS, SENSORS, SensorEvent

__all__ = ["OCCUPANCY_TIMEOUT_S", "STATE_REPORT_S", "Zigbee2MqttEncoder"]

# zigbee2mqtt's default occupancy_timeout for PIRs.
OCCUPANCY_TIMEOUT_S = 90.0
# Sleepy devices check in (battery, link) every few hours.
STATE_REPORT_S = 4 * 3600.0

Health = Callable[[str, float], tuple[float | None, float]]
Message = tuple[float, str, bytes]


class Zigbee2MqttEncoder:
    """Turns device reports into zigbee2mqtt messages, keeping each device's state."""

    def __init__(
        self,
        *,
        health: Health,
        silent: Callable[[str, float], bool] = lambda sensor, ts: False,
        base_topic: str = "zigbee2mqtt",
    ) -> None:
        self._health = health
        self._silent = silent
        self._prefix = base_topic.rstrip("/") + "/"
        self._state: dict[str, dict[str, Any]] = {d.sensor: {} for d in SENSORS}
        self._occupancy_clears: dict[str, float] = {}
        self._next_report: float | None = None

    def encode(self, events: Iterable[SensorEvent]) -> list[Message]:
        """Messages for ``events`` (in time order), with the occupancy clears and reports due."""
        out: list[Message] = []
        climate: dict[str, Any] = {}
        last: SensorEvent | None = None
        for e in events:
            if climate and last is not None and (e.ts, e.sensor) != (last.ts, last.sensor):
                out.append(self._publish(last.ts, last.sensor, climate))
                climate = {}
            self._due(e.ts, out)
            if e.kind in ("temperature", "humidity"):
                # zigbee2mqtt sends temperature and humidity in one message.
                climate[e.kind] = e.value
            else:
                out.append(self._publish(e.ts, e.sensor, self._change(e)))
            last = e
        if climate and last is not None:
            out.append(self._publish(last.ts, last.sensor, climate))
        return out

    def due(self, until: float) -> list[Message]:
        """Occupancy clears and state reports due up to ``until`` with no event to carry them."""
        out: list[Message] = []
        self._due(until, out)
        return out

    def _change(self, e: SensorEvent) -> dict[str, Any]:
        if e.kind in ALARM_KINDS:
            return {"action": "emergency"}
        match e.kind:
            case "motion":
                self._occupancy_clears[e.sensor] = e.ts + OCCUPANCY_TIMEOUT_S
                return {"occupancy": True}
            case "contact":
                return {"contact": e.value < 0.5}
            case "bed" | "chair":
                return {"occupancy": e.value >= 0.5}
            case "power":
                return {"power": e.value, "state": "ON" if e.value > 0 else "OFF"}
            case "button":
                return {"action": "single"}
        return {e.kind: e.value}

    def _due(self, ts: float, out: list[Message]) -> None:
        for sensor, clear in sorted(self._occupancy_clears.items(), key=lambda kv: kv[1]):
            if clear <= ts:
                del self._occupancy_clears[sensor]
                out.append(self._publish(clear, sensor, {"occupancy": False}))
        if self._next_report is None:
            self._next_report = ts + STATE_REPORT_S
        while self._next_report <= ts:
            at = self._next_report
            for d in SENSORS:
                # Actions are not state; a silent device reports nothing.
                if (
                    d.kind in ("pendant", "button", "temperature")
                    or d.sensor in self._occupancy_clears
                ):
                    # Actions are not state, a thermometer's own hourly report is its
                    # check-in, and an occupied PIR reports its own clear.
                    continue
                if not self._silent(d.sensor, at):
                    out.append(self._publish(at, d.sensor, {}))
            self._next_report += STATE_REPORT_S

    def _publish(self, ts: float, sensor: str, change: dict[str, Any]) -> Message:
        state = self._state[sensor]
        state.update({k: v for k, v in change.items() if k != "action"})
        battery, link = self._health(sensor, ts)
        message = dict(state)
        if "action" in change:
            message["action"] = change["action"]
        if battery is not None:
            message["battery"] = battery
        message["linkquality"] = link
        return ts, self._prefix + sensor, json.dumps(message).encode()

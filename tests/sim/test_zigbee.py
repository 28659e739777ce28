"""A simulated home goes through the hub agent's own zigbee2mqtt mapper and comes out the same."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from edge.agent.drivers import DriverEvent
from edge.agent.zigbee import Zigbee2Mqtt
from firmware_sim.devices import SENSORS, SensorEvent
from firmware_sim.driver import SimDriver
from firmware_sim.home import SimulatedHome, driver_event
from firmware_sim.incidents import BatteryFlat, Fall, PendantPress
from firmware_sim.persona import PERSONAS
from firmware_sim.zigbee import STATE_REPORT_S, Zigbee2MqttEncoder

ZONE = ZoneInfo("Europe/London")
START = datetime.combine(date(2026, 10, 5), time(0), ZONE).astimezone(UTC)


def _home() -> SimulatedHome:
    return SimulatedHome(
        home_id="h",
        start=START,
        seed=5,
        persona=PERSONAS["with_carer"],
        sensor_dropouts_per_month=2.0,
        incidents=[
            Fall(START + timedelta(days=3, hours=11)),
            BatteryFlat(START + timedelta(days=4), sensor="bed"),
            PendantPress(START + timedelta(days=2, hours=15)),
        ],
    )


def test_the_agents_mapper_reads_back_exactly_what_the_devices_reported() -> None:
    end = START + timedelta(days=8)
    reported = [driver_event(e) for e in _home().sensor_events_until(end)]
    driver = SimDriver(_home())
    mapped: list[DriverEvent] = []
    t = START
    while t < end:
        t += timedelta(minutes=3)
        mapped.extend(driver.poll(t))
    assert mapped == reported
    kinds = {type(e).__name__ for e in mapped}
    assert kinds == {"Reading", "AlarmTrigger"}
    # Batteries and link quality come through the mapper, as from real devices.
    health = {s.sensor: s for s in driver.sensors()}
    assert set(health) == {d.sensor for d in SENSORS}
    assert health["kettle"].battery is None
    assert all(0 <= (h.link or 0) <= 255 for h in health.values())


def test_messages_are_zigbee2mqtts_and_state_reports_are_not_readings() -> None:
    encoder = Zigbee2MqttEncoder(health=lambda sensor, ts: (80.0, 100.0))
    events = [
        SensorEvent(0.0, "kitchen-pir", "motion", 1.0),
        SensorEvent(10.0, "front-door", "contact", 1.0),
        SensorEvent(20.0, "front-door", "contact", 0.0),
        SensorEvent(30.0, "lounge-temp", "temperature", 19.5),
        SensorEvent(30.0, "lounge-temp", "humidity", 51.0),
        SensorEvent(40.0, "pendant", "pendant", 1.0),
    ]
    messages = encoder.encode(events) + encoder.due(STATE_REPORT_S * 2 + 1)
    payloads = [(topic, json.loads(payload)) for _, topic, payload in messages]
    assert payloads[0] == (
        "zigbee2mqtt/kitchen-pir",
        {"occupancy": True, "battery": 80.0, "linkquality": 100.0},
    )
    assert payloads[1][1]["contact"] is False  # open: the magnet is away
    assert payloads[2][1]["contact"] is True
    assert payloads[3] == (
        "zigbee2mqtt/lounge-temp",
        {"temperature": 19.5, "humidity": 51.0, "battery": 80.0, "linkquality": 100.0},
    )
    assert payloads[4][1]["action"] == "emergency"
    # After the occupancy timeout the PIR clears itself, then the sleepy devices check in.
    assert payloads[5] == (
        "zigbee2mqtt/kitchen-pir",
        {"occupancy": False, "battery": 80.0, "linkquality": 100.0},
    )
    reports = payloads[6:]
    assert len(reports) > len(SENSORS)
    mapper = Zigbee2Mqtt(SENSORS)
    first = datetime(2026, 11, 24, tzinfo=UTC)
    readings = [
        e
        for ts, topic, payload in messages
        for e in mapper.feed(topic, payload, first + timedelta(seconds=ts))
    ]
    # Six reports became six events (temperature and humidity are one message, two readings);
    # the occupancy clear and the state reports became nothing.
    assert len(readings) == 6


def test_many_homes_polled_at_random_moments_come_out_the_same() -> None:
    # A live agent polls whenever its loop turns; the result must not depend on it.
    import random

    from firmware_sim.scenario import Scenario

    scenario = Scenario.model_validate(
        {"trial": {"homes": 100, "days": 3, "seed": 78, "start": "2026-11-20", "quiet_days": 0}}
    )
    end = scenario.start() + timedelta(days=3)
    # Home 74 once lost a fridge door opened while the switch still chattered.
    for spec in [*(scenario.home(i) for i in range(12)), scenario.home(73)]:
        reported = scenario.build(spec).sensor_events_until(end)
        # Like a real reed switch, a contact never reports the state it is already in.
        last: dict[str, float] = {}
        for e in reported:
            if e.kind == "contact":
                assert last.get(e.sensor) != e.value, (spec.hub, e)
                last[e.sensor] = e.value
        driver = SimDriver(scenario.build(spec))
        rng = random.Random(spec.seed)
        mapped: list[DriverEvent] = []
        t = scenario.start()
        while t < end:
            t = min(end, t + timedelta(seconds=rng.uniform(1, 400)))
            mapped.extend(driver.poll(t))
        assert mapped == [driver_event(e) for e in reported], spec.hub


class _Chattering:
    """A random source under which every contact bounces, as early as it can."""

    def random(self) -> float:
        return 0.0

    def uniform(self, low: float, high: float) -> float:
        return low


def test_a_change_while_the_switch_chatters_lands_after_it_settles() -> None:
    from firmware_sim.devices import Firmware, Physical

    firmware = Firmware(start=0.0, batteries={}, link_quality={})
    opened = Physical(100.0, "contact", "fridge-door", 1.0)
    closed = Physical(100.25, "contact", "fridge-door", 0.0)
    reported = list(firmware.report([opened, closed], _Chattering()))  # type: ignore[arg-type]
    assert [(e.ts, e.value) for e in reported] == [
        (100.0, 1.0),
        (100.2, 0.0),  # the bounce
        (100.3, 1.0),  # settled open
        (100.35, 0.0),  # the real closing, after it settled
        (100.55, 1.0),  # its own bounce
        (100.65, 0.0),
    ]

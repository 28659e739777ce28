"""Wired PIRs and door contacts on GPIO pins, driven through gpiozero's mock pins."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from gpiozero.pins.mock import MockFactory

from edge.agent.drivers import Combined
from edge.agent.gpio import GpioDriver, GpioSensor
from edge.protocol import Reading, ReadingKind
from tests.edge.helpers import ScriptedDriver

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    pins = MockFactory()
    yield pins
    pins.close()


def _readings(driver: GpioDriver) -> list[tuple[str, str, float]]:
    time.sleep(0.05)  # gpiozero calls back on its own thread
    return [(r.sensor, r.kind.value, r.value) for r in driver.poll(T0) if isinstance(r, Reading)]


def test_a_wired_pir_and_a_door_contact(factory: MockFactory) -> None:
    driver = GpioDriver(
        [
            GpioSensor(17, "hall-pir", "motion", "hall"),
            GpioSensor(27, "front-door", "contact", "front_door"),
        ],
        clock=lambda: T0,
        pin_factory=factory,
    )
    try:
        pir, door = factory.pin(17), factory.pin(27)
        pir.drive_high()
        pir.drive_low()
        assert _readings(driver) == [("hall-pir", "motion", 1.0)]
        door.drive_low()  # the reed switch closes: door shut
        door.drive_high()  # opened
        assert _readings(driver) == [("front-door", "contact", 0.0), ("front-door", "contact", 1.0)]
        assert _readings(driver) == []
        assert [(s.sensor, s.room) for s in driver.sensors()] == [
            ("hall-pir", "hall"),
            ("front-door", "front_door"),
        ]
    finally:
        driver.close()


def test_only_motion_and_contact_can_be_wired() -> None:
    with pytest.raises(ValueError, match="motion or contact"):
        GpioSensor(5, "kettle", "power")


def test_combined_drivers_merge_events_in_time_order(factory: MockFactory) -> None:

    later = Reading("kitchen-pir", ReadingKind.MOTION, T0.replace(minute=5), 1.0)
    earlier = Reading("kitchen-pir", ReadingKind.MOTION, T0.replace(minute=1), 1.0)
    wired = GpioDriver(
        [GpioSensor(22, "hall-pir", "motion")],
        clock=lambda: T0.replace(minute=3),
        pin_factory=factory,
    )
    try:
        combined = Combined([ScriptedDriver([later, earlier]), wired])
        factory.pin(22).drive_high()
        time.sleep(0.05)
        assert [r.ts.minute for r in combined.poll(T0.replace(minute=10))] == [1, 3, 5]
        assert {s.sensor for s in combined.sensors()} == {"kitchen-pir", "hall-pir"}
    finally:
        wired.close()

"""zigbee2mqtt messages, as real devices send them, into readings and alarms."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge.agent.cli import main
from edge.agent.drivers import AlarmTrigger, DriverEvent
from edge.agent.settings import load_settings
from edge.agent.zigbee import DeviceSpec, Zigbee2Mqtt
from edge.agent.zigbee_driver import Zigbee2MqttDriver
from edge.mqtt_url import broker_address
from edge.protocol import AlarmKind, Reading
from tests.edge.helpers import eventually

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
DEVICES = [
    DeviceSpec("0x00158d0001a2b3c4", "kitchen-pir", "motion", "kitchen"),
    DeviceSpec("front_door", "front-door", "contact", "front_door"),
    DeviceSpec("bed_mat", "bed", "bed", "bedroom"),
    DeviceSpec("kettle_plug", "kettle", "power", "kitchen"),
    DeviceSpec("lounge_climate", "lounge-temp", "temperature", "lounge"),
    DeviceSpec("pendant", "pendant", "pendant"),
    DeviceSpec("ok_button", "ok-button", "button", "hall"),
    DeviceSpec("sink_leak", "kitchen-leak", "flood", "kitchen"),
    DeviceSpec("hall_smoke", "hall-smoke", "smoke", "hall"),
]


def feed(mapper: Zigbee2Mqtt, device: str, state: object, at: datetime = T0) -> list[DriverEvent]:
    return mapper.feed(f"zigbee2mqtt/{device}", json.dumps(state).encode(), at)


def values(events: list[DriverEvent]) -> list[tuple[str, str, float]]:
    return [(e.sensor, e.kind.value, e.value) for e in events if isinstance(e, Reading)]


def test_a_pir_reports_movement_but_not_its_battery_reports() -> None:
    mapper = Zigbee2Mqtt(DEVICES)
    pir = "0x00158d0001a2b3c4"
    first = {
        "occupancy": True,
        "illuminance": 12,
        "battery": 91,
        "voltage": 3005,
        "linkquality": 120,
    }
    assert values(feed(mapper, pir, first)) == [("kitchen-pir", "motion", 1.0)]
    # The same state again within the blind time (a battery report): no new movement.
    assert feed(mapper, pir, first, T0 + timedelta(seconds=10)) == []
    assert feed(mapper, pir, {**first, "occupancy": False}, T0 + timedelta(seconds=90)) == []
    assert values(feed(mapper, pir, first, T0 + timedelta(seconds=95))) == [
        ("kitchen-pir", "motion", 1.0)
    ]
    (health,) = [h for h in mapper.health() if h.sensor == "kitchen-pir"]
    assert (health.room, health.battery, health.link) == ("kitchen", 91.0, 120.0)


def test_a_door_contact_reports_changes_with_our_meaning_of_open() -> None:
    mapper = Zigbee2Mqtt(DEVICES)
    assert values(feed(mapper, "front_door", {"contact": True, "battery": 88})) == [
        ("front-door", "contact", 0.0)
    ]
    assert values(feed(mapper, "front_door", {"contact": False, "battery": 88})) == [
        ("front-door", "contact", 1.0)
    ]
    assert feed(mapper, "front_door", {"contact": False, "battery": 87}) == [], (
        "a battery report is no door event"
    )
    assert values(feed(mapper, "front_door", {"contact": True})) == [("front-door", "contact", 0.0)]


def test_bed_power_temperature_and_the_ok_button() -> None:
    mapper = Zigbee2Mqtt(DEVICES)
    assert values(feed(mapper, "bed_mat", {"occupancy": True})) == [("bed", "bed", 1.0)]
    assert values(feed(mapper, "bed_mat", {"occupancy": False})) == [("bed", "bed", 0.0)]
    assert values(
        feed(mapper, "kettle_plug", {"power": 1850.0, "state": "ON", "linkquality": 150})
    ) == [("kettle", "power", 1850.0)]
    assert values(
        feed(mapper, "lounge_climate", {"temperature": 19.4, "humidity": 55.2, "battery": 80})
    ) == [
        ("lounge-temp", "temperature", 19.4),
        ("lounge-temp", "humidity", 55.2),
    ]
    assert values(feed(mapper, "ok_button", {"action": "single", "battery": 95})) == [
        ("ok-button", "button", 1.0)
    ]


def test_pendant_leak_and_smoke_raise_alarms_once() -> None:
    mapper = Zigbee2Mqtt(DEVICES)
    (press,) = feed(mapper, "pendant", {"action": "single", "battery": 95, "linkquality": 110})
    assert isinstance(press, AlarmTrigger)
    assert press.kind is AlarmKind.PENDANT
    assert feed(mapper, "pendant", {"action": "", "battery": 95}) == []
    (leak,) = feed(mapper, "sink_leak", {"water_leak": True})
    assert isinstance(leak, AlarmTrigger)
    assert leak.kind is AlarmKind.FLOOD
    assert feed(mapper, "sink_leak", {"water_leak": True, "battery": 70}) == [], (
        "still wet: one alarm"
    )
    (smoke,) = feed(mapper, "hall_smoke", {"smoke": True})
    assert isinstance(smoke, AlarmTrigger)
    assert smoke.kind is AlarmKind.SMOKE


def test_what_it_cannot_read_is_logged_once_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    mapper = Zigbee2Mqtt(DEVICES)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert mapper.feed("zigbee2mqtt/pendant", b"{not json", T0) == []
            assert feed(mapper, "0xdeadbeef", {"occupancy": True}) == []
            assert feed(mapper, "front_door", [1, 2]) == []
    assert len(caplog.records) == 3
    assert feed(mapper, "bridge/state", {"state": "online"}) == []
    assert mapper.feed("zigbee2mqtt/pendant/availability", b'{"state": "offline"}', T0) == []
    assert values(feed(mapper, "front_door", {"contact": False})) == [
        ("front-door", "contact", 1.0)
    ]


def test_an_unknown_kind_in_the_sensor_map_is_refused() -> None:
    with pytest.raises(ValueError, match="kind 'teleport'"):
        DeviceSpec("x", "x", "teleport")


def test_the_driver_reads_a_real_local_broker(mqtt_url: str) -> None:
    base = f"z2m-test-{uuid.uuid4().hex[:6]}"
    driver = Zigbee2MqttDriver(DEVICES, local_mqtt_url=mqtt_url, base_topic=base)
    host, port, user, password, _ = broker_address(mqtt_url)
    z2m = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"z2m-{uuid.uuid4().hex[:6]}")
    if user:
        z2m.username_pw_set(user, password)
    z2m.connect(host, port)
    z2m.loop_start()
    try:
        assert driver.subscribed.wait(10)
        # What each kind of device sends, as zigbee2mqtt publishes it.
        messages = [
            (
                "0x00158d0001a2b3c4",
                {
                    "occupancy": True,
                    "illuminance": 12,
                    "battery": 91,
                    "voltage": 3005,
                    "linkquality": 120,
                },
            ),
            ("front_door", {"contact": False, "battery": 88, "linkquality": 96}),
            ("bed_mat", {"occupancy": True, "battery": 77, "linkquality": 80}),
            ("kettle_plug", {"power": 1850.0, "state": "ON", "linkquality": 150}),
            (
                "lounge_climate",
                {"temperature": 19.4, "humidity": 55.2, "battery": 80, "linkquality": 70},
            ),
            ("ok_button", {"action": "single", "battery": 95, "linkquality": 110}),
            ("pendant", {"action": "single", "battery": 95, "linkquality": 110}),
            ("sink_leak", {"water_leak": True, "battery": 60, "linkquality": 90}),
            ("hall_smoke", {"smoke": True, "battery": 99, "linkquality": 100}),
            ("pendant", "garbage"),
        ]
        for device, state in messages:
            z2m.publish(f"{base}/{device}", json.dumps(state), qos=1).wait_for_publish(5)
        events: list[DriverEvent] = []
        eventually(lambda: len(events.__iadd__(list(driver.poll(T0)))) >= 10, what="ten events")
        assert [(e.sensor, type(e).__name__) for e in events] == [
            ("kitchen-pir", "Reading"),
            ("front-door", "Reading"),
            ("bed", "Reading"),
            ("kettle", "Reading"),
            ("lounge-temp", "Reading"),
            ("lounge-temp", "Reading"),
            ("ok-button", "Reading"),
            ("pendant", "AlarmTrigger"),
            ("kitchen-leak", "AlarmTrigger"),
            ("hall-smoke", "AlarmTrigger"),
        ]
        battery = {h.sensor: h.battery for h in driver.sensors()}
        assert battery["kitchen-pir"] == 91.0
    finally:
        z2m.loop_stop()
        z2m.disconnect()
        driver.close()


def test_the_example_config_is_valid_and_maps_devices() -> None:
    example = Path(__file__).resolve().parents[2] / "deploy" / "agent" / "agent.example.toml"
    # The hub id comes from agent.env on a hub; the example only shows it, commented out.
    settings = load_settings(example, {"hub_id": "hub-0001"})
    assert settings.driver == "zigbee2mqtt"
    specs = [DeviceSpec(s.device, s.sensor, s.kind, s.room) for s in settings.sensors]
    assert {s.sensor for s in specs} >= {"kitchen-pir", "front-door", "pendant"}


def test_the_agent_command_explains_a_bad_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "agent.toml"
    broken.write_text("hub_id = \n")
    assert main(["run", "--config", str(broken)]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    empty_map = tmp_path / "empty.toml"
    empty_map.write_text('hub_id = "hub-1"\ndriver = "zigbee2mqtt"\n')
    assert main(["run", "--config", str(empty_map)]) == 2
    assert "needs a sensor map" in capsys.readouterr().err
    assert main(["run", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "no config file at" in capsys.readouterr().err


def test_a_hub_with_no_driver_configured_refuses_to_start_rather_than_simulate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unconfigured = tmp_path / "agent.toml"
    unconfigured.write_text('hub_id = "hub-1"\n')
    assert main(["run", "--config", str(unconfigured)]) == 2
    said = capsys.readouterr().err
    assert "no sensor driver is configured" in said
    assert 'driver = "zigbee2mqtt"' in said
    assert "sim, zigbee2mqtt" in said  # what is installed
    assert main(["run", "--config", str(unconfigured), "--driver", "serial"]) == 2
    assert "no driver 'serial' is installed" in capsys.readouterr().err


def test_the_agent_imports_no_driver_package() -> None:
    # Drivers are found through entry points: the hub's code never names the simulator.
    agent_code = Path(__file__).resolve().parents[2] / "edge"
    for source in agent_code.rglob("*.py"):
        assert "import firmware_sim" not in source.read_text(), source
        assert "from firmware_sim" not in source.read_text(), source


def test_check_tells_the_installer_what_works_and_what_to_do(
    mqtt_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = f"z2m-check-{uuid.uuid4().hex[:6]}"
    config = tmp_path / "agent.toml"
    config.write_text(
        f'hub_id = "hub-check"\nmqtt_url = "{mqtt_url}"\nlocal_mqtt_url = "{mqtt_url}"\n'
        f'driver = "zigbee2mqtt"\nzigbee_base_topic = "{base}"\n'
        '[[sensors]]\ndevice = "hall"\nsensor = "hall-pir"\nkind = "motion"\nroom = "hall"\n'
        '[[sensors]]\ndevice = "door"\nsensor = "front-door"\nkind = "contact"\nroom = "front_door"\n'
    )
    host, port, user, password, _ = broker_address(mqtt_url)
    z2m = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"z2m-{uuid.uuid4().hex[:6]}")
    if user:
        z2m.username_pw_set(user, password)
    z2m.connect(host, port)
    z2m.loop_start()

    def keep_talking(stop: threading.Event) -> None:
        while not stop.is_set():
            z2m.publish(f"{base}/bridge/state", json.dumps({"state": "online"}), qos=1)
            z2m.publish(f"{base}/hall", json.dumps({"occupancy": True, "battery": 90}), qos=1)
            stop.wait(0.2)

    stop = threading.Event()
    talker = threading.Thread(target=keep_talking, args=(stop,), daemon=True)
    talker.start()
    try:
        assert main(["check", "--config", str(config), "--listen-s", "1.5"]) == 1
    finally:
        stop.set()
        talker.join(5)
        z2m.loop_stop()
        z2m.disconnect()
    out = capsys.readouterr().out
    assert "ok  service broker: connected" in out
    assert "zigbee2mqtt: bridge online" in out
    assert "ok  hall-pir (motion, hall): reported; battery 90 %" in out
    assert "NO  front-door (contact, front_door): nothing heard yet" in out

    unreachable = tmp_path / "unreachable.toml"
    unreachable.write_text('hub_id = "hub-check"\nmqtt_url = "mqtt://127.0.0.1:9"\n')
    assert main(["check", "--config", str(unreachable)]) == 1
    assert "NO  service broker: cannot reach 127.0.0.1:9" in capsys.readouterr().out

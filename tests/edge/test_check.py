"""``carewatch-agent check`` as an installer runs it: real brokers, a real server, no tracebacks."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge.agent.check import TEST_SENSOR, run_check
from edge.agent.check_rules import (
    Answer,
    DeviceHealth,
    Verdict,
    ZigbeeSeen,
    clock_answers,
    gpio_answers,
    placeholder_answers,
    sensor_answers,
)
from edge.agent.cli import main
from edge.agent.settings import AgentSettings, GpioEntry, SensorEntry, load_settings
from edge.mqtt_url import broker_address
from server.certs import write_trial_certificates
from server.runtime import CarewatchServer
from tests.deploy.broker import deployment_broker
from tests.server.helpers import provision, unique_hub

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "deploy" / "agent" / "agent.example.toml"


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(body)
    return path


# --- what the answers say (pure) ----------------------------------------------------


def test_a_sensor_without_a_room_and_a_paired_device_not_in_the_map_are_named() -> None:
    sensors = [
        SensorEntry(device="hall_pir", sensor="hall-pir", kind="motion", room="hall"),
        SensorEntry(device="lounge_pir", sensor="lounge-pir", kind="motion"),
        SensorEntry(device="pendant", sensor="pendant", kind="pendant"),
    ]
    seen = ZigbeeSeen(
        bridge="online",
        listed=("hall_pir", "lounge_pir", "pendant", "spare_plug"),
        heard={
            "hall_pir": DeviceHealth(battery=12.0, link=140.0),
            "lounge_pir": DeviceHealth(battery=90.0, link=18.0),
            "pendant": DeviceHealth(battery=80.0),
        },
    )
    lines = {a.subject: a for a in sensor_answers(sensors, seen)}
    hall = lines["hall-pir (motion, hall)"]
    assert hall.verdict is Verdict.NO
    assert "battery 12 %: replace it now" in hall.words
    placed = [a for a in sensor_answers(sensors, seen) if "cannot place" in a.words]
    assert [a.subject for a in placed] == ["lounge-pir (motion)"]
    assert "weak" in lines["lounge-pir (motion)"].words
    # A pendant needs no room; its signal was not in its message.
    pendant = lines["pendant (pendant)"]
    assert pendant.verdict is Verdict.OK
    assert "signal not reported" in pendant.words
    assert lines["spare_plug"].verdict is Verdict.NO
    assert "not in the sensor map" in lines["spare_plug"].words


def test_a_wired_sensor_without_a_room_is_named_too() -> None:
    wired = [
        GpioEntry(pin=17, sensor="hall-pir", kind="motion", room="hall"),
        GpioEntry(pin=27, sensor="back-door", kind="contact"),
    ]
    [answer] = gpio_answers(wired)
    assert answer.subject == "back-door (contact, GPIO 27)"
    assert "cannot place" in answer.words


def test_an_unknown_kind_and_the_examples_placeholder_are_refused() -> None:
    odd = [SensorEntry(device="x", sensor="x", kind="toaster", room="kitchen")]
    [answer] = sensor_answers(odd, ZigbeeSeen(bridge="online", heard={"x": DeviceHealth()}))
    assert answer.verdict is Verdict.NO
    assert "'toaster' is not one of" in answer.words
    url = "mqtts://hub-0001:PASSWORD-FROM-HUB-ADD@broker.example.gov.uk:8883"
    [placeholder] = placeholder_answers(url)
    assert "agent.env" in placeholder.words
    assert placeholder_answers("mqtts://hub-0001:s3cret@broker.council.gov.uk:8883") == []


def test_the_clock_is_judged_beyond_the_round_trip() -> None:
    [near, _] = clock_answers(offset_s=70.0, round_trip_s=30.0, ntp_synchronised=None)
    assert near.verdict is Verdict.OK  # 70 s, but the stamp may be 15 s off either way
    [far, ntp] = clock_answers(offset_s=400.0, round_trip_s=0.1, ntp_synchronised=False)
    assert far.verdict is Verdict.NO
    assert "400 s behind the server's" in far.words
    assert ntp.verdict is Verdict.NO
    assert "set-ntp true" in ntp.words


# --- settings ------------------------------------------------------------------------


def test_agent_env_beats_the_copied_example_and_options_beat_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A hub set up by the guide: the example copied, agent.env written from `hub add`.
    text = EXAMPLE.read_text()
    monkeypatch.setenv("CAREWATCH_AGENT_HUB_ID", "hub-0042")
    monkeypatch.setenv("CAREWATCH_AGENT_MQTT_URL", "mqtts://hub-0042:real@broker.council:8883")
    settings = load_settings(EXAMPLE)
    assert (settings.hub_id, settings.mqtt_url) == (
        "hub-0042",
        "mqtts://hub-0042:real@broker.council:8883",
    )
    assert settings.driver == "zigbee2mqtt"
    assert settings.sensors
    assert "PASSWORD-FROM-HUB-ADD" in text  # (still shown there, as a comment)
    assert load_settings(EXAMPLE, {"hub_id": "hub-9"}).hub_id == "hub-9"


# --- the command, end to end ---------------------------------------------------------


def test_a_missing_config_file_and_a_missing_ca_file_are_named_with_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CAREWATCH_AGENT_HUB_ID", raising=False)
    assert main(["check", "--config", str(tmp_path / "nowhere.toml")]) == 2
    err = capsys.readouterr().err
    assert "no config file at" in err
    assert "agent.example.toml" in err
    assert "Traceback" not in err
    ca = tmp_path / "ca.crt"
    config = _config(
        tmp_path,
        f'hub_id = "hub-0001"\nmqtt_url = "mqtts://hub-0001:pw@127.0.0.1:8883"\n'
        f'ca_file = "{ca}"\ndriver = "sim"\n',
    )
    assert main(["check", "--test", "--config", str(config), "--listen-s", "0"]) == 1
    out = capsys.readouterr().out
    assert f"NO  ca_file: {ca} does not exist: copy the service's ca.crt there" in out
    assert "service broker: not tried" in out
    assert "NO  test: not sent: the hub is not on the broker" in out
    # `run` says the same, not a FileNotFoundError from deep in TLS.
    assert main(["run", "--config", str(config)]) == 2
    assert f"ca_file: {ca} does not exist" in capsys.readouterr().err


def test_a_wrong_password_and_an_untrusted_broker_against_the_deployments_mosquitto(
    tmp_path: Path,
) -> None:
    hub = "hub-0007"
    with deployment_broker("server-pw", {hub: "right-password"}) as broker:

        def broker_answer(password: str, ca_file: Path) -> Answer:
            settings = AgentSettings(
                hub_id=hub,
                driver="sim",
                ca_file=ca_file,
                mqtt_url=f"mqtts://{hub}:{password}@localhost:{broker.tls_port}",
            )
            report = run_check(settings, listen_s=0)
            [answer] = [a for a in report.answers if a.subject == "service broker"]
            return answer

        wrong = broker_answer("wrong-password", broker.ca_file)
        assert wrong.verdict is Verdict.NO
        assert "hub id or password is wrong" in wrong.words
        assert broker_answer("right-password", broker.ca_file).verdict is Verdict.OK
        # Another CA than the broker's: said so, not an ssl traceback.
        write_trial_certificates(tmp_path / "other", hosts=("localhost",))
        untrusted = broker_answer("right-password", tmp_path / "other" / "ca.crt")
        assert untrusted.verdict is Verdict.NO
        assert "certificate is not trusted" in untrusted.words
    # Nothing listening at all.
    closed = run_check(
        AgentSettings(hub_id=hub, driver="sim", mqtt_url=f"mqtt://{hub}:x@127.0.0.1:1"),
        listen_s=0,
    )
    [answer] = [a for a in closed.answers if a.subject == "service broker"]
    assert "cannot reach 127.0.0.1:1" in answer.words


def test_a_ca_file_that_is_no_certificate_and_tls_to_a_plain_port_are_named(
    tmp_path: Path, mqtt_url: str
) -> None:
    host, port, *_ = broker_address(mqtt_url)
    not_pem = tmp_path / "ca.crt"
    not_pem.write_text("this is not a certificate\n")
    wrong_file = run_check(
        AgentSettings(
            hub_id="hub-1", driver="sim", ca_file=not_pem, mqtt_url=f"mqtts://h:p@{host}:{port}"
        ),
        listen_s=0,
    )
    [answer] = [a for a in wrong_file.answers if a.subject == "service broker"]
    assert f"cannot load the TLS files (ca_file {not_pem})" in answer.words
    assert "PEM" in answer.words
    # mqtts:// to the machine's plain listener: the broker cuts the TLS hello off.
    plain = run_check(
        AgentSettings(hub_id="hub-1", driver="sim", mqtt_url=f"mqtts://h:p@{host}:{port}"),
        listen_s=0,
        timeout_s=3,
    )
    [answer] = [a for a in plain.answers if a.subject == "service broker"]
    assert answer.verdict is Verdict.NO
    assert "TLS" in answer.words


@pytest.fixture
def zigbee2mqtt(mqtt_url: str) -> Iterator[tuple[str, mqtt.Client]]:
    """A zigbee2mqtt's retained topics on the machine's broker, under a base of its own."""
    base = f"z2m-{uuid.uuid4().hex[:8]}"
    host, port, *_ = broker_address(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"z2m-{base}")
    client.connect(host, port)
    client.loop_start()
    devices = [
        {"friendly_name": "Coordinator", "type": "Coordinator"},
        {"friendly_name": "kitchen_pir", "type": "EndDevice"},
        {"friendly_name": "front_door", "type": "EndDevice"},
        {"friendly_name": "new_plug", "type": "Router"},
    ]
    retained = {
        f"{base}/bridge/state": {"state": "online"},
        f"{base}/bridge/devices": devices,
        f"{base}/kitchen_pir": {"occupancy": False, "battery": 87, "linkquality": 120},
    }
    for topic, body in retained.items():
        client.publish(topic, json.dumps(body), qos=1, retain=True).wait_for_publish(5)
    try:
        yield base, client
    finally:
        for topic in retained:
            client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
        client.loop_stop()
        client.disconnect()


def test_each_sensors_battery_signal_and_room_and_an_unmapped_device(
    mqtt_url: str, zigbee2mqtt: tuple[str, mqtt.Client], capsys: pytest.CaptureFixture[str]
) -> None:
    base, _ = zigbee2mqtt
    settings = AgentSettings(
        hub_id=unique_hub(),
        mqtt_url=mqtt_url,
        driver="zigbee2mqtt",
        local_mqtt_url=mqtt_url,
        zigbee_base_topic=base,
        sensors=[
            SensorEntry(device="kitchen_pir", sensor="kitchen-pir", kind="motion", room="kitchen"),
            SensorEntry(device="front_door", sensor="front-door", kind="contact"),
        ],
    )
    report = run_check(settings, listen_s=1.0)
    lines = report.lines()
    assert "ok  zigbee2mqtt: bridge online" in lines
    assert "ok  kitchen-pir (motion, kitchen): reported; battery 87 %, signal 120/255" in lines
    assert any(
        line.startswith("NO  new_plug: paired with zigbee2mqtt but not in") for line in lines
    )
    assert any(
        "front-door (contact): no room, so the detectors cannot place it" in line for line in lines
    )
    assert any(line.startswith("NO  front-door (contact): nothing heard yet") for line in lines)
    assert "Coordinator" not in "\n".join(lines)
    assert not report.ok


async def test_a_test_alarm_is_stored_by_the_real_server_and_raises_no_alert(
    server: CarewatchServer, database_url: str, mqtt_url: str
) -> None:
    hub = unique_hub()
    provision(database_url, hub, f"Mrs Tested {hub}")
    settings = AgentSettings(hub_id=hub, mqtt_url=mqtt_url, driver="sim")
    # The check is blocking paho; the server runs on this loop, so it goes to a thread.
    report = await asyncio.to_thread(run_check, settings, listen_s=0, test=True)
    answers = {a.subject: a for a in report.answers}
    assert answers["test"].verdict is Verdict.OK, report.lines()
    assert "the server stored the test alarm" in answers["test"].words
    # Both clocks are this machine's: measured, and within the tolerance.
    assert answers["clock"].verdict is Verdict.OK
    assert "round trip" in answers["clock"].words
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "SELECT sensor, kind FROM alarms WHERE hub_id = %s", (hub,)
        ).fetchall()
        alerts = conn.execute("SELECT count(*) FROM alerts WHERE hub_id = %s", (hub,)).fetchone()
    assert stored == [(TEST_SENSOR, "test")]
    assert alerts == (0,)


async def test_a_test_alarm_for_a_hub_the_server_does_not_know_is_not_confirmed(
    server: CarewatchServer, mqtt_url: str
) -> None:
    settings = AgentSettings(hub_id=unique_hub("stranger"), mqtt_url=mqtt_url, driver="sim")
    report = await asyncio.to_thread(run_check, settings, listen_s=0, test=True, timeout_s=3)
    answers = {a.subject: a for a in report.answers}
    assert answers["test"].verdict is Verdict.NO
    assert "provisioned" in answers["test"].words
    assert not report.ok

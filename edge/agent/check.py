"""``carewatch-agent check``: what an installer asks before leaving a home.

Are the hub's certificate files where the config says? Can the hub reach the
service's broker with its credentials? Is zigbee2mqtt running on the hub, and
which devices speak (battery, signal), which are paired but not mapped, which
mapped ones the detectors cannot place? Is the clock right? With ``--test``:
does a test alarm reach the server's database (it raises no alert and tells
nobody)? Never a traceback: every failure is a line that says what to do.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge.agent.check_rules import (
    Answer,
    DeviceHealth,
    Verdict,
    ZigbeeSeen,
    all_good,
    clock_answers,
    gpio_answers,
    placeholder_answers,
    sensor_answers,
)
from edge.agent.settings import AgentSettings
from edge.mqtt_url import broker_address
from edge.protocol import (
    Alarm,
    AlarmAck,
    AlarmKind,
    ProtocolError,
    alarm_ack_topic,
    alarm_topic,
    encode,
    parse_message,
)

__all__ = ["TEST_SENSOR", "CheckReport", "file_answers", "run_check"]

# The sensor a test alarm names, so the server's log and alarms table say where it came from.
TEST_SENSOR = "carewatch-check"


@dataclass(slots=True)
class CheckReport:
    """The answers, in the order they were found."""

    answers: list[Answer]

    @property
    def ok(self) -> bool:
        """Whether the hub is fit to leave."""
        return all_good(self.answers)

    def lines(self) -> list[str]:
        """The report as an installer reads it."""
        return [a.line() for a in self.answers]


@dataclass(slots=True, frozen=True)
class _TestOutcome:
    """The server's confirmation of a test alarm, and the clocks around it."""

    stored: bool
    offset_s: float | None = None
    round_trip_s: float | None = None


def file_answers(settings: AgentSettings) -> list[Answer]:
    """Each certificate file the config names: there and readable, or what to do."""
    answers = []
    for name, path, remedy in (
        (
            "ca_file",
            settings.ca_file,
            "copy the service's ca.crt there (from `carewatch certs` on the server), "
            "or delete ca_file from agent.toml if the broker has a public certificate",
        ),
        (
            "client_cert_file",
            settings.client_cert_file,
            "copy the hub's certificate there, or delete client_cert_file if the broker "
            "does not ask hubs for one",
        ),
        (
            "client_key_file",
            settings.client_key_file,
            "copy the hub's private key there (readable by the carewatch user only)",
        ),
    ):
        if path is None:
            continue
        if not path.is_file():
            answers.append(Answer(Verdict.NO, name, f"{path} does not exist: {remedy}"))
        elif not os.access(path, os.R_OK):
            answers.append(
                Answer(
                    Verdict.NO,
                    name,
                    f"{path} cannot be read by this user: sudo chown carewatch {path}",
                )
            )
    if (settings.client_cert_file is None) != (settings.client_key_file is None):
        answers.append(
            Answer(
                Verdict.NO,
                "client_cert_file",
                "a client certificate needs its key and the key its certificate: set both",
            )
        )
    return answers


def _client(settings: AgentSettings, *, client_id: str) -> tuple[mqtt.Client, tuple[str, int]]:
    """A paho client for the service's broker; raises OSError, ssl.SSLError or ValueError."""
    host, port, username, password, tls = broker_address(settings.mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
    if username:
        client.username_pw_set(username, password)
    if tls:
        client.tls_set(
            ca_certs=str(settings.ca_file) if settings.ca_file else None,
            certfile=str(settings.client_cert_file) if settings.client_cert_file else None,
            keyfile=str(settings.client_key_file) if settings.client_key_file else None,
        )
    return client, (host, port)


def _refusal_words(reason: str) -> str:
    if reason in ("Bad user name or password", "Not authorized"):
        return (
            f"refused ({reason}): the hub id or password is wrong; use the two lines "
            "`carewatch hub add` printed (a new password: `carewatch hub add` again), "
            "and on the server reload the broker (docker compose kill -s HUP mosquitto)"
        )
    return f"refused ({reason}); check the hub id and password from `carewatch hub add`"


def check_broker(
    settings: AgentSettings, *, test: bool, timeout_s: float = 10.0
) -> tuple[list[Answer], _TestOutcome | None]:
    """Connect to the service's broker as this hub and, with ``test``, send a test alarm.

    The hubs' listener gives every session of the hub's account the hub id as its
    client id (deploy/mosquitto/mosquitto.conf), so a running agent is pushed off
    for the moment of the check and reconnects by itself, its outbox intact.
    """
    try:
        client, (host, port) = _client(
            settings, client_id=f"{settings.hub_id}-check-{uuid.uuid4().hex[:4]}"
        )
    except ValueError:
        # Not the exception's words: they would print the URL, password and all.
        return [
            Answer(Verdict.NO, "service broker", "mqtt_url must start with mqtt:// or mqtts://")
        ], None
    except (OSError, ssl.SSLError) as exc:
        files = ", ".join(
            f"{name} {path}"
            for name, path in (
                ("ca_file", settings.ca_file),
                ("client_cert_file", settings.client_cert_file),
                ("client_key_file", settings.client_key_file),
            )
            if path is not None
        )
        reason = getattr(exc, "reason", None) or exc
        return [
            Answer(
                Verdict.NO,
                "service broker",
                f"cannot load the TLS files ({files or 'the system CAs'}): {reason}; each must "
                "be a PEM file, as `carewatch certs` writes them",
            )
        ], None
    where = f"{host}:{port}"
    connected: list[str] = []
    connect_done = threading.Event()
    acks: list[tuple[AlarmAck, datetime]] = []
    acked = threading.Event()

    def on_connect(c: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        connected.append(str(reason))
        connect_done.set()

    def on_message(c: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            decoded = parse_message(message.topic, bytes(message.payload))
        except ProtocolError:
            return
        if isinstance(decoded, AlarmAck):
            acks.append((decoded, datetime.now(UTC)))
            acked.set()

    client.on_connect = on_connect
    client.on_message = on_message
    try:
        client.connect(host, port, keepalive=10)
    except ssl.SSLCertVerificationError as exc:
        return [
            Answer(
                Verdict.NO,
                "service broker",
                f"{where}'s certificate is not trusted ({exc.verify_message}): set ca_file "
                "to the service's ca.crt, and use the host name the certificate was made for",
            )
        ], None
    except ssl.SSLError as exc:
        return [
            Answer(
                Verdict.NO,
                "service broker",
                f"TLS with {where} failed ({exc.reason}): is it the TLS port (8883)?",
            )
        ], None
    except OSError as exc:
        # A TLS hello to a plain listener is cut off: the port, not the network.
        tls_hint = (
            "; with mqtts:// the port must be the broker's TLS port (8883)"
            if settings.mqtt_url.startswith("mqtts://")
            and isinstance(exc, ConnectionResetError | ssl.SSLEOFError)
            else ""
        )
        return [
            Answer(
                Verdict.NO,
                "service broker",
                f"cannot reach {where} ({exc.strerror or exc}): check the address, "
                f"the port and the hub's network{tls_hint}",
            )
        ], None
    client.loop_start()
    try:
        if not connect_done.wait(timeout_s):
            return [
                Answer(
                    Verdict.NO,
                    "service broker",
                    f"no answer from {where} within {timeout_s:g} s: is it an MQTT broker? "
                    "(mqtts:// for a TLS port, mqtt:// for a plain one)",
                )
            ], None
        if connected[0] != "Success":
            return [Answer(Verdict.NO, "service broker", _refusal_words(connected[0]))], None
        answers = [
            Answer(Verdict.OK, "service broker", f"connected to {where} as {settings.hub_id}")
        ]
        if not test:
            return answers, None
        outcome = _send_test(client, settings.hub_id, acks, acked, timeout_s=timeout_s)
        if outcome.stored:
            answers.append(
                Answer(
                    Verdict.OK,
                    "test",
                    "the server stored the test alarm (no alert, nobody notified)",
                )
            )
        else:
            answers.append(
                Answer(
                    Verdict.NO,
                    "test",
                    f"the server did not confirm the test alarm within {timeout_s:g} s: is the "
                    "carewatch server running, and is this hub provisioned on it "
                    "(`carewatch hub add`)? Its dead letters say why it refused one.",
                )
            )
        return answers, outcome
    finally:
        client.loop_stop()
        client.disconnect()


def _send_test(
    client: mqtt.Client,
    hub: str,
    acks: list[tuple[AlarmAck, datetime]],
    acked: threading.Event,
    *,
    timeout_s: float,
) -> _TestOutcome:
    """Publish a test alarm and wait for the server's ``alarm_ack`` naming it."""
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    client.subscribe(alarm_ack_topic(hub), qos=1)
    if not subscribed.wait(timeout_s):
        return _TestOutcome(stored=False)
    test_id = f"check-{uuid.uuid4()}"
    sent_at = datetime.now(UTC)
    client.publish(
        alarm_topic(hub), encode(Alarm(hub, test_id, TEST_SENSOR, AlarmKind.TEST, sent_at)), qos=1
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        acked.wait(max(0.0, deadline - time.monotonic()))
        acked.clear()
        for ack, received_at in list(acks):
            if test_id not in ack.ids:
                continue
            if ack.ts is None:  # a server older than this hub: stored, but no clock
                return _TestOutcome(stored=True)
            round_trip = (received_at - sent_at).total_seconds()
            midpoint = sent_at + (received_at - sent_at) / 2
            offset = (ack.ts - midpoint).total_seconds()
            return _TestOutcome(stored=True, offset_s=offset, round_trip_s=round_trip)
    return _TestOutcome(stored=False)


def listen_zigbee2mqtt(settings: AgentSettings, *, listen_s: float) -> ZigbeeSeen | Answer:
    """Listen to the hub's own zigbee2mqtt: its bridge, its paired devices, who speaks."""
    try:
        host, port, username, password, _ = broker_address(settings.local_mqtt_url)
    except ValueError:
        return Answer(
            Verdict.NO, "zigbee2mqtt", "local_mqtt_url must start with mqtt:// or mqtts://"
        )
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"carewatch-check-{uuid.uuid4().hex[:6]}",
        protocol=mqtt.MQTTv311,
    )
    if username:
        client.username_pw_set(username, password)
    base = settings.zigbee_base_topic
    bridge: list[str] = []
    listed: list[str] = []
    heard: dict[str, DeviceHealth] = {}

    def on_connect(c: mqtt.Client, *args: Any) -> None:
        c.subscribe(f"{base}/#")

    def on_message(c: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        name = message.topic.removeprefix(f"{base}/")
        payload = bytes(message.payload).decode(errors="replace")
        try:
            body = json.loads(payload)
        except ValueError:
            body = payload
        if name == "bridge/state":
            bridge.append(str(body.get("state", "?")) if isinstance(body, dict) else str(body))
        elif name == "bridge/devices" and isinstance(body, list):
            listed[:] = [
                str(d["friendly_name"])
                for d in body
                if isinstance(d, dict) and d.get("type") != "Coordinator" and "friendly_name" in d
            ]
        elif "/" not in name and isinstance(body, dict):
            before = heard.get(name, DeviceHealth())
            battery, link = _number(body.get("battery")), _number(body.get("linkquality"))
            heard[name] = DeviceHealth(
                battery=battery if battery is not None else before.battery,
                link=link if link is not None else before.link,
            )

    client.on_connect = on_connect
    client.on_message = on_message
    try:
        client.connect(host, port)
    except OSError as exc:
        return Answer(
            Verdict.NO,
            "zigbee2mqtt",
            f"no local broker at {host}:{port} ({exc.strerror or exc}): "
            "sudo systemctl start mosquitto",
        )
    client.loop_start()
    time.sleep(listen_s)
    client.loop_stop()
    client.disconnect()
    return ZigbeeSeen(bridge=bridge[-1] if bridge else None, listed=tuple(listed), heard=heard)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def ntp_synchronised() -> bool | None:
    """What systemd says of the clock's NTP sync; None where there is no timedatectl."""
    timedatectl = shutil.which("timedatectl")
    if timedatectl is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
            [timedatectl, "show", "--property=NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    answer = done.stdout.strip()
    return {"yes": True, "no": False}.get(answer) if done.returncode == 0 else None


def run_check(
    settings: AgentSettings, *, listen_s: float = 5.0, test: bool = False, timeout_s: float = 10.0
) -> CheckReport:
    """All the checks, in the order an installer fixes things; ``timeout_s`` per broker wait."""
    answers = [*placeholder_answers(settings.mqtt_url), *file_answers(settings)]
    outcome: _TestOutcome | None = None
    if all_good(answers):
        broker, outcome = check_broker(settings, test=test, timeout_s=timeout_s)
        answers += broker
    else:
        answers.append(Answer(Verdict.NO, "service broker", "not tried: fix the lines above"))
    if test and outcome is None:
        answers.append(Answer(Verdict.NO, "test", "not sent: the hub is not on the broker"))
    if settings.driver == "zigbee2mqtt":
        seen = listen_zigbee2mqtt(settings, listen_s=listen_s)
        if isinstance(seen, Answer):
            answers.append(seen)
            # Still worth saying which sensors the detectors could not place.
            answers += sensor_answers(settings.sensors, ZigbeeSeen(bridge=None))
        else:
            if seen.bridge is None:
                answers.append(
                    Answer(
                        Verdict.NO,
                        "zigbee2mqtt",
                        f"not seen (no {settings.zigbee_base_topic}/bridge/state): "
                        "sudo systemctl start zigbee2mqtt",
                    )
                )
            else:
                answers.append(
                    Answer(
                        Verdict.OK if seen.bridge == "online" else Verdict.NO,
                        "zigbee2mqtt",
                        f"bridge {seen.bridge}",
                    )
                )
            answers += sensor_answers(settings.sensors, seen)
    elif settings.driver is None:
        answers.append(
            Answer(
                Verdict.NO,
                "driver",
                'none configured: set driver = "zigbee2mqtt" in agent.toml',
            )
        )
    else:
        answers.append(Answer(Verdict.NOTE, "zigbee2mqtt", f"not used (driver {settings.driver})"))
    answers += gpio_answers(settings.gpio)
    answers += clock_answers(
        offset_s=outcome.offset_s if outcome else None,
        round_trip_s=outcome.round_trip_s if outcome else None,
        ntp_synchronised=ntp_synchronised(),
    )
    return CheckReport(answers)

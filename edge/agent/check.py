"""``carewatch-agent check``: what an installer asks before leaving a home.

Can the hub reach the service's broker with its credentials? Is zigbee2mqtt
running on the hub? Which of the mapped sensors have been heard from?
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge.agent.settings import AgentSettings
from edge.mqtt_url import broker_address

__all__ = ["CheckReport", "run_check"]


@dataclass(slots=True)
class CheckReport:
    """The answers, each with what to do if it is not good."""

    broker: str = "not tried"
    broker_ok: bool = False
    zigbee2mqtt: str = "not tried"
    heard: dict[str, bool] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the hub is fit to leave."""
        return self.broker_ok and all(self.heard.values())

    def lines(self) -> list[str]:
        """The report as an installer reads it."""
        out = [f"{'ok ' if self.broker_ok else 'NO '} service broker: {self.broker}"]
        out.append(f"    zigbee2mqtt: {self.zigbee2mqtt}")
        for sensor, heard in sorted(self.heard.items()):
            out.append(
                f"{'ok ' if heard else 'NO '} {sensor}: "
                + (
                    "reported"
                    if heard
                    else "nothing yet: wake it (walk past, open, press) and check again"
                )
            )
        return out


def _client(
    url: str, *, client_id: str, ca_file: str | None
) -> tuple[mqtt.Client, tuple[str, int]]:
    host, port, username, password, tls = broker_address(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
    if username:
        client.username_pw_set(username, password)
    if tls:
        client.tls_set(ca_certs=ca_file)
    return client, (host, port)


def check_broker(settings: AgentSettings, *, timeout_s: float = 10.0) -> tuple[bool, str]:
    """Connect to the service's broker as this hub.

    The hubs' listener gives every session of the hub's account the hub id as its
    client id (deploy/mosquitto/mosquitto.conf), so a running agent is pushed off
    for the moment of the check and reconnects by itself, its outbox intact.
    """
    client, address = _client(
        settings.mqtt_url,
        client_id=f"{settings.hub_id}-check-{uuid.uuid4().hex[:4]}",
        ca_file=str(settings.ca_file) if settings.ca_file else None,
    )
    answer: list[str] = []
    done = threading.Event()

    def on_connect(c: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        answer.append(str(reason))
        done.set()

    client.on_connect = on_connect
    try:
        client.connect(*address, keepalive=10)
    except OSError as exc:
        return (
            False,
            f"cannot reach {address[0]}:{address[1]} ({exc}); check the address and the network",
        )
    client.loop_start()
    try:
        if not done.wait(timeout_s):
            return False, f"no answer from {address[0]}:{address[1]} within {timeout_s:g} s"
        if answer[0] != "Success":
            return (
                False,
                f"refused: {answer[0]}; check the hub id and password from `carewatch hub add`",
            )
        return True, f"connected to {address[0]}:{address[1]} as {settings.hub_id}"
    finally:
        client.loop_stop()
        client.disconnect()


def check_zigbee2mqtt(
    settings: AgentSettings, *, listen_s: float = 5.0
) -> tuple[str, dict[str, bool]]:
    """Listen to the local zigbee2mqtt for a while: its bridge state, and which devices speak."""
    client, address = _client(
        settings.local_mqtt_url, client_id=f"carewatch-check-{uuid.uuid4().hex[:6]}", ca_file=None
    )
    base = settings.zigbee_base_topic
    devices = {s.device: s.sensor for s in settings.sensors}
    heard = {sensor: False for sensor in devices.values()}
    bridge: list[str] = []

    def on_connect(c: mqtt.Client, *args: Any) -> None:
        c.subscribe(f"{base}/#")

    def on_message(c: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        name = message.topic.removeprefix(f"{base}/")
        if name == "bridge/state":
            payload = bytes(message.payload).decode(errors="replace")
            try:
                bridge.append(str(json.loads(payload).get("state", payload)))
            except (ValueError, AttributeError):
                bridge.append(payload)
        elif name in devices:
            heard[devices[name]] = True

    client.on_connect = on_connect
    client.on_message = on_message
    try:
        client.connect(*address)
    except OSError as exc:
        return f"no local broker at {address[0]}:{address[1]} ({exc}); is mosquitto running?", heard
    client.loop_start()
    time.sleep(listen_s)
    client.loop_stop()
    client.disconnect()
    if not bridge:
        return (
            f"not seen on {address[0]}:{address[1]} (no {base}/bridge/state); is it running?",
            heard,
        )
    return f"bridge {bridge[-1]}", heard


def run_check(settings: AgentSettings, *, listen_s: float = 5.0) -> CheckReport:
    """All the checks."""
    report = CheckReport()
    report.broker_ok, report.broker = check_broker(settings)
    if settings.driver == "zigbee2mqtt":
        report.zigbee2mqtt, report.heard = check_zigbee2mqtt(settings, listen_s=listen_s)
    elif settings.driver is None:
        report.zigbee2mqtt = 'no driver configured: set driver = "zigbee2mqtt" in agent.toml'
    else:
        report.zigbee2mqtt = f"not used (driver {settings.driver})"
    return report

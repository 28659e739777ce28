"""Debian's Mosquitto run with the deployment's own mosquitto.conf and ACL, on private ports."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from server.broker_accounts import BrokerAccounts
from server.certs import write_trial_certificates
from server.embedded._broker import free_port

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "deploy" / "mosquitto" / "mosquitto.conf"
ACL = REPO / "deploy" / "mosquitto" / "acl"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


def mosquitto_missing() -> str | None:
    """Why these tests cannot run here, or None."""
    for binary in (MOSQUITTO, MOSQUITTO_PASSWD):
        if not Path(binary).exists():
            return f"{binary} is not installed (apt-get install mosquitto)"
    return None


@dataclass
class Broker:
    """A running Mosquitto with the deployment's configuration."""

    directory: Path
    plain_port: int
    tls_port: int
    process: subprocess.Popen[bytes]

    @property
    def ca_file(self) -> Path:
        return self.directory / "certs" / "ca.crt"

    @property
    def passwords(self) -> Path:
        return self.directory / "credentials" / "passwords"

    @property
    def accounts(self) -> BrokerAccounts:
        """The password file as ``carewatch hub add`` writes it."""
        return BrokerAccounts(self.passwords.parent)

    def reload(self) -> None:
        """What ``docker compose kill -s HUP mosquitto`` does."""
        self.process.send_signal(signal.SIGHUP)
        time.sleep(1.0)

    @staticmethod
    def _own(path: Path) -> None:
        # Run as root, Mosquitto drops to the mosquitto user, as the image's does.
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam("mosquitto")
            except KeyError:
                return
            os.chown(path, entry.pw_uid, entry.pw_gid)


def deployment_conf(directory: Path, plain_port: int, tls_port: int) -> str:
    """The deployment's mosquitto.conf with only its container paths and ports replaced."""
    text = CONF.read_text()
    replaced = (
        text.replace("/mosquitto/credentials/", f"{directory}/credentials/")
        .replace("/mosquitto/config/acl", str(ACL))
        .replace("/mosquitto/certs/", f"{directory}/certs/")
        .replace("/mosquitto/data/", f"{directory}/data/")
        .replace("listener 1883", f"listener {plain_port}")
        .replace("listener 8883", f"listener {tls_port}")
    )
    unknown = re.findall(r"(?m)^\w+ (/mosquitto/\S*)", replaced)
    assert not unknown, f"container paths the test does not know about: {unknown}"
    return replaced


@contextmanager
def deployment_broker(server_password: str, hubs: dict[str, str] | None = None) -> Iterator[Broker]:
    """Mosquitto with the deployment's conf, ACL, trial certificates, the server's account
    (made by mosquitto_passwd) and ``hubs`` (made as ``carewatch hub add`` makes them)."""
    directory = Path(tempfile.mkdtemp(prefix="carewatch-broker-"))
    directory.chmod(0o755)  # the mosquitto user must reach the files
    for sub in ("credentials", "data"):
        (directory / sub).mkdir()
    write_trial_certificates(directory / "certs", hosts=("localhost", "127.0.0.1"))
    passwords = directory / "credentials" / "passwords"
    subprocess.run(
        [MOSQUITTO_PASSWD, "-c", "-b", str(passwords), "carewatch-server", server_password],
        check=True,
    )
    for hub, password in (hubs or {}).items():
        BrokerAccounts(passwords.parent).set(hub, password)
    for path in [*directory.rglob("*")]:
        Broker._own(path)
    plain_port, tls_port = free_port(), free_port()
    conf = directory / "mosquitto.conf"
    conf.write_text(deployment_conf(directory, plain_port, tls_port))
    process = subprocess.Popen(
        [MOSQUITTO, "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    broker = Broker(directory, plain_port, tls_port, process)
    try:
        deadline = time.monotonic() + 10
        while not _listening(tls_port) or not _listening(plain_port):
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                raise RuntimeError(f"mosquitto did not start: {output}")
            time.sleep(0.05)
        yield broker
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(directory, ignore_errors=True)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Session:
    """A connected paho client and what it received."""

    client: mqtt.Client
    received: list[tuple[str, bytes]]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def connect(
    port: int,
    username: str | None,
    password: str | None,
    *,
    ca_file: Path | None = None,
    tls: bool = False,
    subscribe: str | None = None,
) -> Session | str:
    """A session, or why the broker (or TLS) refused it."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5
    )
    if username is not None:
        client.username_pw_set(username, password)
    if tls:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        client.tls_set_context(context)
    received: list[tuple[str, bytes]] = []
    outcome: list[str] = []
    done = threading.Event()

    def on_connect(
        c: mqtt.Client, userdata: object, flags: object, reason: object, props: object
    ) -> None:
        outcome.append(str(reason))
        if subscribe and str(reason) == "Success":
            c.subscribe(subscribe, qos=1)
        else:
            done.set()

    def on_subscribe(*args: object) -> None:
        done.set()

    def on_message(c: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        received.append((message.topic, bytes(message.payload)))

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    try:
        client.connect("127.0.0.1", port)
    except (OSError, ssl.SSLError) as exc:
        return f"refused: {exc}"
    client.loop_start()
    if not done.wait(5):
        client.loop_stop()
        return "refused: no answer"
    if outcome and outcome[0] != "Success":
        client.loop_stop()
        return f"refused: {outcome[0]}"
    return Session(client, received)


class PlainBroker:
    """A private, anonymous Mosquitto with persistence, to stop and start during a test."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="carewatch-mosquitto-"))
        self.directory.chmod(0o777)  # the mosquitto user writes its persistence file here
        self.port = free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self.conf = self.directory / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.directory}/\n"
            "max_queued_messages 100000\n"
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while not _listening(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("mosquitto did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM: Mosquitto saves its queued messages and sessions, as on a service restart."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(10)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@contextmanager
def plain_broker() -> Iterator[PlainBroker]:
    """A running :class:`PlainBroker`, removed afterwards."""
    broker = PlainBroker()
    broker.start()
    try:
        yield broker
    finally:
        broker.close()

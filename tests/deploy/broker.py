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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from server.broker_accounts import HUB_ACCOUNTS, BrokerAccounts, ensure_server_account
from server.certs import write_trial_certificates
from server.embedded._broker import free_port

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "deploy" / "mosquitto" / "mosquitto.conf"
ACL = REPO / "deploy" / "mosquitto" / "acl"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
# The server's broker account and its two sessions' client ids (server/runtime.py).
SERVER_ACCOUNT = "carewatch-server"
SERVER_CLIENT_IDS = ("carewatch-server", "carewatch-server-alarms")


def mosquitto_missing() -> str | None:
    """Why these tests cannot run here, or None."""
    for binary in (MOSQUITTO, MOSQUITTO_PASSWD):
        if not Path(binary).exists():
            return f"{binary} is not installed (apt-get install mosquitto)"
    return None


@dataclass
class Broker:
    """A Mosquitto with the deployment's configuration, killed and started again at will."""

    directory: Path
    plain_port: int
    tls_port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def ca_file(self) -> Path:
        return self.directory / "certs" / "ca.crt"

    @property
    def passwords(self) -> Path:
        """The hubs' password file, which ``carewatch hub add`` writes."""
        return self.directory / "credentials" / HUB_ACCOUNTS

    @property
    def accounts(self) -> BrokerAccounts:
        """The hubs' password file as ``carewatch hub add`` writes it."""
        return BrokerAccounts(self.passwords.parent)

    @property
    def database(self) -> Path:
        """Where Mosquitto saves its in-memory database (persistence_location)."""
        return self.directory / "data" / "mosquitto.db"

    @property
    def log(self) -> str:
        """What Mosquitto has logged so far."""
        return (self.directory / "mosquitto.log").read_text(errors="replace")

    def start(self) -> None:
        """Start Mosquitto (again) from the same config and persistence directory."""
        # Its log goes to a file: a pipe nobody reads would stall the broker once full.
        with (self.directory / "mosquitto.log").open("ab") as log:
            self.process = subprocess.Popen(
                [MOSQUITTO, "-c", str(self.directory / "mosquitto.conf")],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while not _listening(self.tls_port) or not _listening(self.plain_port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not start: {self.log}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: nothing is saved on the way out."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM: Mosquitto saves its database and exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def reload(self) -> None:
        """What ``docker compose kill -s HUP mosquitto`` does."""
        assert self.process is not None
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
        .replace("/mosquitto/config/", f"{CONF.parent}/")
        .replace("/mosquitto/certs/", f"{directory}/certs/")
        .replace("/mosquitto/data/", f"{directory}/data/")
        .replace("listener 1883", f"listener {plain_port}")
        .replace("listener 8883", f"listener {tls_port}")
    )
    unknown = re.findall(r"(?m)^\w+ (/mosquitto/\S*)", replaced)
    assert not unknown, f"container paths the test does not know about: {unknown}"
    return replaced


@contextmanager
def deployment_broker(
    server_password: str,
    hubs: dict[str, str] | None = None,
    *,
    server: str = SERVER_ACCOUNT,
    edit_conf: Callable[[str], str] | None = None,
) -> Iterator[Broker]:
    """Mosquitto with the deployment's conf, ACLs, trial certificates, the server's account
    (written as the server writes it at start) and ``hubs`` (as ``carewatch hub add`` does).

    ``edit_conf`` changes the conf first, to measure a setting against the shipped one.
    """
    directory = Path(tempfile.mkdtemp(prefix="carewatch-broker-"))
    directory.chmod(0o755)  # the mosquitto user must reach the files
    for sub in ("credentials", "data"):
        (directory / sub).mkdir()
    write_trial_certificates(directory / "certs", hosts=("localhost", "127.0.0.1"))
    credentials = directory / "credentials"
    ensure_server_account(credentials, server, server_password)
    for hub, password in (hubs or {}).items():
        BrokerAccounts(credentials).set(hub, password)
    for path in [*directory.rglob("*")]:
        Broker._own(path)
    broker = Broker(directory, free_port(), free_port())
    conf = deployment_conf(directory, broker.plain_port, broker.tls_port)
    (directory / "mosquitto.conf").write_text(edit_conf(conf) if edit_conf else conf)
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Session:
    """A connected paho client, what it received and whether the broker dropped it."""

    client: mqtt.Client
    received: list[tuple[str, bytes]]
    dropped: threading.Event

    def publish(self, topic: str, payload: bytes, *, timeout_s: float = 5.0) -> bool:
        """Publish at QoS 1; True once the broker's PUBACK is in (what a hub's outbox waits for)."""
        info = self.client.publish(topic, payload, qos=1)
        try:
            info.wait_for_publish(timeout_s)
        except (RuntimeError, ValueError):
            return False
        return info.is_published()

    def wait_for(self, count: int, *, timeout_s: float = 5.0) -> list[bytes]:
        """The payloads received, once there are ``count`` of them or the time is up."""
        deadline = time.monotonic() + timeout_s
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return [payload for _, payload in self.received]

    def close(self) -> None:
        """Disconnect; a session started with ``clean_start=False`` stays at the broker."""
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
    client_id: str | None = None,
    clean_start: bool = True,
) -> Session | str:
    """A session (MQTT 5), or why the broker (or TLS) refused it.

    With ``clean_start=False`` the broker keeps the session, and queues what
    it subscribed to, for a day after a disconnect, as the server's sessions do.
    """
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id or f"t-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv5,
    )
    if username is not None:
        client.username_pw_set(username, password)
    if tls:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        client.tls_set_context(context)
    received: list[tuple[str, bytes]] = []
    outcome: list[str] = []
    done = threading.Event()
    dropped = threading.Event()

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

    def on_disconnect(*args: object) -> None:
        dropped.set()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.on_disconnect = on_disconnect
    properties = None
    if not clean_start:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 24 * 60 * 60
    try:
        client.connect("127.0.0.1", port, clean_start=clean_start, properties=properties)
    except (OSError, ssl.SSLError) as exc:
        return f"refused: {exc}"
    client.loop_start()
    if not done.wait(5):
        client.loop_stop()
        return "refused: no answer"
    if outcome and outcome[0] != "Success":
        client.loop_stop()
        return f"refused: {outcome[0]}"
    # Only what happens from here on counts as the broker dropping the session.
    dropped.clear()
    return Session(client, received, dropped)


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

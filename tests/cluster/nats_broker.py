"""A NATS server of the test's own (JetStream, the MQTT gateway, carewatch's partition mappings)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from server.cluster.partitions import nats_mappings
from server.embedded._broker import free_port
from tests.infra import port_open


@dataclass(frozen=True)
class NatsBroker:
    """Where the servers (NATS) and the hubs (MQTT) reach it."""

    nats_url: str
    mqtt_url: str


def nats_missing() -> bool:
    """Whether nats-server is not installed here."""
    return shutil.which("nats-server") is None


@contextmanager
def nats_broker(directory: Path, *, partitions: int) -> Iterator[NatsBroker]:
    """Start nats-server with its store in ``directory``; stopped on exit."""
    if nats_missing():
        raise RuntimeError("nats-server is not installed (apt-get install nats-server)")
    port, mqtt_port = free_port(), free_port()
    mappings = ",\n".join(
        f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in nats_mappings(partitions).items()
    )
    config = directory / "nats.conf"
    config.write_text(
        f"listen: 127.0.0.1:{port}\n"
        f"server_name: carewatch-test-{port}\n"
        f'jetstream {{ store_dir: "{directory / "js"}" }}\n'
        f"mqtt {{ listen: 127.0.0.1:{mqtt_port} }}\n"
        f"mappings = {{\n{mappings}\n}}\n"
    )
    log = (directory / "nats.log").open("wb")
    process = subprocess.Popen(["nats-server", "-c", str(config)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while not (port_open("127.0.0.1", port) and port_open("127.0.0.1", mqtt_port)):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nats-server did not start: see {directory / 'nats.log'}")
            time.sleep(0.05)
        yield NatsBroker(f"nats://127.0.0.1:{port}", f"mqtt://127.0.0.1:{mqtt_port}")
    finally:
        process.terminate()
        process.wait(10)
        log.close()

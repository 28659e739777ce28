"""docker-compose.yml: valid for Compose, with the services, mounts and secrets a council needs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SECRETS = {
    "CAREWATCH_DB_PASSWORD": "db-secret",
    "CAREWATCH_MQTT_PASSWORD": "mqtt-secret",
    "CAREWATCH_ADMIN_PASSWORD": "admin-secret-long",
    "CAREWATCH_LINK_SECRET": "link-secret-" * 4,
}


def _compose() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


COMPOSE = _compose()
needs_compose = pytest.mark.skipif(
    COMPOSE is None, reason="no Compose client: apt-get install docker-compose"
)


def _config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert COMPOSE is not None
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CAREWATCH_")}
    return subprocess.run(
        [*COMPOSE, "--profile", "trial", "config"],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


@needs_compose
def test_compose_validates_the_file_and_declares_the_deployment() -> None:
    result = _config(SECRETS)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    services = config["services"]
    assert set(services) == {"mosquitto", "timescaledb", "server", "simulator"}
    assert set(config["volumes"]) == {"broker-credentials", "mosquitto-data", "timescaledb-data"}

    broker = services["mosquitto"]
    published = {
        str(p["target"] if isinstance(p, dict) else p).split(":")[-1] for p in broker["ports"]
    }
    assert published == {"8883"}, "only the TLS listener faces the internet"
    mounts = " ".join(str(v) for v in broker["volumes"])
    for needed in (
        "deploy/mosquitto/mosquitto.conf:",
        "deploy/mosquitto/acl:",
        "deploy/mosquitto/acl-hubs:",
        "deploy/certs:",
    ):
        assert needed in mounts

    server = services["server"]
    assert server["environment"]["CAREWATCH_ENVIRONMENT"] == "production"
    assert "healthcheck" in server
    assert "db-secret" in server["environment"]["CAREWATCH_DATABASE_URL"]
    assert services["timescaledb"]["image"].startswith("timescale/timescaledb")


@needs_compose
def test_compose_refuses_to_run_without_its_secrets() -> None:
    result = _config({})
    assert result.returncode != 0
    assert "CAREWATCH_DB_PASSWORD" in result.stderr


def test_no_secret_is_written_into_the_repository() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    for line in text.splitlines():
        if "PASSWORD" in line or "SECRET" in line:
            assert "${" in line or line.strip().startswith("#"), line
    assert not (REPO / ".env").exists()

"""The hub agent's configuration: one settings object, from ``CAREWATCH_AGENT_*`` variables."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

from edge.protocol import validate_hub_id

__all__ = ["AgentSettings", "GpioEntry", "SensorEntry", "load_settings", "read_config"]


class GpioEntry(BaseModel):
    """A wired sensor: BCM pin, sensor id, motion or contact, room."""

    pin: int
    sensor: str
    kind: Literal["motion", "contact"]
    room: str | None = None
    closed_when_low: bool = True


class SensorEntry(BaseModel):
    """One device in the hub's sensor map: zigbee2mqtt's friendly name → sensor, kind, room."""

    device: str
    sensor: str
    kind: str
    room: str | None = None


class AgentSettings(BaseSettings):
    """What an installer sets on a hub; :func:`load_settings` layers options, env and file."""

    model_config = SettingsConfigDict(env_prefix="CAREWATCH_AGENT_", extra="ignore")

    hub_id: str
    # e.g. mqtt://hub-0001:password@broker.example:1883 or mqtts://… for TLS
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    outbox_path: Path = Path("/var/lib/carewatch/outbox.sqlite3")
    # MQTT 5 with a persistent session; "3.1.1" for brokers without it.
    mqtt_protocol: Literal["5", "3.1.1"] = "5"
    # The CA that signed the broker's certificate, for mqtts:// (else the system's CAs).
    ca_file: Path | None = None
    # A client certificate and key, where the broker asks hubs for one (mutual TLS).
    client_cert_file: Path | None = None
    client_key_file: Path | None = None
    heartbeat_s: float = Field(default=60.0, gt=0)
    batch_max_readings: int = Field(default=500, ge=1)
    batch_max_delay_s: float = Field(default=1.0, ge=0)
    # About 100 bytes each on disk: the default is some 200 MB, weeks of a busy home.
    max_outbox_readings: int = Field(default=2_000_000, ge=1_000)
    # Where readings come from: a driver registered under "carewatch.drivers"
    # (zigbee2mqtt on the hub's own broker; "sim", a simulated home, for trials).
    # No default: a hub must say which, or it refuses to start.
    driver: str | None = None
    # The simulated home's seed, for the "sim" driver.
    sim_seed: int = 1
    local_mqtt_url: str = "mqtt://127.0.0.1:1883"
    zigbee_base_topic: str = "zigbee2mqtt"
    sensors: list[SensorEntry] = Field(default_factory=list)
    # Wired sensors on the hub's own pins, read as well as the driver's.
    gpio: list[GpioEntry] = Field(default_factory=list)

    @field_validator("hub_id")
    @classmethod
    def _hub_id(cls, value: str) -> str:
        return validate_hub_id(value)  # a ProtocolError is a ValueError: pydantic reports it


def read_config(path: Path) -> dict[str, Any]:
    """The settings in an agent.toml; ValueError says what is wrong with the file."""
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(
            f"no config file at {path}: copy deploy/agent/agent.example.toml there "
            "(docs/hub-install.md, step 3) or give the right --config"
        ) from None
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path} is not valid TOML: {exc}") from None


def load_settings(config: Path | None, options: Mapping[str, Any] | None = None) -> AgentSettings:
    """Options, then ``CAREWATCH_AGENT_*`` variables (agent.env), then agent.toml.

    The file is the shared, copied template (sensor map, driver); agent.env holds
    the one hub's id and password from ``carewatch hub add``. So the environment
    beats the file: a placeholder left in a copied agent.toml cannot hide the
    real credentials. Raises ValueError (pydantic's ValidationError is one) with
    what is wrong.
    """
    from_file = read_config(config) if config is not None else {}
    # pydantic-settings' own reader of the variables, so they parse as they always have.
    from_env = EnvSettingsSource(AgentSettings)()
    return AgentSettings(**{**from_file, **from_env, **(options or {})})

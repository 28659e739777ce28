"""A hub's config, retained on its config topic: the installer's sensor map and the heartbeat.

Retained, so that a hub offline when the map was edited (or restarted since)
gets it as soon as it subscribes; published at QoS 1 on a short connection of
its own, waiting for the broker's PUBACK, so that "sent to the hub" on the
admin page means the broker has it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import aiomqtt

from edge.mqtt_url import broker_address
from edge.protocol import HubConfig, SensorSpec, config_topic, encode

__all__ = ["ConfigNotSent", "hub_config", "publish_config"]

# The broker gets this long to take the config before the page is told it was not sent.
_TIMEOUT_S = 5.0


class ConfigNotSent(RuntimeError):
    """The broker did not take the hub's config; the reason says why."""


def hub_config(sensors: Sequence[tuple[str, str, str]], *, heartbeat_s: int) -> HubConfig:
    """The config for a hub with these (sensor, kind, room) on its map.

    >>> hub_config([("kitchen-pir", "motion", "kitchen")], heartbeat_s=60).sensors[0].room
    'kitchen'
    """
    return HubConfig(
        heartbeat_s=heartbeat_s,
        sensors=tuple(SensorSpec(sensor, kind, room) for sensor, kind, room in sensors),
    )


async def publish_config(mqtt_url: str, hub: str, config: HubConfig, *, client_id: str) -> None:
    """Publish ``config`` retained on the hub's config topic, or ConfigNotSent."""
    host, port, username, password, tls = broker_address(mqtt_url)
    try:
        async with aiomqtt.Client(
            host,
            port,
            username=username,
            password=password,
            # Its own session, never the consumers': two clients with one id take turns.
            identifier=f"{client_id}-config-{uuid.uuid4().hex[:8]}",
            clean_session=True,
            protocol=aiomqtt.ProtocolVersion.V311,
            tls_params=aiomqtt.TLSParameters() if tls else None,
            timeout=_TIMEOUT_S,
        ) as client:
            await client.publish(
                config_topic(hub), encode(config), qos=1, retain=True, timeout=_TIMEOUT_S
            )
    except (aiomqtt.MqttError, OSError) as exc:
        raise ConfigNotSent(f"the broker at {host}:{port} did not take it ({exc})") from None

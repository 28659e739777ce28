"""A hub's sensor map edited through the API: stored, placed by the detectors, and published to
the hub retained on its config topic (real Mosquitto), so a hub that connects later gets it."""

from __future__ import annotations

import queue
import uuid

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge.mqtt_url import broker_address
from edge.protocol import HubConfig, SensorSpec, config_topic, parse_message
from server.runtime import CarewatchServer
from tests.server.people import make_home


def retained_config(mqtt_url: str, hub: str, *, within: float = 10.0) -> HubConfig:
    """What a hub connecting now finds on its config topic: the broker's retained message."""
    host, port, user, password, _ = broker_address(mqtt_url)
    received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"test-hub-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv311,
    )
    if user:
        client.username_pw_set(user, password)
    client.on_message = lambda _client, _data, message: received.put(message)
    client.connect(host, port)
    client.subscribe(config_topic(hub), qos=1)
    client.loop_start()
    try:
        message = received.get(timeout=within)
    finally:
        client.loop_stop()
        client.disconnect()
    assert message.retain, "the config must be retained, for a hub that connects later"
    config = parse_message(config_topic(hub), bytes(message.payload))
    assert isinstance(config, HubConfig)
    return config


async def test_an_edited_sensor_map_is_kept_and_sent_to_the_hub_retained(
    quick_server: CarewatchServer, admin_api: httpx.AsyncClient, mqtt_url: str
) -> None:
    home = await make_home(admin_api, "Mrs Edith Clarke", "north", tag="map1")
    url = f"/api/v1/hubs/{home.hub}/sensors"
    empty = await admin_api.get(url)
    assert empty.status_code == 200, empty.text
    assert empty.json()["sensors"] == []
    assert "motion" in empty.json()["kinds"]

    saved = await admin_api.put(
        url,
        json={
            "sensors": [
                {"sensor": "kitchen-pir", "kind": "motion", "room": "kitchen"},
                {"sensor": "front-door", "kind": "contact", "room": "front_door"},
            ]
        },
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["sent"] is True
    config = retained_config(mqtt_url, home.hub)
    assert config.sensors == (
        SensorSpec("front-door", "contact", "front_door"),
        SensorSpec("kitchen-pir", "motion", "kitchen"),
    )
    assert config.heartbeat_s == quick_server.settings.hub_heartbeat_s

    # A sensor moved and one taken off: the hub's retained map is the new one, whole.
    moved = await admin_api.put(
        url, json={"sensors": [{"sensor": "kitchen-pir", "kind": "motion", "room": "lounge"}]}
    )
    assert moved.status_code == 200, moved.text
    assert retained_config(mqtt_url, home.hub).sensors == (
        SensorSpec("kitchen-pir", "motion", "lounge"),
    )
    assert (await admin_api.get(url)).json()["sensors"] == [
        {"sensor": "kitchen-pir", "kind": "motion", "room": "lounge"}
    ]

    # A map with mistakes: every one named, nothing saved, nothing sent.
    wrong = await admin_api.put(
        url,
        json={
            "sensors": [
                {"sensor": "hall-pir", "kind": "telepathy", "room": "hall"},
                {"sensor": "hall-pir", "kind": "motion", "room": " "},
            ]
        },
    )
    assert wrong.status_code == 422
    detail = wrong.json()["detail"]
    assert "unknown kind 'telepathy'" in detail
    assert "listed twice" in detail
    assert "has no room" in detail
    assert retained_config(mqtt_url, home.hub).sensors == (
        SensorSpec("kitchen-pir", "motion", "lounge"),
    )

    unknown = await admin_api.put("/api/v1/hubs/no-such-hub/sensors", json={"sensors": []})
    assert unknown.status_code == 404
    assert "check the hub id" in unknown.json()["detail"]

"""The wire contract: round trips, and a precise reason for every kind of bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from edge.protocol import (
    MAX_PAYLOAD_BYTES,
    Alarm,
    AlarmKind,
    Channel,
    HubConfig,
    HubState,
    HubStatus,
    ProtocolError,
    Reading,
    ReadingKind,
    ReadingsBatch,
    SensorHealth,
    SensorSpec,
    alarm_topic,
    config_topic,
    encode,
    format_timestamp,
    parse_message,
    parse_timestamp,
    parse_topic,
    readings_topic,
    status_topic,
)

NOW = datetime(2026, 11, 22, 10, 0, 1, 250000, tzinfo=UTC)


def _readings_payload(**overrides: Any) -> bytes:
    body: dict[str, Any] = {
        "v": 1,
        "hub": "hub-0001",
        "seq": 42,
        "sent_at": "2026-11-22T10:00:01.250Z",
        "readings": [
            {
                "sensor": "kitchen-pir",
                "kind": "motion",
                "ts": "2026-11-22T09:59:58.120Z",
                "value": 1,
            }
        ],
    }
    body.update(overrides)
    return json.dumps(body).encode()


def _reason(payload: bytes, topic: str = readings_topic("hub-0001")) -> str:
    with pytest.raises(ProtocolError) as caught:
        parse_message(topic, payload, now=NOW)
    return caught.value.reason


def test_design_example_parses() -> None:
    batch = parse_message(readings_topic("hub-0001"), _readings_payload(), now=NOW)
    assert batch == ReadingsBatch(
        hub="hub-0001",
        seq=42,
        sent_at=NOW,
        readings=(
            Reading(
                "kitchen-pir",
                ReadingKind.MOTION,
                datetime(2026, 11, 22, 9, 59, 58, 120000, tzinfo=UTC),
                1.0,
            ),
        ),
    )


@pytest.mark.parametrize(
    "message",
    [
        ReadingsBatch("hub-1", 0, NOW, ()),
        Alarm("hub-1", "5f0c-uuid", "pendant", AlarmKind.PENDANT, NOW),
        HubStatus("hub-1", HubState.OFFLINE, NOW),
        HubStatus(
            "hub-1",
            HubState.ONLINE,
            NOW,
            uptime_s=3600.0,
            outbox=3,
            firmware="1.0.0",
            sensors=(SensorHealth("kitchen-pir", "motion", "kitchen", 87.0, 120.0),),
            watermark=NOW - timedelta(seconds=5),
        ),
    ],
)
def test_messages_round_trip(message: ReadingsBatch | Alarm | HubStatus) -> None:
    topic = {
        ReadingsBatch: readings_topic,
        Alarm: alarm_topic,
        HubStatus: status_topic,
    }[type(message)]("hub-1")
    assert parse_message(topic, encode(message), now=NOW) == message


def test_config_round_trips() -> None:
    config = HubConfig(heartbeat_s=60, sensors=(SensorSpec("front-door", "contact", "front_door"),))
    assert parse_message(config_topic("hub-1"), encode(config), now=NOW) == config


def test_timestamps_are_rfc3339_utc() -> None:
    assert format_timestamp(NOW) == "2026-11-22T10:00:01.250Z"
    assert parse_timestamp("2026-11-22T11:00:01.250+01:00") == NOW
    with pytest.raises(ProtocolError, match="no UTC offset"):
        parse_timestamp("2026-11-22T10:00:01")
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(NOW.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        ("other/hubs/hub-1/readings", "is not under carewatch/v1/hubs/"),
        ("carewatch/v1/hubs/hub-1", "is not of the form"),
        ("carewatch/v1/hubs/hub-1/readings/extra", "is not of the form"),
        ("carewatch/v1/hubs/hub 1/readings", "hub id 'hub 1' is not valid"),
        ("carewatch/v1/hubs/hub-1/gossip", "unknown channel 'gossip'"),
    ],
)
def test_bad_topics(topic: str, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        parse_topic(topic)


def test_topics_name_hub_and_channel() -> None:
    assert parse_topic("carewatch/v1/hubs/hub-0001/status") == ("hub-0001", Channel.STATUS)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe", "payload is not UTF-8"),
        (b"{", "payload is not JSON"),
        (b"[1, 2]", "readings must be a JSON object, got array"),
        (_readings_payload(v=2), "unsupported protocol version 2"),
        (_readings_payload(v="1"), "field 'v' must be an integer, got string"),
        (_readings_payload(seq=None), "missing field 'seq'"),
        (_readings_payload(seq=-1), "field 'seq' must be at least 0"),
        (_readings_payload(seq=True), "field 'seq' must be an integer, got boolean"),
        (_readings_payload(hub="hub-0002"), "does not match topic hub 'hub-0001'"),
        (
            _readings_payload(sent_at="yesterday"),
            "field 'sent_at': timestamp 'yesterday' is not RFC 3339",
        ),
        (
            _readings_payload(sent_at="2026-11-24T10:00:02Z"),
            "more than 24 h after the server's time",
        ),
        (_readings_payload(readings={}), "field 'readings' must be an array, got object"),
        (_readings_payload(readings=[3]), "readings[0] must be a JSON object, got number"),
        (
            _readings_payload(
                readings=[
                    {"sensor": "k", "kind": "smell", "ts": "2026-11-22T09:00:00Z", "value": 1}
                ]
            ),
            "readings[0]: unknown kind 'smell'",
        ),
        (
            _readings_payload(
                readings=[
                    {"sensor": "k", "kind": "motion", "ts": "2026-11-22T09:00:00Z", "value": "1"}
                ]
            ),
            "readings[0]: field 'value' must be a number, got string",
        ),
        (
            _readings_payload(
                readings=[
                    {
                        "sensor": "k",
                        "kind": "temperature",
                        "ts": "2026-11-22T09:00:00Z",
                        "value": 900,
                    }
                ]
            ),
            "temperature value 900 is outside -50..80",
        ),
        (
            _readings_payload(
                readings=[
                    {"sensor": "", "kind": "motion", "ts": "2026-11-22T09:00:00Z", "value": 1}
                ]
            ),
            "readings[0]: field 'sensor' has invalid value ''",
        ),
        (
            _readings_payload(readings=[{"sensor": "k", "kind": "motion", "value": 1}]),
            "readings[0]: missing field 'ts'",
        ),
    ],
)
def test_bad_readings_payloads_say_what_is_wrong(payload: bytes, reason: str) -> None:
    assert reason in _reason(payload)


def test_oversized_payload_is_refused_before_parsing() -> None:
    payload = b" " * (MAX_PAYLOAD_BYTES + 1)
    assert (
        _reason(payload) == f"payload is {MAX_PAYLOAD_BYTES + 1} bytes, over the 262144 byte limit"
    )


def test_errors_carry_the_hub() -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_message(readings_topic("hub-0001"), b"nope", now=NOW)
    assert caught.value.hub == "hub-0001"


def test_bad_alarm_and_status() -> None:
    alarm = {
        "v": 1,
        "hub": "hub-0001",
        "id": "a1",
        "sensor": "pendant",
        "kind": "panic",
        "ts": "2026-11-22T10:00:00Z",
    }
    assert "unknown kind 'panic'" in _reason(json.dumps(alarm).encode(), alarm_topic("hub-0001"))
    status = {"v": 1, "hub": "hub-0001", "state": "asleep", "ts": "2026-11-22T10:00:00Z"}
    assert "unknown state 'asleep'" in _reason(
        json.dumps(status).encode(), status_topic("hub-0001")
    )

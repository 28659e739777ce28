"""The wire contract: round trips, and a precise reason for every kind of bad input."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from edge.protocol import (
    MAX_ACK_IDS,
    MAX_PAYLOAD_BYTES,
    Alarm,
    AlarmAck,
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
    alarm_ack_topic,
    alarm_topic,
    config_topic,
    encode,
    format_timestamp,
    parse_message,
    parse_timestamp,
    parse_topic,
    readings_topic,
    status_topic,
    validate_hub_id,
)

NOW = datetime(2026, 11, 22, 10, 0, 1, 250000, tzinfo=UTC)
BIGINT_MAX = 2**63 - 1


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
        parse_message(topic, payload)
    return caught.value.reason


def test_design_example_parses() -> None:
    batch = parse_message(readings_topic("hub-0001"), _readings_payload())
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
    assert parse_message(topic, encode(message)) == message


def test_config_round_trips() -> None:
    config = HubConfig(heartbeat_s=60, sensors=(SensorSpec("front-door", "contact", "front_door"),))
    assert parse_message(config_topic("hub-1"), encode(config)) == config


def test_an_alarm_confirmation_round_trips_on_the_hubs_own_topic() -> None:
    ack = AlarmAck("hub-1", ("5f0c2a9e-1b2c-4d5e-8f90-0123456789ab", "a-2"))
    assert alarm_ack_topic("hub-1") == "carewatch/v1/hubs/hub-1/alarm_ack"
    assert parse_topic(alarm_ack_topic("hub-1")) == ("hub-1", Channel.ALARM_ACK)
    assert json.loads(encode(ack)) == {"v": 1, "hub": "hub-1", "ids": list(ack.ids)}
    assert parse_message(alarm_ack_topic("hub-1"), encode(ack)) == ack
    most = AlarmAck("hub-1", tuple(f"a-{i}" for i in range(MAX_ACK_IDS)))
    assert parse_message(alarm_ack_topic("hub-1"), encode(most)) == most


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"hub": "hub-1", "ids": []}, "must name 1 to 100 alarms, got 0"),
        ({"hub": "hub-1", "ids": [f"a-{i}" for i in range(101)]}, "1 to 100 alarms, got 101"),
        ({"hub": "hub-1", "ids": "a-1"}, "field 'ids' must be an array, got string"),
        ({"hub": "hub-1"}, "missing field 'ids'"),
        ({"hub": "hub-1", "ids": ["a-1", 7]}, "ids[1] must be a string, got number"),
        ({"hub": "hub-1", "ids": ["a-1\n"]}, "ids[0] has invalid value"),
        ({"hub": "hub-1", "ids": ["a" * 129]}, "ids[0] has invalid value"),
        ({"hub": "hub-2", "ids": ["a-1"]}, "hub 'hub-2' in payload does not match topic hub"),
    ],
)
def test_bad_alarm_confirmations_say_what_is_wrong(body: dict[str, Any], reason: str) -> None:
    payload = json.dumps({"v": 1, **body}).encode()
    with pytest.raises(ProtocolError, match=re.escape(reason)):
        parse_message(alarm_ack_topic("hub-1"), payload)


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
        parse_message(readings_topic("hub-0001"), b"nope")
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


def _reading(**overrides: Any) -> dict[str, Any]:
    return {
        "sensor": "kitchen-pir",
        "kind": "power",
        "ts": "2026-11-22T09:59:58.120Z",
        "value": 1,
        **overrides,
    }


def _status_payload(**overrides: Any) -> bytes:
    body: dict[str, Any] = {
        "v": 1,
        "hub": "hub-0001",
        "state": "online",
        "ts": "2026-11-22T10:00:00Z",
        **overrides,
    }
    return json.dumps(body).encode()


def test_the_largest_seq_the_database_stores_is_accepted() -> None:
    batch = parse_message(readings_topic("hub-0001"), _readings_payload(seq=BIGINT_MAX))
    assert isinstance(batch, ReadingsBatch)
    assert batch.seq == BIGINT_MAX


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (
            _readings_payload(seq=BIGINT_MAX + 1),
            "field 'seq' must be at most 9223372036854775807, got 9223372036854775808",
        ),
        (_readings_payload(seq=10**400), "field 'seq' must be at most 9223372036854775807"),
        (_readings_payload(v=10**30), "field 'v' must be at most"),
        (
            _readings_payload(readings=[_reading(value=float("nan"))]),
            "readings[0]: field 'value' must be a finite number, got NaN",
        ),
        (
            _readings_payload(readings=[_reading(value=float("inf"))]),
            "readings[0]: field 'value' must be a finite number, got Infinity",
        ),
        (
            _readings_payload(readings=[_reading(value=float("-inf"))]),
            "readings[0]: field 'value' must be a finite number, got -Infinity",
        ),
        (
            _readings_payload(readings=[_reading(value=10**400)]),
            "readings[0]: field 'value' is too large, got 100000000000… (401 digits)",
        ),
        (
            _readings_payload(readings=[_reading(sensor="kitchen-pir\n")]),
            "readings[0]: field 'sensor' has invalid value 'kitchen-pir\\n'",
        ),
        (
            _readings_payload(sent_at="0001-01-01T00:00:00+01:00"),
            "field 'sent_at': timestamp '0001-01-01T00:00:00+01:00' is out of range",
        ),
        (
            _readings_payload(readings=[_reading(ts="9999-12-31T23:59:59-01:00")]),
            "readings[0]: field 'ts': timestamp '9999-12-31T23:59:59-01:00' is out of range",
        ),
        (
            _readings_payload(sent_at="x" * 10_000),
            "timestamp 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'…"
            " is not RFC 3339",
        ),
    ],
)
def test_every_field_is_bounded_to_what_the_server_stores(payload: bytes, reason: str) -> None:
    assert reason in _reason(payload)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (_status_payload(outbox=BIGINT_MAX + 1), "field 'outbox' must be at most"),
        (_status_payload(outbox=-1), "field 'outbox' must be at least 0"),
        (_status_payload(shed=BIGINT_MAX + 1), "field 'shed' must be at most"),
        (_status_payload(uptime_s=-5), "field 'uptime_s' must be at least 0"),
        (_status_payload(uptime_s=1e300), "field 'uptime_s' must be at most"),
        (
            _status_payload(uptime_s=float("nan")),
            "field 'uptime_s' must be a finite number, got NaN",
        ),
        (
            _status_payload(sensors=[{"sensor": "pir", "kind": "motion", "battery": 101}]),
            "sensors[0]: field 'battery' must be at most 100, got 101",
        ),
        (
            _status_payload(sensors=[{"sensor": "pir", "kind": "motion", "link": -1}]),
            "sensors[0]: field 'link' must be at least 0, got -1",
        ),
        (
            _status_payload(sensors=[{"sensor": "pir", "kind": "motion", "room": "hall\u0000"}]),
            "sensors[0]: field 'room' has invalid value 'hall\\x00'",
        ),
        (_status_payload(firmware="1.0\n"), "field 'firmware' has invalid value '1.0\\n'"),
        (_status_payload(firmware="x" * 65), "field 'firmware' has invalid value"),
        (_status_payload(watermark="9999-12-31T23:00:00-05:00"), "field 'watermark'"),
    ],
)
def test_status_figures_are_bounded(payload: bytes, reason: str) -> None:
    assert reason in _reason(payload, status_topic("hub-0001"))


@pytest.mark.parametrize(
    ("heartbeat_s", "reason"),
    [(0, "must be at least 1"), (86_401, "must be at most 86400"), (2**64, "must be at most")],
)
def test_config_heartbeat_is_bounded(heartbeat_s: int, reason: str) -> None:
    payload = json.dumps({"v": 1, "heartbeat_s": heartbeat_s, "sensors": []}).encode()
    assert reason in _reason(payload, config_topic("hub-0001"))


@pytest.mark.parametrize("text", ["hub-1\n", "hub-1\r", " hub-1"])
def test_a_hub_id_with_a_trailing_newline_is_refused(text: str) -> None:
    with pytest.raises(ProtocolError, match="is not valid"):
        validate_hub_id(text)


def test_an_alarm_id_with_a_trailing_newline_is_refused() -> None:
    alarm = {
        "v": 1,
        "hub": "hub-0001",
        "id": "a1\n",
        "sensor": "pendant",
        "kind": "pendant",
        "ts": "2026-11-22T10:00:00Z",
    }
    assert "field 'id' has invalid value 'a1\\n'" in _reason(
        json.dumps(alarm).encode(), alarm_topic("hub-0001")
    )


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "payload is not JSON we read: nested too deeply"),
        (
            b'{"v": 1, "seq": 1' + b"0" * 5000 + b"}",
            "payload is not JSON we read: Exceeds the limit (4300 digits)",
        ),
    ],
)
def test_json_python_cannot_read_is_a_protocol_error(payload: bytes, reason: str) -> None:
    assert reason in _reason(payload)


def test_timestamps_ahead_are_left_to_the_receiver_to_judge() -> None:
    batch = parse_message(
        readings_topic("hub-0001"), _readings_payload(sent_at="2026-11-25T10:00:00Z")
    )
    assert isinstance(batch, ReadingsBatch)
    assert batch.sent_at == datetime(2026, 11, 25, 10, tzinfo=UTC)

"""Whatever arrives, triage answers with a message or a dead letter that says why; it never raises.

The parser itself raises nothing but ProtocolError, however nasty the JSON: nesting
deeper than Python recurses, integers of thousands of digits, NaN, timestamps at
the ends of the calendar with an offset, lone surrogates, control characters.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.protocol import (
    Alarm,
    HubStatus,
    Message,
    ProtocolError,
    Reading,
    ReadingKind,
    ReadingsBatch,
    encode,
    parse_message,
    readings_topic,
)
from server.ingest.triage import CLOCK_TOLERANCE, Accepted, Ignored, triage
from server.store.dead_letters import DeadLetter

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
HUBS = ("hub-1", "hub-2")
GOOD = json.loads(
    encode(ReadingsBatch("hub-1", 7, NOW, (Reading("kitchen-pir", ReadingKind.MOTION, NOW, 1.0),)))
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
topics = st.sampled_from(
    [
        f"carewatch/v1/hubs/{hub}/{channel}"
        for hub in (*HUBS, "hub-x")
        for channel in ("readings", "alarm", "status")
    ]
    + [
        "carewatch/v1/hubs/",
        "carewatch/v1/hubs/hub-1",
        "elsewhere/x",
        "carewatch/v1/hubs/bad hub/readings",
        "carewatch/v1/hubs/hub-1\n/readings",
    ]
)

# Valid messages of each channel, for one field to be replaced by something nasty.
TEMPLATES: dict[str, dict[str, Any]] = {
    "readings": GOOD,
    "alarm": {
        "v": 1,
        "hub": "hub-1",
        "id": "a-1",
        "sensor": "pendant",
        "kind": "pendant",
        "ts": "2026-11-24T11:59:00Z",
    },
    "status": {
        "v": 1,
        "hub": "hub-1",
        "state": "online",
        "ts": "2026-11-24T11:59:00Z",
        "uptime_s": 60,
        "outbox": 0,
        "shed": 0,
        "firmware": "1.0.0",
        "watermark": "2026-11-24T11:59:00Z",
        "sensors": [{"sensor": "pir", "kind": "motion", "room": "hall", "battery": 80, "link": 9}],
    },
    # Server to hub: the hub's agent parses it with the same parser.
    "alarm_ack": {"v": 1, "hub": "hub-1", "ids": ["a-1", "a-2"]},
}
_HOLE = "\x00hole\x00"


def _offset_timestamp(ts: datetime, minutes: int) -> str:
    return ts.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat()


# JSON text that json.loads or the code after it has choked on.
nasty_text = st.one_of(
    st.integers(1, 20_000).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 5_000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.integers(300, 6_000).map(lambda n: "9" * n),
    st.sampled_from(
        ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "-0", str(2**63), str(-(2**63) - 1)]
    ),
    st.sampled_from(['"\\ud800"', '"a\\u0000"', '"pir\\n"', '"\\udfff\\ud800"', '"\\u2028"']),
    st.builds(
        _offset_timestamp,
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
        st.integers(-23 * 60 - 59, 23 * 60 + 59),
    ).map(json.dumps),
    st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]).map(json.dumps),
    json_values.map(lambda v: json.dumps(v)),
)


def _with_hole(channel: str, path: tuple[str | int, ...]) -> str:
    document = json.loads(json.dumps(TEMPLATES[channel]))
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = _HOLE
    return json.dumps(document)


def _paths(channel: str) -> list[tuple[str | int, ...]]:
    document = TEMPLATES[channel]
    paths: list[tuple[str | int, ...]] = [(name,) for name in document]
    for name in ("readings", "sensors"):
        for field in document.get(name, [{}])[0]:
            paths.append((name, 0, field))
    if "ids" in document:
        paths.append(("ids", 1))
    return paths


holes = st.sampled_from([(channel, path) for channel in TEMPLATES for path in _paths(channel)])


def _triage(topic: str, payload: bytes) -> Accepted | DeadLetter | Ignored:
    return triage(topic, payload, received_at=NOW, is_provisioned=HUBS.__contains__)


def _parse_or_refuse(topic: str, payload: bytes) -> Message | ProtocolError:
    """What the parser made of it; anything but ProtocolError escapes and fails the test."""
    try:
        return parse_message(topic, payload)
    except ProtocolError as exc:
        return exc


def _check(outcome: Accepted | DeadLetter | Ignored, payload: bytes) -> None:
    match outcome:
        case DeadLetter():
            assert outcome.reason
            assert len(outcome.reason) < 2_000, "a reason is read by a person"
        case Accepted(message=ReadingsBatch() as batch):
            assert all(r.ts <= NOW + CLOCK_TOLERANCE for r in batch.readings)
            assert batch.sent_at <= NOW + CLOCK_TOLERANCE
        case Accepted(message=Alarm() | HubStatus() as message):
            assert message.ts <= NOW + CLOCK_TOLERANCE


@given(topic=topics, payload=st.binary(max_size=300))
def test_any_bytes_on_any_topic(topic: str, payload: bytes) -> None:
    outcome = _triage(topic, payload)
    _check(outcome, payload)
    if isinstance(outcome, DeadLetter):
        assert outcome.payload == payload


@given(topic=topics, document=json_values)
def test_any_json_on_any_topic(topic: str, document: object) -> None:
    payload = json.dumps(document).encode()
    outcome = _triage(topic, payload)
    assert isinstance(outcome, DeadLetter)
    assert outcome.reason


@settings(max_examples=500, deadline=None)
@given(hole=holes, text=nasty_text)
def test_nasty_json_in_any_field_is_a_protocol_error_or_a_message(
    hole: tuple[str, tuple[str | int, ...]], text: str
) -> None:
    channel, path = hole
    payload = _with_hole(channel, path).replace(json.dumps(_HOLE), text).encode()
    topic = f"carewatch/v1/hubs/hub-1/{channel}"
    if isinstance(parsed := _parse_or_refuse(topic, payload), ProtocolError):
        assert parsed.reason
    _check(_triage(topic, payload), payload)


@settings(max_examples=200, deadline=None)
@given(text=nasty_text, topic=topics)
def test_nasty_json_as_the_whole_payload(text: str, topic: str) -> None:
    payload = text.encode("utf-8", "surrogatepass")
    if topic.startswith("carewatch/v1/hubs/hub-1/"):
        _parse_or_refuse(topic, payload)
    _check(_triage(topic, payload), payload)


@settings(max_examples=300)
@given(field=st.sampled_from(sorted(GOOD)), value=json_values)
def test_a_valid_batch_with_one_field_replaced(field: str, value: object) -> None:
    document = {**GOOD, field: value}
    outcome = _triage(readings_topic("hub-1"), json.dumps(document).encode())
    if isinstance(outcome, DeadLetter):
        assert outcome.reason
    else:
        assert isinstance(outcome, Accepted)
        assert isinstance(outcome.message, ReadingsBatch)
        assert outcome.message.hub == "hub-1"


@given(
    reading=st.dictionaries(st.sampled_from(["sensor", "kind", "ts", "value", "x"]), json_values)
)
def test_a_batch_with_a_strange_reading(reading: dict[str, object]) -> None:
    document = {**GOOD, "readings": [reading]}
    payload = json.dumps(document).encode()
    outcome = _triage(readings_topic("hub-1"), payload)
    assert isinstance(outcome, DeadLetter | Accepted)
    _check(outcome, payload)


@given(document=json_values)
def test_what_the_server_sends_hubs_is_ignored_not_dead_lettered(document: object) -> None:
    # A subscription to carewatch/v1/hubs/# reads back the server's own config and
    # alarm confirmations: neither is a hub's message, nor a hub's mistake.
    payload = json.dumps(document).encode()
    for channel in ("config", "alarm_ack"):
        assert isinstance(_triage(f"carewatch/v1/hubs/hub-1/{channel}", payload), Ignored)
        assert isinstance(_triage(f"carewatch/v1/hubs/hub-x/{channel}", payload), Ignored)

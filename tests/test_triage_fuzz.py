"""Whatever arrives, triage answers with a message or a dead letter that says why; it never raises."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.protocol import Message, Reading, ReadingKind, ReadingsBatch, encode, readings_topic
from server.db.dead_letters import DeadLetter
from server.ingest.triage import Ignored, triage

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
HUBS = ("hub-1", "hub-2")
GOOD = json.loads(
    encode(ReadingsBatch("hub-1", 7, NOW, (Reading("kitchen-pir", ReadingKind.MOTION, NOW, 1.0),)))
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
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
    ]
)


def _triage(topic: str, payload: bytes) -> Message | DeadLetter | Ignored:
    return triage(topic, payload, received_at=NOW, is_provisioned=HUBS.__contains__)


@given(topic=topics, payload=st.binary(max_size=300))
def test_any_bytes_on_any_topic(topic: str, payload: bytes) -> None:
    outcome = _triage(topic, payload)
    if isinstance(outcome, DeadLetter):
        assert outcome.reason
        assert outcome.payload == payload


@given(topic=topics, document=json_values)
def test_any_json_on_any_topic(topic: str, document: object) -> None:
    outcome = _triage(topic, json.dumps(document).encode())
    assert isinstance(outcome, DeadLetter)
    assert outcome.reason


@settings(max_examples=300)
@given(field=st.sampled_from(sorted(GOOD)), value=json_values)
def test_a_valid_batch_with_one_field_replaced(field: str, value: object) -> None:
    document = {**GOOD, field: value}
    outcome = _triage(readings_topic("hub-1"), json.dumps(document).encode())
    if isinstance(outcome, DeadLetter):
        assert outcome.reason
    else:
        assert isinstance(outcome, ReadingsBatch)
        assert outcome.hub == "hub-1"


@given(
    reading=st.dictionaries(st.sampled_from(["sensor", "kind", "ts", "value", "x"]), json_values)
)
def test_a_batch_with_a_strange_reading(reading: dict[str, object]) -> None:
    document = {**GOOD, "readings": [reading]}
    outcome = _triage(readings_topic("hub-1"), json.dumps(document).encode())
    assert isinstance(outcome, DeadLetter | ReadingsBatch)

"""The parser's plain path (readings and sensors' health checked inline) decides as the checked one.

Nearly every reading and heartbeat sensor on the wire is plainly valid, so the
parser checks those inline and leaves anything else to the checked path that
says what is wrong. Whatever a field holds, both must return the same value or
the same refusal: values near every bound, of every JSON type, missing or null.
"""

from __future__ import annotations

import sys
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from edge import protocol
from edge.protocol import ProtocolError, ReadingKind, SensorHealth

_TIMESTAMPS = (
    "2026-11-22T09:59:58.120Z",
    "2026-11-22T09:59:58+01:00",
    "2026-11-22T09:59:58",  # no offset
    "20261122T095958Z",  # basic form: Python reads it
    "0001-01-01T00:00:00+01:00",  # no such UTC time
    "yesterday",
    "",
)
# The largest integer a double holds, and one past it.
_BIG = int(sys.float_info.max)


def _numbers() -> st.SearchStrategy[Any]:
    edges = (-50, -50.0001, 0, -0.0, 1, 1.0000001, 80, 100, 100.5, 255, 255.01, 100_000, 100_001)
    return st.one_of(
        st.sampled_from(edges),
        st.integers(min_value=-200, max_value=300),
        st.floats(allow_nan=True, allow_infinity=True),
        st.just(_BIG),
        st.just(10**400),
        st.booleans(),
    )


def _anything() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.lists(st.integers())
    )


def _names() -> st.SearchStrategy[Any]:
    texts = ("kitchen-pir", "hall:1", "-lead", "a" * 128, "a" * 129, "bad\n", "x\x00", "front door")
    return st.one_of(st.sampled_from(texts), st.text(max_size=70), _anything())


def _field(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's value, or the field left out (the marker ``...``)."""
    return st.one_of(values, st.just(...))


def _object(**fields: Any) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not ...}


def _decide(parse: Any, obj: object) -> object:
    try:
        return parse(obj, 3)
    except ProtocolError as exc:
        return ("refused", exc.reason)


@settings(max_examples=800, deadline=None)
@given(
    kind=_field(
        st.one_of(st.sampled_from([k.value for k in ReadingKind] + ["Motion"]), _anything())
    ),
    value=_field(_numbers()),
    sensor=_field(_names()),
    ts=_field(st.one_of(st.sampled_from(_TIMESTAMPS), _anything())),
    not_an_object=st.booleans(),
)
def test_a_reading_is_decided_alike_on_both_paths(
    kind: Any, value: Any, sensor: Any, ts: Any, not_an_object: bool
) -> None:
    obj: object = _object(kind=kind, value=value, sensor=sensor, ts=ts)
    if not_an_object:
        obj = list(obj.values()) if isinstance(obj, dict) else obj
    plain = _decide(protocol._parse_reading, obj)
    checked = _decide(protocol._parse_reading_checked, obj)
    assert plain == checked


@settings(max_examples=800, deadline=None)
@given(
    sensor=_field(_names()),
    kind=_field(_names()),
    room=_field(_names()),
    battery=_field(_numbers()),
    link=_field(_numbers()),
)
def test_a_sensors_health_is_decided_alike_on_both_paths(
    sensor: Any, kind: Any, room: Any, battery: Any, link: Any
) -> None:
    obj = _object(sensor=sensor, kind=kind, room=room, battery=battery, link=link)
    plain = _decide(protocol._parse_sensor_health, obj)
    checked = _decide(protocol._parse_sensor_health_checked, obj)
    assert plain == checked
    # And of the types the checked path gives (equality alone takes 1 for 1.0).
    if isinstance(plain, SensorHealth):
        assert type(plain.battery) in (float, type(None))
        assert type(plain.link) in (float, type(None))

"""The wire contract between hubs and the server: topics, message types, validation.

Both sides import this module, so it depends on the standard library only.
Parsing turns bytes into frozen dataclasses or raises :class:`ProtocolError`
with a reason precise enough to put in a dead-letter row, whatever the bytes
are. Every field is checked against what the server can store. Whether a
timestamp is plausible (a hub's clock may be wrong) is the receiver's
judgement, not the contract's: the contract only asks that it be RFC 3339.

>>> batch = ReadingsBatch(hub="hub-0001", seq=1, sent_at=parse_timestamp("2026-11-22T10:00:01Z"),
...     readings=(Reading("kitchen-pir", ReadingKind.MOTION, parse_timestamp("2026-11-22T09:59:58Z"), 1.0),))
>>> decoded = parse_message(readings_topic("hub-0001"), encode(batch))
>>> decoded == batch
True
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, TypeGuard, TypeVar

__all__ = [
    "MAX_ACK_IDS",
    "MAX_PAYLOAD_BYTES",
    "MAX_SEQ",
    "PROTOCOL_VERSION",
    "TOPIC_PREFIX",
    "Alarm",
    "AlarmAck",
    "AlarmKind",
    "Channel",
    "HubConfig",
    "HubState",
    "HubStatus",
    "Message",
    "ProtocolError",
    "Reading",
    "ReadingKind",
    "ReadingsBatch",
    "SensorHealth",
    "SensorSpec",
    "alarm_ack_topic",
    "alarm_topic",
    "config_topic",
    "encode",
    "format_timestamp",
    "parse_message",
    "parse_timestamp",
    "parse_topic",
    "readings_topic",
    "status_topic",
    "topic_for",
    "validate_hub_id",
    "validate_sensor_id",
]

PROTOCOL_VERSION: Final = 1
TOPIC_PREFIX: Final = "carewatch/v1/hubs"
MAX_PAYLOAD_BYTES: Final = 256 * 1024
# Batch numbers and counters are stored as PostgreSQL bigint.
MAX_SEQ: Final = 2**63 - 1
# Alarms one confirmation may name: a hub holds few unconfirmed alarms at a time.
MAX_ACK_IDS: Final = 100

_E = TypeVar("_E", bound=StrEnum)

# Always used with fullmatch: with match, "$" would also accept a trailing newline.
_HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_SENSOR_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
# An alarm's id (a UUID from the hub's agent) follows the sensor id's pattern.
_ALARM_ID = _SENSOR_ID
# Free text (a room, a firmware version): no control characters, which a database
# or a log line would choke on, and no lone surrogates, which are not UTF-8.
_TEXT = re.compile(r"[^\x00-\x1f\x7f-\x9f\ud800-\udfff]{1,64}")

# Heartbeat figures a hub can truly report (a hundred years of uptime is plenty).
_MAX_UPTIME_S: Final = 100 * 365.25 * 24 * 3600
_MAX_HEARTBEAT_S: Final = 24 * 3600
_BATTERY_RANGE: Final = (0.0, 100.0)  # %
_LINK_RANGE: Final = (0.0, 255.0)  # Zigbee link quality (LQI)
_MAX_FLOAT_INT: Final = int(sys.float_info.max)


class ProtocolError(ValueError):
    """A message that does not follow the wire contract; ``reason`` says how."""

    def __init__(self, reason: str, *, hub: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hub = hub


class Channel(StrEnum):
    """The last segment of a hub's topic."""

    READINGS = "readings"
    ALARM = "alarm"
    STATUS = "status"
    CONFIG = "config"
    ALARM_ACK = "alarm_ack"


class ReadingKind(StrEnum):
    """What a reading measures; the value's meaning follows from it."""

    MOTION = "motion"  # 1 = movement
    CONTACT = "contact"  # 1 = open, 0 = closed
    BED = "bed"  # 1 = occupied
    CHAIR = "chair"  # 1 = occupied
    POWER = "power"  # watts
    TEMPERATURE = "temperature"  # °C
    HUMIDITY = "humidity"  # %
    BUTTON = "button"  # a non-emergency "I'm OK" check-in


class AlarmKind(StrEnum):
    """A person asked for help or a life-safety sensor fired."""

    PENDANT = "pendant"
    PULL_CORD = "pull_cord"
    FALL = "fall"
    SMOKE = "smoke"
    CO = "co"
    FLOOD = "flood"
    # ``carewatch-agent check --test``: stored and confirmed like any alarm, so the
    # installer knows the whole path works, but it raises no alert and tells nobody.
    TEST = "test"


class HubState(StrEnum):
    """Whether the hub is connected; ``offline`` is also its last will."""

    ONLINE = "online"
    OFFLINE = "offline"


# Plausible physical ranges: anything outside is a broken sensor or a bad driver.
_VALUE_RANGES: Final[dict[ReadingKind, tuple[float, float]]] = {
    ReadingKind.MOTION: (0, 1),
    ReadingKind.CONTACT: (0, 1),
    ReadingKind.BED: (0, 1),
    ReadingKind.CHAIR: (0, 1),
    ReadingKind.BUTTON: (0, 1),
    ReadingKind.POWER: (0, 100_000),
    ReadingKind.TEMPERATURE: (-50, 80),
    ReadingKind.HUMIDITY: (0, 100),
}
# Each kind by its wire name, for the plain path of parsing a reading.
_READING_KINDS: Final[dict[str, ReadingKind]] = {kind.value: kind for kind in ReadingKind}


@dataclass(slots=True, frozen=True)
class Reading:
    """One sensor observation at the sensor's event time."""

    sensor: str
    kind: ReadingKind
    ts: datetime
    value: float


@dataclass(slots=True, frozen=True)
class ReadingsBatch:
    """Readings a hub sends together; ``(hub, seq)`` identifies the batch for de-duplication."""

    hub: str
    seq: int
    sent_at: datetime
    readings: tuple[Reading, ...]


@dataclass(slots=True, frozen=True)
class Alarm:
    """A call for help: never batched, never delayed; ``id`` de-duplicates redelivery."""

    hub: str
    id: str
    sensor: str
    kind: AlarmKind
    ts: datetime


@dataclass(slots=True, frozen=True)
class AlarmAck:
    """The server has stored these alarms of the hub: the hub may let them go.

    A PUBACK only says the broker has an alarm, and a broker can lose what it
    acknowledged (Mosquitto saves after it acknowledges); this says it is in
    the server's database, so the hub keeps an alarm until it hears this.

    >>> ack = AlarmAck("hub-0001", ("5f0c2a9e-pendant",))
    >>> encode(ack)
    b'{"v":1,"hub":"hub-0001","ids":["5f0c2a9e-pendant"]}'
    >>> parse_message(alarm_ack_topic("hub-0001"), encode(ack)) == ack
    True
    """

    hub: str
    ids: tuple[str, ...]
    # The server's clock when it confirmed: the hub's check compares its own with it.
    ts: datetime | None = None


@dataclass(slots=True, frozen=True)
class SensorHealth:
    """A sensor's battery and radio link as the hub last saw them."""

    sensor: str
    kind: str
    room: str | None = None
    battery: float | None = None
    link: float | None = None


@dataclass(slots=True, frozen=True)
class HubStatus:
    """The hub's retained status: its last will (offline) or a heartbeat (online)."""

    hub: str
    state: HubState
    ts: datetime
    uptime_s: float | None = None
    outbox: int | None = None
    firmware: str | None = None
    sensors: tuple[SensorHealth, ...] = ()
    # Every reading with an event time at or before this has reached the broker
    # ahead of this status; a backlog after an outage holds it back.
    watermark: datetime | None = None
    # Readings the hub had to drop, oldest first, because its outbox was full
    # (counted since the outbox was made); alarms are never dropped.
    shed: int | None = None


@dataclass(slots=True, frozen=True)
class SensorSpec:
    """An installer's entry in a hub's sensor map."""

    sensor: str
    kind: str
    room: str


@dataclass(slots=True, frozen=True)
class HubConfig:
    """What the server tells a hub: its sensor map and heartbeat interval."""

    heartbeat_s: int
    sensors: tuple[SensorSpec, ...]


Message = ReadingsBatch | Alarm | HubStatus | HubConfig | AlarmAck


# --- topics -----------------------------------------------------------------


def topic_for(hub: str, channel: Channel) -> str:
    """The topic a hub's messages of one channel travel on."""
    return f"{TOPIC_PREFIX}/{hub}/{channel.value}"


def readings_topic(hub: str) -> str:
    """Topic of a hub's reading batches."""
    return topic_for(hub, Channel.READINGS)


def alarm_topic(hub: str) -> str:
    """Topic of a hub's alarms."""
    return topic_for(hub, Channel.ALARM)


def status_topic(hub: str) -> str:
    """Topic of a hub's retained status and last will."""
    return topic_for(hub, Channel.STATUS)


def config_topic(hub: str) -> str:
    """Topic of the server's retained config for a hub."""
    return topic_for(hub, Channel.CONFIG)


def alarm_ack_topic(hub: str) -> str:
    """Topic of the server's confirmations that a hub's alarms are stored."""
    return topic_for(hub, Channel.ALARM_ACK)


def validate_hub_id(hub: str) -> str:
    """Return ``hub`` if it can be a hub id (and so an MQTT username and topic segment)."""
    if not _HUB_ID.fullmatch(hub):
        raise ProtocolError(
            f"hub id {hub[:80]!r} is not valid: use 1-64 letters, digits, '-', '_' or '.', "
            "starting with a letter or digit"
        )
    return hub


def validate_sensor_id(sensor: str) -> str:
    """Return ``sensor`` if it can name a sensor in readings, alarms and heartbeats."""
    if not _SENSOR_ID.fullmatch(sensor):
        raise ProtocolError(
            f"sensor id {sensor[:80]!r} is not valid: use 1-128 letters, digits, '-', '_', '.' "
            "or ':', starting with a letter or digit"
        )
    return sensor


def parse_topic(topic: str) -> tuple[str, Channel]:
    """Split ``carewatch/v1/hubs/{hub}/{channel}`` into hub id and channel."""
    prefix = TOPIC_PREFIX + "/"
    if not topic.startswith(prefix):
        raise ProtocolError(f"topic {_show(topic)} is not under {TOPIC_PREFIX}/")
    parts = topic[len(prefix) :].split("/")
    if len(parts) != 2:
        raise ProtocolError(f"topic {_show(topic)} is not of the form {TOPIC_PREFIX}/HUB/CHANNEL")
    hub, channel = parts
    validate_hub_id(hub)
    try:
        return hub, Channel(channel)
    except ValueError:
        known = ", ".join(c.value for c in Channel)
        raise ProtocolError(
            f"unknown channel {_show(channel)} (expected one of {known})", hub=hub
        ) from None


# --- timestamps -------------------------------------------------------------


def format_timestamp(ts: datetime) -> str:
    """RFC 3339 UTC with milliseconds and a ``Z``, as on the wire."""
    if ts.tzinfo is None:
        raise ValueError("timestamps on the wire must be timezone-aware")
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(text: str) -> datetime:
    """Parse an RFC 3339 timestamp with an explicit offset into an aware UTC datetime."""
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise ProtocolError(f"timestamp {_show(text)} is not RFC 3339") from None
    if ts.tzinfo is None:
        raise ProtocolError(f"timestamp {_show(text)} has no UTC offset")
    try:
        return ts.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00+01:00 or 9999-12-31T23:59-01:00: no such UTC time.
        raise ProtocolError(f"timestamp {_show(text)} is out of range") from None


# --- encoding ---------------------------------------------------------------


def _reading_json(reading: Reading) -> dict[str, Any]:
    return {
        "sensor": reading.sensor,
        "kind": reading.kind.value,
        "ts": format_timestamp(reading.ts),
        "value": reading.value,
    }


def _to_json(message: Message) -> dict[str, Any]:
    match message:
        case ReadingsBatch():
            return {
                "v": PROTOCOL_VERSION,
                "hub": message.hub,
                "seq": message.seq,
                "sent_at": format_timestamp(message.sent_at),
                "readings": [_reading_json(r) for r in message.readings],
            }
        case Alarm():
            return {
                "v": PROTOCOL_VERSION,
                "hub": message.hub,
                "id": message.id,
                "sensor": message.sensor,
                "kind": message.kind.value,
                "ts": format_timestamp(message.ts),
            }
        case HubStatus():
            body: dict[str, Any] = {
                "v": PROTOCOL_VERSION,
                "hub": message.hub,
                "state": message.state.value,
                "ts": format_timestamp(message.ts),
            }
            for name in ("uptime_s", "outbox", "firmware", "shed"):
                if (value := getattr(message, name)) is not None:
                    body[name] = value
            if message.watermark is not None:
                body["watermark"] = format_timestamp(message.watermark)
            if message.sensors:
                body["sensors"] = [
                    {k: v for k, v in _sensor_health_json(s).items() if v is not None}
                    for s in message.sensors
                ]
            return body
        case AlarmAck():
            ack: dict[str, Any] = {
                "v": PROTOCOL_VERSION,
                "hub": message.hub,
                "ids": list(message.ids),
            }
            if message.ts is not None:
                ack["ts"] = format_timestamp(message.ts)
            return ack
        case HubConfig():
            return {
                "v": PROTOCOL_VERSION,
                "heartbeat_s": message.heartbeat_s,
                "sensors": [
                    {"sensor": s.sensor, "kind": s.kind, "room": s.room} for s in message.sensors
                ],
            }


def _sensor_health_json(s: SensorHealth) -> dict[str, Any]:
    return {
        "sensor": s.sensor,
        "kind": s.kind,
        "room": s.room,
        "battery": s.battery,
        "link": s.link,
    }


def encode(message: Message) -> bytes:
    """Serialise a message to its UTF-8 JSON payload."""
    return json.dumps(_to_json(message), separators=(",", ":"), allow_nan=False).encode()


# --- decoding ---------------------------------------------------------------


class _Fields:
    """Typed access to a JSON object's fields, with reasons that name the field."""

    def __init__(self, obj: object, where: str) -> None:
        if not isinstance(obj, dict):
            raise ProtocolError(f"{where} must be a JSON object, got {_json_type(obj)}")
        self._obj: dict[str, Any] = obj
        self._where = where

    def has(self, name: str) -> bool:
        return self._obj.get(name) is not None

    def _get(self, name: str, required: bool) -> Any:
        value = self._obj.get(name)
        if value is None and required:
            raise ProtocolError(f"{self._where}: missing field {name!r}")
        return value

    def _refuse(self, name: str, problem: str) -> ProtocolError:
        return ProtocolError(f"{self._where}: field {name!r} {problem}")

    def string(
        self, name: str, *, required: bool = True, pattern: re.Pattern[str] | None = None
    ) -> Any:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._refuse(name, f"must be a string, got {_json_type(value)}")
        if pattern is not None and not pattern.fullmatch(value):
            raise self._refuse(name, f"has invalid value {_show(value)}")
        return value

    def integer(
        self, name: str, *, required: bool = True, minimum: int = 0, maximum: int = MAX_SEQ
    ) -> Any:
        value = self._get(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._refuse(name, f"must be an integer, got {_json_type(value)}")
        if value < minimum:
            raise self._refuse(name, f"must be at least {minimum}, got {_show_number(value)}")
        if value > maximum:
            raise self._refuse(name, f"must be at most {maximum}, got {_show_number(value)}")
        return value

    def number(
        self,
        name: str,
        *,
        required: bool = True,
        low: float | None = None,
        high: float | None = None,
    ) -> Any:
        value = self._get(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._refuse(name, f"must be a number, got {_json_type(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise self._refuse(name, f"must be a finite number, got {_json_type(value)}")
        if isinstance(value, int) and abs(value) > _MAX_FLOAT_INT:
            # An integer of hundreds of digits is valid JSON but no double holds it.
            raise self._refuse(name, f"is too large, got {_show_number(value)}")
        number = float(value)
        if low is not None and number < low:
            raise self._refuse(name, f"must be at least {low:g}, got {number:g}")
        if high is not None and number > high:
            raise self._refuse(name, f"must be at most {high:g}, got {number:g}")
        return number

    def timestamp(self, name: str) -> datetime:
        text = self.string(name)
        try:
            return parse_timestamp(text)
        except ProtocolError as exc:
            raise ProtocolError(f"{self._where}: field {name!r}: {exc.reason}") from None

    def array(self, name: str, *, required: bool = True) -> list[Any]:
        value = self._get(name, required)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._refuse(name, f"must be an array, got {_json_type(value)}")
        return value

    def enum(self, name: str, enum: type[_E]) -> _E:
        text = self.string(name)
        try:
            return enum(text)
        except ValueError:
            known = ", ".join(e.value for e in enum)
            raise ProtocolError(
                f"{self._where}: unknown {name} {_show(text, 40)} (expected one of {known})"
            ) from None


def _json_type(value: object) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "boolean"
        case float() if math.isnan(value):
            return "NaN"
        case float() if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        case int() | float():
            return "number"
        case str():
            return "string"
        case list():
            return "array"
        case dict():
            return "object"
        case _:
            return type(value).__name__


def _show(text: str, limit: int = 80) -> str:
    """A value for a reason: quoted, escaped and cut short (reasons are read by people)."""
    return repr(text[:limit]) + ("…" if len(text) > limit else "")


def _show_number(value: int) -> str:
    digits = str(value)
    return digits if len(digits) <= 24 else f"{digits[:12]}… ({len(digits)} digits)"


def _plain_number(value: object) -> float | None:
    """``value`` as a float if it is a JSON number a double holds exactly as parsed, else None."""
    if type(value) is float:
        return value if math.isfinite(value) else None
    if type(value) is int and -_MAX_FLOAT_INT <= value <= _MAX_FLOAT_INT:
        return float(value)
    return None


def _plain_text(value: object, pattern: re.Pattern[str]) -> TypeGuard[str]:
    return type(value) is str and pattern.fullmatch(value) is not None


def _plain_timestamp(value: object) -> datetime | None:
    if type(value) is not str:
        return None
    try:
        return parse_timestamp(value)
    except ProtocolError:
        return None


def _parse_reading(obj: object, index: int) -> Reading:
    """A reading, checked inline when it is plainly valid (nearly every one); otherwise as
    :func:`_parse_reading_checked`, which says what is wrong. Both accept the same readings."""
    if type(obj) is dict:
        kind = obj.get("kind")
        kind = _READING_KINDS.get(kind) if type(kind) is str else None
        value = _plain_number(obj.get("value"))
        sensor = obj.get("sensor")
        if kind is not None and value is not None and _plain_text(sensor, _SENSOR_ID):
            low, high = _VALUE_RANGES[kind]
            ts = _plain_timestamp(obj.get("ts"))
            if low <= value <= high and ts is not None:
                return Reading(sensor, kind, ts, value)
    return _parse_reading_checked(obj, index)


def _parse_reading_checked(obj: object, index: int) -> Reading:
    f = _Fields(obj, f"readings[{index}]")
    kind = f.enum("kind", ReadingKind)
    value = f.number("value")
    low, high = _VALUE_RANGES[kind]
    if not low <= value <= high:
        raise ProtocolError(
            f"readings[{index}]: {kind.value} value {value:g} is outside {low:g}..{high:g}"
        )
    return Reading(
        sensor=f.string("sensor", pattern=_SENSOR_ID),
        kind=kind,
        ts=f.timestamp("ts"),
        value=value,
    )


def _plain_figure(value: object, low: float, high: float) -> tuple[bool, float | None]:
    """(True, the figure) for an absent figure or a plain number within low..high."""
    if value is None:
        return True, None
    number = _plain_number(value)
    return number is not None and low <= number <= high, number


def _parse_sensor_health(item: object, index: int) -> SensorHealth:
    """A sensor's health, checked inline when plainly valid, otherwise as
    :func:`_parse_sensor_health_checked`, which says what is wrong. Both accept the same."""
    if type(item) is dict:
        sensor, kind, room = item.get("sensor"), item.get("kind"), item.get("room")
        battery_ok, battery = _plain_figure(item.get("battery"), *_BATTERY_RANGE)
        link_ok, link = _plain_figure(item.get("link"), *_LINK_RANGE)
        if (
            battery_ok
            and link_ok
            and _plain_text(sensor, _SENSOR_ID)
            and _plain_text(kind, _TEXT)
            and (room is None or _plain_text(room, _TEXT))
        ):
            return SensorHealth(sensor, kind, room, battery, link)
    return _parse_sensor_health_checked(item, index)


def _parse_sensor_health_checked(item: object, index: int) -> SensorHealth:
    s = _Fields(item, f"sensors[{index}]")
    return SensorHealth(
        sensor=s.string("sensor", pattern=_SENSOR_ID),
        kind=s.string("kind", pattern=_TEXT),
        room=s.string("room", required=False, pattern=_TEXT),
        battery=s.number("battery", required=False, low=_BATTERY_RANGE[0], high=_BATTERY_RANGE[1]),
        link=s.number("link", required=False, low=_LINK_RANGE[0], high=_LINK_RANGE[1]),
    )


def _parse_status(f: _Fields, hub: str) -> HubStatus:
    sensors = [
        _parse_sensor_health(item, i) for i, item in enumerate(f.array("sensors", required=False))
    ]
    return HubStatus(
        hub=hub,
        state=f.enum("state", HubState),
        ts=f.timestamp("ts"),
        uptime_s=f.number("uptime_s", required=False, low=0, high=_MAX_UPTIME_S),
        outbox=f.integer("outbox", required=False),
        firmware=f.string("firmware", required=False, pattern=_TEXT),
        sensors=tuple(sensors),
        watermark=f.timestamp("watermark") if f.has("watermark") else None,
        shed=f.integer("shed", required=False),
    )


def _parse_config(f: _Fields) -> HubConfig:
    sensors = []
    for i, item in enumerate(f.array("sensors")):
        s = _Fields(item, f"sensors[{i}]")
        sensors.append(
            SensorSpec(
                sensor=s.string("sensor", pattern=_SENSOR_ID),
                kind=s.string("kind", pattern=_TEXT),
                room=s.string("room", pattern=_TEXT),
            )
        )
    return HubConfig(
        heartbeat_s=f.integer("heartbeat_s", minimum=1, maximum=_MAX_HEARTBEAT_S),
        sensors=tuple(sensors),
    )


def _parse_alarm_ack(f: _Fields, hub: str) -> AlarmAck:
    ids = f.array("ids")
    if not 1 <= len(ids) <= MAX_ACK_IDS:
        raise ProtocolError(
            f"alarm_ack: field 'ids' must name 1 to {MAX_ACK_IDS} alarms, got {len(ids)}"
        )
    checked = []
    for i, value in enumerate(ids):
        if not isinstance(value, str):
            raise ProtocolError(f"alarm_ack: ids[{i}] must be a string, got {_json_type(value)}")
        if not _ALARM_ID.fullmatch(value):
            raise ProtocolError(f"alarm_ack: ids[{i}] has invalid value {_show(value)}")
        checked.append(value)
    return AlarmAck(hub=hub, ids=tuple(checked), ts=f.timestamp("ts") if f.has("ts") else None)


def _load_json(payload: bytes) -> object:
    """The payload's JSON document, or a ProtocolError for anything json.loads raises."""
    try:
        # Decoded explicitly: json.loads on bytes would also accept UTF-16 and UTF-32.
        return json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProtocolError("payload is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ProtocolError(
            f"payload is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise ProtocolError("payload is not JSON we read: nested too deeply") from None
    except ValueError as exc:
        # Python refuses integers of more than 4300 digits ("Exceeds the limit ...").
        raise ProtocolError(
            f"payload is not JSON we read: {str(exc).split(':')[0][:120]}"
        ) from None


def parse_message(topic: str, payload: bytes) -> Message:
    """Decode and validate one MQTT message; anything wrong raises :class:`ProtocolError`."""
    hub, channel = parse_topic(topic)
    try:
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise ProtocolError(
                f"payload is {len(payload)} bytes, over the {MAX_PAYLOAD_BYTES} byte limit"
            )
        f = _Fields(_load_json(payload), channel.value)
        version = f.integer("v")
        if version != PROTOCOL_VERSION:
            raise ProtocolError(
                f"{channel.value}: unsupported protocol version {version} (this server speaks {PROTOCOL_VERSION})"
            )
        if channel is Channel.CONFIG:
            return _parse_config(f)
        body_hub = f.string("hub")
        if body_hub != hub:
            raise ProtocolError(
                f"{channel.value}: hub {_show(body_hub, 64)} in payload does not match topic hub {hub!r}"
            )
        match channel:
            case Channel.READINGS:
                return ReadingsBatch(
                    hub=hub,
                    seq=f.integer("seq"),
                    sent_at=f.timestamp("sent_at"),
                    readings=tuple(_parse_reading(r, i) for i, r in enumerate(f.array("readings"))),
                )
            case Channel.ALARM:
                return Alarm(
                    hub=hub,
                    id=f.string("id", pattern=_ALARM_ID),
                    sensor=f.string("sensor", pattern=_SENSOR_ID),
                    kind=f.enum("kind", AlarmKind),
                    ts=f.timestamp("ts"),
                )
            case Channel.STATUS:
                return _parse_status(f, hub)
            case Channel.ALARM_ACK:
                return _parse_alarm_ack(f, hub)
    except ProtocolError as exc:
        raise ProtocolError(exc.reason, hub=hub) from None
    raise AssertionError(f"unhandled channel {channel}")  # pragma: no cover

"""SCAIP (SS 91100) in carewatch's words: what a social-alarm unit's codes mean here.

A unit (the "controller", ``cid``) sends a message type (``mty``), the type of
the device that triggered (``dty``) and its status (``stc``). This table says
which of them is an alarm, and which carewatch alarm kind it raises:

>>> alarm_for(DeviceType.PERSONAL_TRIGGER, StatusCode.MANUAL_ALARM)
<AlarmKind.PENDANT: 'pendant'>
>>> alarm_for(DeviceType.FALL_DETECTOR, StatusCode.AUTOMATIC_ALARM)
<AlarmKind.FALL: 'fall'>
>>> alarm_for(DeviceType.SMOKE_DETECTOR, None)
<AlarmKind.SMOKE: 'smoke'>
>>> alarm_for(DeviceType.PERSONAL_TRIGGER, StatusCode.BATTERY_LOW) is None
True

An alarm from a device carewatch has no kind for is still an alarm: it is
raised as the unit's own call for help, never dropped (``UNIT_ALARM``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from edge.protocol import AlarmKind

__all__ = [
    "ALARM_STATUSES",
    "DEVICE_KINDS",
    "TEST_STATUSES",
    "UNIT_ALARM",
    "DeviceType",
    "MessageType",
    "ScaipUnit",
    "StatusCode",
    "StatusNumber",
    "alarm_for",
    "device_words",
]


class MessageType(StrEnum):
    """``mty``: what the message is."""

    MESSAGE = "ME"  # an alarm or an event
    RESET = "RE"  # an earlier alarm was reset (cancelled) at the unit
    INFORMATION = "IN"
    HEARTBEAT = "PI"


class DeviceType(StrEnum):
    """``dty``: the device that sent the event (the codes carewatch gives a meaning to)."""

    UNKNOWN = "0000"
    UNDEFINED = "0001"
    LOCAL_UNIT_AND_CONTROLLER = "0002"
    PERSONAL_TRIGGER = "0003"
    FIXED_TRIGGER = "0004"
    FALL_DETECTOR = "0005"
    PERSONAL_ATTACK_TRIGGER = "0006"
    PANIC_BUTTON = "0007"
    GAS_DETECTOR = "0021"
    SMOKE_DETECTOR = "0023"
    HEAT_DETECTOR = "0025"
    CARBON_MONOXIDE_DETECTOR = "0026"
    AUTOMATIC_MAN_DOWN_DETECTOR = "0030"
    FLOOD_DETECTOR = "0033"
    FIRE_ALARM_SYSTEM = "0047"
    LOCAL_UNIT = "0048"


class StatusCode(StrEnum):
    """``stc``: the device's status (those carewatch acts on)."""

    ACTIVATED = "0006"
    AUTOMATIC_ALARM = "0009"
    MANUAL_ALARM = "0010"
    ALERT = "0011"
    BATTERY_LOW = "0016"
    CANCEL = "0019"
    MANUAL_RESET = "0093"
    AUTOMATIC_RESET = "0092"
    TEST_PRIMARY = "0102"
    TEST_REDUNDANT = "0103"
    ASSISTANCE = "0110"


class StatusNumber(StrEnum):
    """``snu`` in the receiver's answer (``mrs``): how the message was taken."""

    OK = "0"
    MESSAGE_TOO_LONG = "1"
    INVALID_FORMAT = "2"
    WRONG_DATA_CONTENT = "3"
    NOT_TREATED = "5"
    BUSY = "6"
    MANDATORY_TAG_MISSING = "7"


# A unit's own call for help, and the kind of an alarm from a device not in DEVICE_KINDS.
UNIT_ALARM: Final = AlarmKind.PENDANT

# Which alarm each device raises. Personal triggers (the pendant, a wrist
# button) and the unit's own button are a person asking for help; a fixed
# trigger is a wall button or pull cord; man-down is a fall detector's cousin.
DEVICE_KINDS: Mapping[DeviceType, AlarmKind] = MappingProxyType(
    {
        DeviceType.LOCAL_UNIT_AND_CONTROLLER: AlarmKind.PENDANT,
        DeviceType.LOCAL_UNIT: AlarmKind.PENDANT,
        DeviceType.PERSONAL_TRIGGER: AlarmKind.PENDANT,
        DeviceType.PERSONAL_ATTACK_TRIGGER: AlarmKind.PENDANT,
        DeviceType.PANIC_BUTTON: AlarmKind.PENDANT,
        DeviceType.FIXED_TRIGGER: AlarmKind.PULL_CORD,
        DeviceType.FALL_DETECTOR: AlarmKind.FALL,
        DeviceType.AUTOMATIC_MAN_DOWN_DETECTOR: AlarmKind.FALL,
        DeviceType.SMOKE_DETECTOR: AlarmKind.SMOKE,
        DeviceType.HEAT_DETECTOR: AlarmKind.SMOKE,
        DeviceType.FIRE_ALARM_SYSTEM: AlarmKind.SMOKE,
        DeviceType.CARBON_MONOXIDE_DETECTOR: AlarmKind.CO,
        # carewatch has no kind of its own for a gas leak; CO's route (responders at once) fits.
        DeviceType.GAS_DETECTOR: AlarmKind.CO,
        DeviceType.FLOOD_DETECTOR: AlarmKind.FLOOD,
    }
)

# Statuses that are an alarm; a ME message without a status is one too (units
# that send only the device type mean "this device triggered").
ALARM_STATUSES: Final = frozenset(
    {
        StatusCode.ACTIVATED,
        StatusCode.AUTOMATIC_ALARM,
        StatusCode.MANUAL_ALARM,
        StatusCode.ALERT,
        StatusCode.ASSISTANCE,
    }
)
# A unit's periodic test call over its primary or redundant path: stored, raises no alert.
TEST_STATUSES: Final = frozenset({StatusCode.TEST_PRIMARY, StatusCode.TEST_REDUNDANT})

_DEVICE_WORDS: Mapping[str, str] = MappingProxyType(
    {
        DeviceType.LOCAL_UNIT_AND_CONTROLLER: "the unit's button",
        DeviceType.LOCAL_UNIT: "the unit's button",
        DeviceType.PERSONAL_TRIGGER: "pendant",
        DeviceType.FIXED_TRIGGER: "fixed trigger",
        DeviceType.FALL_DETECTOR: "fall detector",
        DeviceType.PERSONAL_ATTACK_TRIGGER: "attack trigger",
        DeviceType.PANIC_BUTTON: "panic button",
        DeviceType.GAS_DETECTOR: "gas detector",
        DeviceType.SMOKE_DETECTOR: "smoke detector",
        DeviceType.HEAT_DETECTOR: "heat detector",
        DeviceType.CARBON_MONOXIDE_DETECTOR: "CO detector",
        DeviceType.AUTOMATIC_MAN_DOWN_DETECTOR: "man-down detector",
        DeviceType.FLOOD_DETECTOR: "flood detector",
        DeviceType.FIRE_ALARM_SYSTEM: "fire alarm panel",
    }
)


def alarm_for(device: str, status: str | None) -> AlarmKind | None:
    """The alarm a ME message raises, or None when it is not an alarm (a status report).

    >>> alarm_for("0099", StatusCode.MANUAL_ALARM)  # a device without a kind here
    <AlarmKind.PENDANT: 'pendant'>
    >>> alarm_for(DeviceType.PERSONAL_TRIGGER, StatusCode.TEST_PRIMARY)
    <AlarmKind.TEST: 'test'>
    """
    if status in TEST_STATUSES:
        return AlarmKind.TEST
    if status is not None and status not in ALARM_STATUSES:
        return None
    try:
        return DEVICE_KINDS.get(DeviceType(device), UNIT_ALARM)
    except ValueError:
        return UNIT_ALARM


def device_words(device: str) -> str:
    """The device in a carer's words, or its SCAIP code.

    >>> device_words("0005"), device_words("0099")
    ('fall detector', 'device type 0099')
    """
    return _DEVICE_WORDS.get(device, f"device type {device}")


@dataclass(slots=True, frozen=True)
class ScaipUnit:
    """A provisioned social-alarm unit: its controller id, whose home, and its heartbeat."""

    unit: str
    resident_id: int
    resident: str
    timezone: str
    # The carewatch hub in the same home, if any (the alert is on the hub's record too).
    hub: str | None = None
    # How often the unit sends its heartbeat (None: it sends none, so none is missed).
    heartbeat_s: int | None = None

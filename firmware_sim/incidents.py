"""Incidents injected into a simulated home, and the ground truth each one leaves.

An incident says what goes wrong and roughly when; the home decides the exact
moment from the resident's day (a fall happens where the resident is up and
about, not asleep in bed) and writes an :class:`IncidentLabel` with what
really happened, so detection can be measured against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

__all__ = [
    "CONTEXT_KINDS",
    "INCIDENT_KINDS",
    "BatteryFlat",
    "ColdHome",
    "Decline",
    "Fall",
    "HubOffline",
    "Incident",
    "IncidentLabel",
    "MissedMeals",
    "NotUp",
    "PendantPress",
    "Uti",
    "WanderOut",
]

# What a detector should catch, by label kind.
INCIDENT_KINDS = (
    "fall",
    "not_up",
    "wander_out",
    "uti",
    "missed_meals",
    "cold_home",
    "decline",
    "hub_offline",
    "battery_flat",
    "pendant",
)
# Ground truth that is not an incident but explains the stream: a holiday, a
# sensor that lost its radio link for a while or stuck "on".
CONTEXT_KINDS = ("away", "sensor_dropout", "sensor_stuck")


@dataclass(slots=True, frozen=True)
class IncidentLabel:
    """What really happened, for measuring detection: kind, home, when and where."""

    kind: str
    home: str
    start: datetime
    end: datetime | None
    detail: str = ""


@dataclass(slots=True, frozen=True)
class Fall:
    """A fall at or soon after ``at``, where the resident is on the move (bathroom, hall, lounge).

    Nothing the resident does is seen until someone finds them: the carer's
    next visit, or ``found_after`` (a guest who calls meanwhile gets no answer).
    """

    at: datetime
    found_after: timedelta = timedelta(hours=8)
    rooms: tuple[str, ...] = ("bathroom", "hall", "lounge")
    # At night, on the way to the toilet: the resident gets up at ``at`` for it.
    on_way_to_toilet: bool = False


@dataclass(slots=True, frozen=True)
class PendantPress:
    """The resident presses their pendant at ``at``; life otherwise goes on."""

    at: datetime


@dataclass(slots=True, frozen=True)
class NotUp:
    """On ``day`` the resident stays in bed ``delay`` past the time they would have got up.

    ``lie_in`` is a lie-in they would have had anyway (a weekend, a late night):
    the label starts when they would have got up after it.
    """

    day: date
    delay: timedelta = timedelta(hours=3)
    lie_in: timedelta = timedelta(0)


@dataclass(slots=True, frozen=True)
class WanderOut:
    """At night, at ``at``, the resident goes out of the front door for ``duration``."""

    at: datetime
    duration: timedelta = timedelta(minutes=30)


@dataclass(slots=True, frozen=True)
class Uti:
    """From ``day`` for ``days`` days, night toilet visits rise (a urinary infection)."""

    day: date
    days: int = 5
    factor: float = 3.5


@dataclass(slots=True, frozen=True)
class MissedMeals:
    """On ``day`` the resident skips ``meals`` (lunch, dinner or both)."""

    day: date
    meals: tuple[str, ...] = ("lunch", "dinner")


@dataclass(slots=True, frozen=True)
class ColdHome:
    """The heating fails at ``at`` for ``duration``; the label is the time the lounge is below 18 °C."""

    at: datetime
    duration: timedelta = timedelta(hours=24)


@dataclass(slots=True, frozen=True)
class Decline:
    """From ``day`` over ``days`` days activity falls to ``to`` of usual, and stays there."""

    day: date
    days: int = 30
    to: float = 0.55


@dataclass(slots=True, frozen=True)
class HubOffline:
    """The home's broadband is down from ``at`` for ``duration``; readings wait in the hub."""

    at: datetime
    duration: timedelta = timedelta(hours=4)


@dataclass(slots=True, frozen=True)
class BatteryFlat:
    """``sensor``'s battery runs flat at ``at`` (low for the days before); replaced after ``replaced_after``."""

    at: datetime
    sensor: str = "kitchen-pir"
    replaced_after: timedelta = timedelta(days=5)


Incident = (
    Fall
    | PendantPress
    | NotUp
    | WanderOut
    | Uti
    | MissedMeals
    | ColdHome
    | Decline
    | HubOffline
    | BatteryFlat
)

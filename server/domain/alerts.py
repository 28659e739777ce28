"""What an alert is and how it moves: open → acknowledged → resolved, with an outcome.

Pure: no database, no clock. The service asks this module whether a step is
allowed and records what it says.

>>> next_status(AlertStatus.OPEN, Action.ACKNOWLEDGE)
<AlertStatus.ACKNOWLEDGED: 'acknowledged'>
>>> can_self_clear(Severity.EMERGENCY)
False
>>> on_repeat(AlertStatus.ACKNOWLEDGED, new_alarm=True)
<Repeat.REALERT: 'realert'>
>>> on_acknowledge(Severity.EMERGENCY, by_carer=True)
<Taking.CARER_RESPONDING: 'carer_responding'>
>>> on_cleared(AlertStatus.ESCALATED, Severity.URGENT)
<AfterClearing.NEEDS_REVIEW: 'needs_review'>
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from edge.protocol import AlarmKind

__all__ = [
    "KINDS",
    "SEVERITY_RANK",
    "UNANSWERED",
    "Action",
    "AfterClearing",
    "AlertKind",
    "AlertStatus",
    "ConsoleState",
    "FalseAlarmLesson",
    "IllegalTransition",
    "KindWords",
    "Outcome",
    "Repeat",
    "Severity",
    "Taking",
    "can_self_clear",
    "kind_for_alarm",
    "next_status",
    "on_acknowledge",
    "on_cleared",
    "on_repeat",
    "resolution_refused",
    "state_of",
    "title_of",
]


class Severity(StrEnum):
    """Decides the route: emergency → responders at once; technical → the installer."""

    EMERGENCY = "emergency"
    URGENT = "urgent"
    ADVISORY = "advisory"
    TECHNICAL = "technical"


# Lower sorts first on the console.
SEVERITY_RANK: dict[Severity, int] = {
    Severity.EMERGENCY: 0,
    Severity.URGENT: 1,
    Severity.ADVISORY: 2,
    Severity.TECHNICAL: 3,
}


class AlertKind(StrEnum):
    """The condition an alert is about."""

    PENDANT = "pendant"
    PULL_CORD = "pull_cord"
    FALL = "fall"
    SMOKE = "smoke"
    CO = "co"
    FLOOD = "flood"
    NO_MOVEMENT = "no_movement"
    # Still in bed past the resident's own latest usual getting-up time.
    NOT_UP = "not_up"
    # The front door opened at night and nobody came back in.
    DOOR_AT_NIGHT = "door_at_night"
    OUT_OF_BED = "out_of_bed"
    COLD_HOME = "cold_home"
    NIGHT_TOILET_VISITS = "night_toilet_visits"
    BATTERY_LOW = "battery_low"
    MISSED_MEAL = "missed_meal"
    ACTIVITY_DECLINE = "activity_decline"
    # Several daily measures off together for several days (server.detect.day_profile).
    ROUTINE_CHANGE = "routine_change"
    SENSOR_SILENT = "sensor_silent"
    # What the home's sensors cannot see (no front-door sensor, a room without motion).
    SENSOR_COVERAGE = "sensor_coverage"
    # The resident's daily "I'm OK" did not come by their own time.
    CHECKIN_MISSED = "checkin_missed"
    HUB_OFFLINE = "hub_offline"
    # An alarm could not be handed to the service's alarm receiving centre (server/arc).
    ARC_UNREACHABLE = "arc_unreachable"
    # A SCAIP social-alarm unit stopped sending its heartbeat (server/scaip).
    ALARM_UNIT_SILENT = "alarm_unit_silent"


class FalseAlarmLesson(StrEnum):
    """What the detectors learn when a person closes an alert of a kind as a false alarm
    (or "resident away"): each step is a setting of ``server.detect.watch.WatchSettings``."""

    # The silence limit of that place and time of day grows (feedback_step, up to feedback_max).
    LONGER_SILENCE = "longer_silence"
    # The latest usual getting-up time moves later (wake_feedback, up to wake_feedback_max).
    LATER_WAKE = "later_wake"
    # The front door's quiet time at night grows (x1.5, up to door_feedback_max).
    LONGER_DOOR_QUIET = "longer_door_quiet"
    # The advisory needs to go further past usual (feedback_step, up to feedback_max).
    LESS_EAGER = "less_eager"
    # As LESS_EAGER, and the unusual days held out of the baseline are learned as usual.
    LESS_EAGER_RELEARN = "less_eager_relearn"


@dataclass(slots=True, frozen=True)
class KindWords:
    """What every alert of a kind is: its severity, its title on a card or a message, and
    what a false alarm teaches its detector (None: nothing, it is not learned from)."""

    severity: Severity
    title: str
    false_alarm: FalseAlarmLesson | None = None


_E, _U, _A, _T = Severity.EMERGENCY, Severity.URGENT, Severity.ADVISORY, Severity.TECHNICAL
_SILENCE, _WAKE = FalseAlarmLesson.LONGER_SILENCE, FalseAlarmLesson.LATER_WAKE
_DOOR, _EAGER = FalseAlarmLesson.LONGER_DOOR_QUIET, FalseAlarmLesson.LESS_EAGER
# The one table of alert kinds: a new kind is added here (and its detector), nowhere else.
KINDS: Mapping[AlertKind, KindWords] = MappingProxyType(
    {
        AlertKind.PENDANT: KindWords(_E, "Pendant pressed"),
        AlertKind.PULL_CORD: KindWords(_E, "Pull cord"),
        AlertKind.FALL: KindWords(_E, "Fall detected"),
        AlertKind.SMOKE: KindWords(_E, "Smoke"),
        AlertKind.CO: KindWords(_E, "Carbon monoxide"),
        AlertKind.FLOOD: KindWords(_E, "Flood"),
        AlertKind.NO_MOVEMENT: KindWords(_U, "No movement", _SILENCE),
        AlertKind.NOT_UP: KindWords(_U, "Not up yet", _WAKE),
        AlertKind.DOOR_AT_NIGHT: KindWords(_U, "Front door at night", _DOOR),
        AlertKind.OUT_OF_BED: KindWords(_U, "Out of bed"),
        AlertKind.COLD_HOME: KindWords(_A, "Cold home"),
        AlertKind.NIGHT_TOILET_VISITS: KindWords(_A, "Night toilet visits", _EAGER),
        AlertKind.BATTERY_LOW: KindWords(_T, "Battery low"),
        AlertKind.MISSED_MEAL: KindWords(_A, "Missed meal", _EAGER),
        AlertKind.ACTIVITY_DECLINE: KindWords(_A, "Less active", _EAGER),
        AlertKind.ROUTINE_CHANGE: KindWords(
            _A, "Routine changed", FalseAlarmLesson.LESS_EAGER_RELEARN
        ),
        AlertKind.SENSOR_SILENT: KindWords(_T, "Sensor silent"),
        AlertKind.SENSOR_COVERAGE: KindWords(_T, "Sensors miss a room"),
        AlertKind.CHECKIN_MISSED: KindWords(_U, "\u201cI\u2019m OK\u201d missed"),
        AlertKind.HUB_OFFLINE: KindWords(_T, "Hub offline"),
        AlertKind.ARC_UNREACHABLE: KindWords(_T, "ARC unreachable"),
        AlertKind.ALARM_UNIT_SILENT: KindWords(_T, "Alarm unit silent"),
    }
)


def title_of(kind: str) -> str:
    """A kind's title, for a kind read back from the database (or one this version lacks).

    >>> title_of("not_up"), title_of("gone_fishing")
    ('Not up yet', 'gone fishing')
    """
    try:
        return KINDS[AlertKind(kind)].title
    except ValueError:
        return kind.replace("_", " ")


def kind_for_alarm(kind: AlarmKind) -> AlertKind:
    """Each alarm kind raises the alert of the same name."""
    return AlertKind(kind.value)


class AlertStatus(StrEnum):
    """Where an alert is in its life."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    # Nobody on the first rungs acknowledged in time; now with the responders.
    ESCALATED = "escalated"
    RESOLVED = "resolved"


class Outcome(StrEnum):
    """How an alert ended, as the person who closed it (or the system) recorded it."""

    RESOLVED_OK = "resolved_ok"
    FALSE_ALARM = "false_alarm"
    CARER_VISITED = "carer_visited"
    EMERGENCY_SERVICES = "emergency_services"
    RESIDENT_AWAY = "resident_away"
    SELF_CLEARED = "self_cleared"


class Action(StrEnum):
    """What someone does to an alert."""

    ACKNOWLEDGE = "acknowledge"
    ESCALATE = "escalate"
    RESOLVE = "resolve"
    # The person who took it on hands it to the next on the ladder ("I can't go: pass it on").
    PASS_ON = "pass_on"  # noqa: S105 - an action, not a password


class IllegalTransition(ValueError):
    """The action does not apply to an alert in that status."""


_TRANSITIONS: dict[tuple[AlertStatus, Action], AlertStatus] = {
    (AlertStatus.OPEN, Action.ACKNOWLEDGE): AlertStatus.ACKNOWLEDGED,
    (AlertStatus.OPEN, Action.ESCALATE): AlertStatus.ESCALATED,
    (AlertStatus.OPEN, Action.RESOLVE): AlertStatus.RESOLVED,
    (AlertStatus.ESCALATED, Action.ACKNOWLEDGE): AlertStatus.ACKNOWLEDGED,
    (AlertStatus.ESCALATED, Action.RESOLVE): AlertStatus.RESOLVED,
    (AlertStatus.ACKNOWLEDGED, Action.ESCALATE): AlertStatus.ESCALATED,
    (AlertStatus.ACKNOWLEDGED, Action.RESOLVE): AlertStatus.RESOLVED,
    # Unanswered again, for the next rung (escalated instead when that rung is the responders').
    (AlertStatus.ACKNOWLEDGED, Action.PASS_ON): AlertStatus.OPEN,
}

# Nobody has taken these on yet: the ladder keeps climbing, a condition that
# ends by itself may close them.
UNANSWERED = (AlertStatus.OPEN, AlertStatus.ESCALATED)


def next_status(status: AlertStatus, action: Action) -> AlertStatus:
    """The status after ``action``, or :class:`IllegalTransition` with the reason."""
    try:
        return _TRANSITIONS[(status, action)]
    except KeyError:
        raise IllegalTransition(f"cannot {action.value} an alert that is {status.value}") from None


def can_self_clear(severity: Severity) -> bool:
    """Whether the condition ending may close the alert: never an emergency without a person."""
    return severity in (Severity.URGENT, Severity.ADVISORY, Severity.TECHNICAL)


class Repeat(StrEnum):
    """What it means when an active alert's condition is raised again."""

    # A detector still sees the condition: a line on the trail is enough.
    NOTE = "note"
    # A person asked for help again (another press, not a redelivery): whoever
    # is working the alert must hear it now, whether or not they acknowledged it.
    REALERT = "realert"


_REPEATS: dict[tuple[AlertStatus, bool], Repeat] = {
    (AlertStatus.OPEN, False): Repeat.NOTE,
    (AlertStatus.ESCALATED, False): Repeat.NOTE,
    (AlertStatus.ACKNOWLEDGED, False): Repeat.NOTE,
    (AlertStatus.OPEN, True): Repeat.REALERT,
    (AlertStatus.ESCALATED, True): Repeat.REALERT,
    (AlertStatus.ACKNOWLEDGED, True): Repeat.REALERT,
}


def on_repeat(status: AlertStatus, *, new_alarm: bool) -> Repeat:
    """What a repeat does to an alert in ``status``; a resolved alert is never repeated.

    The status does not change: an acknowledged alert stays with the person who
    took it on, and the ladder does not start again; they (and the responders)
    are told instead.

    >>> on_repeat(AlertStatus.OPEN, new_alarm=False)
    <Repeat.NOTE: 'note'>
    >>> on_repeat(AlertStatus.RESOLVED, new_alarm=True)
    Traceback (most recent call last):
    ...
    server.domain.alerts.IllegalTransition: a resolved alert is not repeated: the condition raises a new one
    """
    try:
        return _REPEATS[(status, new_alarm)]
    except KeyError:
        raise IllegalTransition(
            f"a {status.value} alert is not repeated: the condition raises a new one"
        ) from None


class Taking(StrEnum):
    """What a person's acknowledgement does to an alert."""

    # They take it on: the status moves to acknowledged, the ladder stops.
    TAKEN = "taken"
    # A carer on the way to an emergency: recorded and shown, but the alarm
    # receiving centre keeps it (its clock, its Acknowledge) until a responder answers.
    CARER_RESPONDING = "carer_responding"


def on_acknowledge(severity: Severity, *, by_carer: bool) -> Taking:
    """Whether an acknowledgement takes the alert, or only says someone is responding.

    An emergency (a pendant, a pull cord, a fall, smoke) is the alarm receiving
    centre's until a responder answers it: a relative's "I'm dealing with it"
    from across town must not stop the call handlers' clock.

    >>> on_acknowledge(Severity.URGENT, by_carer=True)
    <Taking.TAKEN: 'taken'>
    >>> on_acknowledge(Severity.EMERGENCY, by_carer=False)
    <Taking.TAKEN: 'taken'>
    """
    if severity is Severity.EMERGENCY and by_carer:
        return Taking.CARER_RESPONDING
    return Taking.TAKEN


class AfterClearing(StrEnum):
    """What the condition ending by itself does to the active alert."""

    # Nobody was waiting for an answer yet: it closes as self_cleared.
    CLOSE = "close"
    # It reached the responders and nobody answered: a person must look at why
    # before it goes (the carer arriving 8 hours later is movement too).
    NEEDS_REVIEW = "needs_review"
    # Someone has it: a line on the trail tells them, they close it.
    NOTE = "note"


def on_cleared(status: AlertStatus, severity: Severity) -> AfterClearing:
    """What the condition ending does to an alert in ``status``.

    >>> on_cleared(AlertStatus.OPEN, Severity.URGENT)
    <AfterClearing.CLOSE: 'close'>
    >>> on_cleared(AlertStatus.OPEN, Severity.EMERGENCY)
    <AfterClearing.NOTE: 'note'>
    >>> on_cleared(AlertStatus.ACKNOWLEDGED, Severity.URGENT)
    <AfterClearing.NOTE: 'note'>
    """
    if status is AlertStatus.RESOLVED:
        raise IllegalTransition("a resolved alert does not clear again")
    if not can_self_clear(severity) or status is AlertStatus.ACKNOWLEDGED:
        return AfterClearing.NOTE
    if status is AlertStatus.ESCALATED:
        return AfterClearing.NEEDS_REVIEW
    return AfterClearing.CLOSE


def resolution_refused(severity: Severity, outcome: Outcome, note: str | None) -> str | None:
    """Why a person may not close an alert this way, or None if they may.

    Only the system records ``self_cleared``; an emergency is closed with a
    note saying what happened, because the next shift and the audit read it.

    >>> resolution_refused(Severity.EMERGENCY, Outcome.FALSE_ALARM, None)
    'an emergency alert needs a note to close: what happened, who was called'
    >>> resolution_refused(Severity.EMERGENCY, Outcome.FALSE_ALARM, "Pressed by accident.") is None
    True
    >>> resolution_refused(Severity.URGENT, Outcome.RESOLVED_OK, None) is None
    True
    """
    if outcome is Outcome.SELF_CLEARED:
        return "self_cleared is recorded by the system; choose what happened"
    if severity is Severity.EMERGENCY and not (note and note.strip()):
        return "an emergency alert needs a note to close: what happened, who was called"
    return None


class ConsoleState(StrEnum):
    """Where an alert is as a call handler sees it: what the row's clock counts from."""

    UNANSWERED = "unanswered"
    IN_PROGRESS = "in_progress"
    NEEDS_REVIEW = "needs_review"
    CLOSED = "closed"


def state_of(
    status: AlertStatus,
    *,
    raised_at: datetime,
    acknowledged_at: datetime | None,
    cleared_at: datetime | None,
    resolved_at: datetime | None,
) -> tuple[ConsoleState, datetime]:
    """The alert's state for the queue and the moment it entered it.

    Escalation does not restart the clock: an escalated alert is still
    unanswered since it was raised. In progress counts from the first
    acknowledgement (``acknowledged_at`` keeps it). ``cleared_at`` is when the
    condition ended on an alert that now needs review; acknowledging it after
    that puts it in progress again.

    >>> from datetime import UTC
    >>> t = lambda minute: datetime(2026, 12, 3, 7, minute, tzinfo=UTC)
    >>> state_of(AlertStatus.ESCALATED, raised_at=t(0), acknowledged_at=None,
    ...          cleared_at=None, resolved_at=None)[0].value
    'unanswered'
    >>> state_of(AlertStatus.ACKNOWLEDGED, raised_at=t(0), acknowledged_at=t(2),
    ...          cleared_at=None, resolved_at=None)[1].minute
    2
    >>> state_of(AlertStatus.ESCALATED, raised_at=t(0), acknowledged_at=None,
    ...          cleared_at=t(9), resolved_at=None)
    ... # doctest: +ELLIPSIS
    (<ConsoleState.NEEDS_REVIEW: 'needs_review'>, datetime.datetime(2026, 12, 3, 7, 9, ...))
    """
    if status is AlertStatus.RESOLVED and resolved_at is not None:
        return ConsoleState.CLOSED, resolved_at
    if cleared_at is not None and (acknowledged_at is None or acknowledged_at < cleared_at):
        return ConsoleState.NEEDS_REVIEW, cleared_at
    if status is AlertStatus.ACKNOWLEDGED and acknowledged_at is not None:
        return ConsoleState.IN_PROGRESS, acknowledged_at
    return ConsoleState.UNANSWERED, raised_at

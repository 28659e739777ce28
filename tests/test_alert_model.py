"""The alert lifecycle rules."""

from __future__ import annotations

import pytest

from edge.protocol import AlarmKind
from server.domain.alerts import (
    KINDS,
    Action,
    AlertKind,
    AlertStatus,
    IllegalTransition,
    Severity,
    can_self_clear,
    kind_for_alarm,
    next_status,
)


def test_open_can_be_acknowledged_or_resolved() -> None:
    assert next_status(AlertStatus.OPEN, Action.ACKNOWLEDGE) is AlertStatus.ACKNOWLEDGED
    assert next_status(AlertStatus.OPEN, Action.RESOLVE) is AlertStatus.RESOLVED
    assert next_status(AlertStatus.ACKNOWLEDGED, Action.RESOLVE) is AlertStatus.RESOLVED


@pytest.mark.parametrize(
    ("status", "action", "after"),
    [
        (AlertStatus.OPEN, Action.ESCALATE, AlertStatus.ESCALATED),
        (AlertStatus.ESCALATED, Action.ACKNOWLEDGE, AlertStatus.ACKNOWLEDGED),
        (AlertStatus.ESCALATED, Action.RESOLVE, AlertStatus.RESOLVED),
        (AlertStatus.ACKNOWLEDGED, Action.ESCALATE, AlertStatus.ESCALATED),
    ],
)
def test_escalation_steps(status: AlertStatus, action: Action, after: AlertStatus) -> None:
    assert next_status(status, action) is after


def test_every_status_and_action_is_either_a_step_or_refused() -> None:
    for status in AlertStatus:
        for action in Action:
            try:
                after = next_status(status, action)
            except IllegalTransition:
                continue
            assert status is not AlertStatus.RESOLVED, "a resolved alert stays resolved"
            assert after is not status or action is Action.ESCALATE


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (AlertStatus.ACKNOWLEDGED, Action.ACKNOWLEDGE),
        (AlertStatus.RESOLVED, Action.ACKNOWLEDGE),
        (AlertStatus.RESOLVED, Action.RESOLVE),
        (AlertStatus.RESOLVED, Action.ESCALATE),
        (AlertStatus.ESCALATED, Action.ESCALATE),
    ],
)
def test_illegal_steps_say_why(status: AlertStatus, action: Action) -> None:
    with pytest.raises(
        IllegalTransition, match=f"cannot {action.value} an alert that is {status.value}"
    ):
        next_status(status, action)


def test_emergencies_never_close_themselves() -> None:
    assert not can_self_clear(Severity.EMERGENCY)
    assert can_self_clear(Severity.URGENT)


def test_every_alarm_kind_has_an_alert_kind() -> None:
    # All but an installer's test alarm (`carewatch-agent check --test`): stored and
    # confirmed to the hub, never an alert.
    raising = [k for k in AlarmKind if k is not AlarmKind.TEST]
    assert {kind_for_alarm(k) for k in raising} <= set(AlertKind)
    assert all(KINDS[kind_for_alarm(k)].severity is Severity.EMERGENCY for k in raising)
    assert "test" not in {k.value for k in AlertKind}

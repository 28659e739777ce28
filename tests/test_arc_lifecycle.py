"""The alarm receiving centre's rules: who takes an alert, what clearing does, how it closes."""

from __future__ import annotations

import pytest

from server.domain.alerts import (
    AfterClearing,
    AlertStatus,
    IllegalTransition,
    Outcome,
    Severity,
    Taking,
    on_acknowledge,
    on_cleared,
    resolution_refused,
)


@pytest.mark.parametrize("severity", list(Severity))
def test_only_a_carer_on_an_emergency_leaves_it_with_the_centre(severity: Severity) -> None:
    assert on_acknowledge(severity, by_carer=False) is Taking.TAKEN
    expected = Taking.CARER_RESPONDING if severity is Severity.EMERGENCY else Taking.TAKEN
    assert on_acknowledge(severity, by_carer=True) is expected


@pytest.mark.parametrize(
    ("status", "severity", "after"),
    [
        (AlertStatus.OPEN, Severity.URGENT, AfterClearing.CLOSE),
        (AlertStatus.OPEN, Severity.ADVISORY, AfterClearing.CLOSE),
        (AlertStatus.OPEN, Severity.TECHNICAL, AfterClearing.CLOSE),
        (AlertStatus.ESCALATED, Severity.URGENT, AfterClearing.NEEDS_REVIEW),
        (AlertStatus.ESCALATED, Severity.TECHNICAL, AfterClearing.NEEDS_REVIEW),
        (AlertStatus.ACKNOWLEDGED, Severity.URGENT, AfterClearing.NOTE),
        (AlertStatus.OPEN, Severity.EMERGENCY, AfterClearing.NOTE),
        (AlertStatus.ESCALATED, Severity.EMERGENCY, AfterClearing.NOTE),
    ],
)
def test_clearing(status: AlertStatus, severity: Severity, after: AfterClearing) -> None:
    assert on_cleared(status, severity) is after


def test_a_resolved_alert_does_not_clear() -> None:
    with pytest.raises(IllegalTransition):
        on_cleared(AlertStatus.RESOLVED, Severity.URGENT)


@pytest.mark.parametrize("outcome", [o for o in Outcome if o is not Outcome.SELF_CLEARED])
def test_an_emergency_closes_only_with_a_note(outcome: Outcome) -> None:
    assert resolution_refused(Severity.EMERGENCY, outcome, None)
    assert resolution_refused(Severity.EMERGENCY, outcome, "   ")
    assert resolution_refused(Severity.EMERGENCY, outcome, "Smoke from toast; alarm reset.") is None
    assert resolution_refused(Severity.URGENT, outcome, None) is None


@pytest.mark.parametrize("severity", list(Severity))
def test_nobody_but_the_system_says_self_cleared(severity: Severity) -> None:
    assert resolution_refused(severity, Outcome.SELF_CLEARED, "it stopped")

"""How much less eagerly an advisory is raised after people closed it as a false alarm.

Each "false alarm" or "resident away" on an advisory (night toilet visits, a
missed meal, a decline, a changed routine) multiplies how far past this
resident's usual a change must go, up to a cap (``WatchSettings.feedback_step``
and ``feedback_max``); the alert then says so, so nobody wonders why it came later.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.detect.home_state import HomeState
from server.domain.alerts import AlertKind

__all__ = ["Eagerness", "less_eager"]


@dataclass(slots=True, frozen=True)
class Eagerness:
    """The factor a limit is multiplied by, and the sentence the alert adds (or "")."""

    factor: float
    note: str


def less_eager(home: HomeState, kind: AlertKind) -> Eagerness:
    """How much past usual ``kind`` now needs, after earlier false alarms.

    >>> home = HomeState()
    >>> less_eager(home, AlertKind.MISSED_MEAL)
    Eagerness(factor=1.0, note='')
    >>> home.advisory_slack["missed_meal"] = 1.5625
    >>> less_eager(home, AlertKind.MISSED_MEAL).note
    ' Raised less eagerly (1.6 times as far past usual) after earlier false alarms.'
    """
    factor = home.advisory_slack.get(kind.value, 1.0)
    if factor <= 1.0:
        return Eagerness(1.0, "")
    return Eagerness(
        factor,
        f" Raised less eagerly ({factor:.2g} times as far past usual) after earlier false alarms.",
    )

"""What detectors report: a condition that should raise an alert, or one that has ended."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from server.domain.alerts import KINDS, AlertKind, Severity

__all__ = ["Cleared", "Condition", "Finding"]


@dataclass(slots=True, frozen=True)
class Condition:
    """Something a carer or responder should know about, explained in their words."""

    hub: str
    kind: AlertKind
    event_at: datetime
    reason: str
    details: Mapping[str, object] = field(default_factory=dict)

    @property
    def severity(self) -> Severity:
        """The kind's, from the one table (server.domain.alerts.KINDS)."""
        return KINDS[self.kind].severity


@dataclass(slots=True, frozen=True)
class Cleared:
    """A condition that ended on its own (movement resumed), with the evidence."""

    hub: str
    kind: AlertKind
    event_at: datetime
    reason: str


Finding = Condition | Cleared

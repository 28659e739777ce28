"""What detectors report: a condition that should raise an alert, or one that has ended."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from server.domain.alerts import AlertKind, Severity

__all__ = ["Cleared", "Condition", "Finding"]


@dataclass(slots=True, frozen=True)
class Condition:
    """Something a carer or responder should know about, explained in their words."""

    hub: str
    kind: AlertKind
    severity: Severity
    event_at: datetime
    reason: str
    details: Mapping[str, object] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class Cleared:
    """A condition that ended on its own (movement resumed), with the evidence."""

    hub: str
    kind: AlertKind
    event_at: datetime
    reason: str


Finding = Condition | Cleared

"""Incidents injected into a simulated home, each with its ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Fall", "Incident", "IncidentLabel", "PendantPress"]


@dataclass(slots=True, frozen=True)
class IncidentLabel:
    """What really happened, for measuring detection: kind, home and when."""

    kind: str
    home: str
    start: datetime
    end: datetime | None


@dataclass(slots=True, frozen=True)
class Fall:
    """The resident falls at ``at`` and cannot get up: no movement from then on."""

    at: datetime
    kind: str = "fall"

    def label(self, home: str) -> IncidentLabel:
        """Ground truth: the fall lasts until someone comes."""
        return IncidentLabel(self.kind, home, self.at, None)


@dataclass(slots=True, frozen=True)
class PendantPress:
    """The resident presses their pendant at ``at``; life otherwise goes on."""

    at: datetime
    kind: str = "pendant"

    def label(self, home: str) -> IncidentLabel:
        """Ground truth: a single moment."""
        return IncidentLabel(self.kind, home, self.at, self.at)


Incident = Fall | PendantPress

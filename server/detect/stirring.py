"""After a no-movement alert: whether the resident is moving about again, or only stirred.

A lone blip (one sensor for a few seconds: a PIR's false trigger in an empty home, a
reading from a failing network, an arm moved on the floor) is not a resident back to
their routine: ending the alert there raised a new one for each blip of a home gone
dark. Two sensors within a few minutes, or one for longer, are (:func:`moving_again`).
``HomeWatch`` asks for every reading while the alert is raised, and while they have
only stirred neither ends the alert nor learns the silence. Its own state (the first
reading since the alert and its sensor) and checkpoint section, ``stirring``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

__all__ = ["Stirring", "forget", "moving_again"]

# Moving about again: a second sensor reports within this time of the first reading
# since the alert, or the same one for at least _BACK_SPAN.
_BACK_WITHIN = timedelta(minutes=15)
_BACK_SPAN = timedelta(minutes=2)


@dataclass(slots=True)
class Stirring:
    """The first reading since a no-movement alert, and its sensor (None: none yet)."""

    at: datetime | None = None
    by: str | None = None

    def section(self) -> dict[str, Any]:
        """The checkpoint section (the names are those of the first checkpoints)."""
        return {"stirred_at": self.at.isoformat() if self.at else None, "stirred_by": self.by}

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> Stirring:
        """A state from :meth:`section`, or an older header's flat fields; both came after
        the first checkpoints, so one may lack them."""
        at = section.get("stirred_at")
        return cls(at=datetime.fromisoformat(at) if at else None, by=section.get("stirred_by"))


def moving_again(stirring: Stirring, sensor: str, ts: datetime) -> bool:
    """A reading from ``sensor`` at ``ts`` after the alert: whether they are moving about
    again (or this is the first reading of a new stirring, remembered)."""
    first, by = stirring.at, stirring.by
    if first is None or ts - first > _BACK_WITHIN:
        stirring.at, stirring.by = ts, sensor
        return False
    return sensor != by or ts - first >= _BACK_SPAN


def forget(stirring: Stirring) -> None:
    """The alert is over: the next one's stirring starts afresh."""
    stirring.at = stirring.by = None

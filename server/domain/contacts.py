"""The people an alert reaches and how: their channels, and the lines of a carer's digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["AdvisoryLine", "Channel", "Contact"]


@dataclass(slots=True, frozen=True)
class Channel:
    """One way to reach a person: ``email`` or ``webhook``, and where."""

    kind: str
    address: str


@dataclass(slots=True, frozen=True)
class Contact:
    """A carer, responder or installer and their channels, most preferred first."""

    user_id: int
    name: str
    channels: tuple[Channel, ...]


@dataclass(slots=True, frozen=True)
class AdvisoryLine:
    """One advisory alert in a digest."""

    resident: str
    reason: str
    raised_at: datetime

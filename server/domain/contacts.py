"""The people an alert reaches and how: their channels, quiet hours, time away, and the lines
of a carer's digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

__all__ = ["AdvisoryLine", "Channel", "Contact", "QuietHours"]


@dataclass(slots=True, frozen=True)
class Channel:
    """One way to reach a person: ``email``, ``webhook``, ``webpush``, ``sms`` or ``voice``, and
    where (an SMS or voice channel's address is an E.164 number)."""

    kind: str
    address: str


@dataclass(slots=True, frozen=True)
class QuietHours:
    """When a carer is not to be troubled with what can wait, in the service's wall-clock time.

    A span whose end is before its start runs over midnight.

    >>> night = QuietHours(time(22, 0), time(7, 30))
    >>> [night.covers(time(h, m)) for h, m in ((23, 0), (3, 0), (7, 30), (12, 0))]
    [True, True, False, False]
    >>> QuietHours(time(13, 0), time(15, 0)).covers(time(14, 0))
    True
    """

    start: time
    end: time

    def covers(self, at: time) -> bool:
        """Whether the local time ``at`` falls in the quiet hours (start included, end not)."""
        if self.start <= self.end:
            return self.start <= at < self.end
        return at >= self.start or at < self.end


@dataclass(slots=True, frozen=True)
class Contact:
    """A carer, responder or installer and their channels, most preferred first.

    ``away_until``: the carer said they are away until then, and is left off
    the carers' rungs. ``quiet``: their quiet hours, which hold back advisories.
    """

    user_id: int
    name: str
    channels: tuple[Channel, ...]
    away_until: datetime | None = None
    quiet: QuietHours | None = None

    def away_at(self, now: datetime) -> bool:
        """Whether the person said they are away at ``now``."""
        return self.away_until is not None and now < self.away_until


@dataclass(slots=True, frozen=True)
class AdvisoryLine:
    """One advisory alert in a digest."""

    resident: str
    reason: str
    raised_at: datetime

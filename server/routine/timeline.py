"""Where the resident was, room by room: the spans a carer's 24-hour picture draws.

- A movement in a room (motion, a door or cupboard opened or closed, the bed or
  chair pad, the kettle switched on) puts the resident there from that moment
  until the next activity in another room, but for at most
  :data:`PRESENCE` (30 min) after the last activity seen there: a long silence
  is a gap in the picture, not presence.
- On the bed (or chair) pad, the span lasts until the pad is empty or the
  resident moves elsewhere, however still they lie.
- The front door, then nothing moving inside for :data:`OUT_AFTER` (10 min):
  "out" from the door until the next movement inside. The door is not "out"
  while the resident is on the bed or chair pad: that is someone else.

Pass readings from a while before ``start`` (half a day) so that the picture
knows where the resident was when it begins; readings up to ``end`` are taken
as complete, so what is still open (in bed, out) runs to ``end``.

>>> from datetime import UTC, datetime
>>> t = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
>>> spans = timeline(
...     [Activity("kitchen-pir", "motion", t, 1.0)], start=t, end=t.replace(hour=12)
... )
>>> [(s.room, f"{s.start:%H:%M}", f"{s.end:%H:%M}") for s in spans]
[('kitchen', '08:00', '08:30')]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from server.routine._track import OUT, OUT_AFTER, PRESENCE, classify, track
from server.routine.activity import Activity

__all__ = ["OUT", "OUT_AFTER", "PRESENCE", "Span", "rooms_in_order", "timeline"]

# Rows of the picture, top to bottom; other rooms follow alphabetically, "out" last.
_ROWS: Final = ("bedroom", "bathroom", "kitchen", "lounge", "hall")


@dataclass(frozen=True, slots=True)
class Span:
    """The resident in ``room`` (or ``"out"``) from ``start`` to ``end``."""

    room: str
    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        """How long the span lasts."""
        return self.end - self.start


def timeline(readings: Iterable[Activity], *, start: datetime, end: datetime) -> list[Span]:
    """Where the resident was between ``start`` and ``end``, in time order."""
    ordered = sorted(readings, key=lambda r: r.ts)
    stays = track(classify(ordered), end).stays
    spans: list[Span] = []
    for stay in stays:
        if stay.end <= start or stay.start >= end:
            continue
        spans.append(Span(stay.room, max(stay.start, start), min(stay.end, end)))
    return spans


def rooms_in_order(spans: Iterable[Span]) -> list[str]:
    """The rooms of ``spans`` as rows: bedroom, bathroom, kitchen, lounge, hall, others, out."""
    return sorted({s.room for s in spans}, key=_row)


def _row(room: str) -> tuple[int, int, str]:
    if room in _ROWS:
        return (0, _ROWS.index(room), "")
    if room == OUT:
        return (2, 0, "")
    return (1, 0, room)

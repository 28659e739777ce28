"""The hour of a home's local clock that a moment falls in, and the stretch of time it covers.

Most readings only need the local date and hour (which night, which band of
the day, is it morning yet), and a time-zone conversion costs more than the
rest of a reading's work. A :class:`LocalHour` says for which UTC span its
date and hour hold, so a home's readings within it skip the conversion.

>>> from datetime import UTC, datetime
>>> london = ZoneInfo("Europe/London")
>>> hour = local_hour(datetime(2026, 7, 1, 6, 40, tzinfo=UTC), london)
>>> hour.day, hour.hour, hour.band
(datetime.date(2026, 7, 1), 7, 2)
>>> hour.start <= datetime(2026, 7, 1, 6, 59, tzinfo=UTC) < hour.end
True

In an hour with a clock change the span is the moment alone, and each is converted:

>>> lord_howe = ZoneInfo("Australia/Lord_Howe")  # back half an hour at 15:00 UTC
>>> changing = local_hour(datetime(2026, 4, 4, 15, 10, tzinfo=UTC), lord_howe)
>>> changing.hour, changing.start == changing.end
(1, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from server.detect.gaps import band_of

__all__ = ["LocalHour", "local_hour"]

_HOUR = timedelta(hours=1)
_INSTANT = timedelta(microseconds=1)


@dataclass(slots=True, frozen=True)
class LocalHour:
    """A local clock hour: its date, hour and gap band, for the moments ``start <= ts < end``."""

    start: datetime
    end: datetime
    day: date
    hour: int
    band: int


def local_hour(ts: datetime, zone: ZoneInfo | None) -> LocalHour:
    """The local hour ``ts`` falls in (``ts``'s own clock when there is no zone)."""
    local = ts.astimezone(zone) if zone else ts
    start = end = ts  # good for this moment only, unless the whole hour is seen to be
    # Only a fixed-offset ``ts`` (readings and watermarks are UTC) has exact arithmetic.
    if zone is not None and isinstance(ts.tzinfo, timezone):
        first = ts - timedelta(
            minutes=local.minute, seconds=local.second, microseconds=local.microsecond
        )
        last = first + _HOUR - _INSTANT
        # A zone's offset never changes twice within an hour: the same offset at both
        # ends means no clock change in between.
        offset = local.utcoffset()
        if first.astimezone(zone).utcoffset() == offset == last.astimezone(zone).utcoffset():
            start, end = first, last + _INSTANT
    # Minutes never move a whole hour into the next band: hour_of's fraction is not needed.
    return LocalHour(
        start=start, end=end, day=local.date(), hour=local.hour, band=band_of(local.hour)
    )

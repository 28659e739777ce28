"""The carers' daily digest of advisory alerts: once a day, in the morning, never at night. Pure.

>>> from datetime import date, datetime
>>> digest_due(datetime(2026, 11, 24, 8, 5), hour=8, last_sent=date(2026, 11, 23))
True
>>> digest_due(datetime(2026, 11, 24, 3, 0), hour=8, last_sent=date(2026, 11, 23))
False
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from server.domain.contacts import AdvisoryLine

__all__ = ["compose_digest", "digest_due"]


def digest_due(now_local: datetime, *, hour: int, last_sent: date | None) -> bool:
    """Whether today's digest should go now: from ``hour`` local time, once a day."""
    return now_local.hour >= hour and last_sent != now_local.date()


def compose_digest(
    carer: str, lines: Sequence[AdvisoryLine], *, console_url: str
) -> tuple[str, str] | None:
    """Title and body of a carer's digest, or None when there is nothing to say."""
    if not lines:
        return None
    by_resident: dict[str, list[AdvisoryLine]] = {}
    for line in sorted(lines, key=lambda item: (item.resident, item.raised_at)):
        by_resident.setdefault(line.resident, []).append(line)
    title = f"carewatch: {len(lines)} thing{'s' if len(lines) != 1 else ''} to look at"
    parts = [f"Good morning {carer}. Since yesterday's summary:"]
    for resident, items in by_resident.items():
        parts.append(f"\n{resident}:")
        parts.extend(f"  - {item.reason}" for item in items)
    parts.append(f"\nNone of these is urgent. The details are on the console: {console_url}")
    return title, "\n".join(parts)

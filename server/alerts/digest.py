"""The carers' daily digest of advisory alerts: once a day, in the morning, never at night. Pure.

>>> from datetime import date, datetime
>>> digest_due(datetime(2026, 11, 24, 8, 5), hour=8, last_sent=date(2026, 11, 23))
True
>>> digest_due(datetime(2026, 11, 24, 3, 0), hour=8, last_sent=date(2026, 11, 23))
False
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time

from server.domain.contacts import AdvisoryLine, Contact

__all__ = ["compose_digest", "digest_due", "digest_recipients"]


def digest_due(now_local: datetime, *, hour: int, last_sent: date | None) -> bool:
    """Whether today's digest should go now: from ``hour`` local time, once a day."""
    return now_local.hour >= hour and last_sent != now_local.date()


def digest_recipients(
    carers: Sequence[Contact], *, now: datetime, local: time
) -> tuple[list[Contact], list[Contact]]:
    """Whose digest goes now, and whose waits for their quiet hours to end.

    A carer away now gets no digest that day (the advisories stay on their page).

    >>> from datetime import UTC, timedelta
    >>> from server.domain.contacts import QuietHours
    >>> now = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    >>> amy = Contact(1, "Amy", (), quiet=QuietHours(time(22, 0), time(9, 30)))
    >>> ben = Contact(2, "Ben", ())
    >>> cat = Contact(3, "Cat", (), away_until=now + timedelta(days=1))
    >>> ready, held = digest_recipients([amy, ben, cat], now=now, local=time(8, 0))
    >>> [c.name for c in ready], [c.name for c in held]
    (['Ben'], ['Amy'])
    """
    ready: list[Contact] = []
    held: list[Contact] = []
    for carer in carers:
        if carer.away_at(now):
            continue
        if carer.quiet is not None and carer.quiet.covers(local):
            held.append(carer)
        else:
            ready.append(carer)
    return ready, held


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

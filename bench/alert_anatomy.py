"""What false alerts are made of: grouped by kind, local hour, room, silence and day of week.

``bench.sim_alerts --anatomy`` prints these groups for the real homes and the
simulated trial side by side, so a gap between the two rates can be traced to
the hours, rooms and silences where the simulator is too tidy. Pure: it is
handed the alerts the replay raised and each home's time zone.

>>> from datetime import datetime, timezone
>>> from server.domain.alerts import AlertKind, Severity
>>> from server.evaluation.replay import RaisedAlert
>>> at = datetime(2026, 12, 3, 21, 30, tzinfo=timezone.utc)  # a Thursday
>>> alert = RaisedAlert("h1", AlertKind.NO_MOVEMENT, Severity.URGENT, at, at, "...",
...                     {"last_activity": "2026-12-03T18:10:00+00:00", "room": "lounge"})
>>> one = false_alert_of(alert, ZoneInfo("UTC"))
>>> one.hour, one.room, one.silence_bucket, one.weekday
(18, 'lounge', '3-4 h', 'Thu')
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from server.evaluation.replay import RaisedAlert

__all__ = ["GROUPS", "FalseAlert", "anatomy_table", "false_alert_of", "group"]

# Upper bounds (hours) of the silence buckets; longer ones are "12 h+".
_SILENCE_BOUNDS = (1, 2, 3, 4, 6, 8, 12)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# How each group is ordered in the table (kind and room by count).
GROUPS = ("kind", "hour", "room", "silence", "weekday", "place")


@dataclass(slots=True, frozen=True)
class FalseAlert:
    """One false urgent alert, seen as where and when the silence behind it began."""

    kind: str
    hour: int  # local hour the silence began (the last movement), or the alert's for others
    room: str
    silence_h: float
    weekday: str
    place: str  # the detector's "up and about", "in bed", … where it says, else "-"

    @property
    def silence_bucket(self) -> str:
        """The silence's length as a bucket of hours ("3-4 h")."""
        low = 0
        for high in _SILENCE_BOUNDS:
            if self.silence_h < high:
                return f"{low}-{high} h"
            low = high
        return f"{low} h+"


def _began(alert: RaisedAlert) -> datetime:
    for key in ("last_activity", "last_motion", "since"):
        value = alert.details.get(key)
        if isinstance(value, str):
            return datetime.fromisoformat(value)
    return alert.event_at


def false_alert_of(alert: RaisedAlert, zone: ZoneInfo) -> FalseAlert:
    """``alert`` as a :class:`FalseAlert`, its hour and weekday in the home's local time."""
    began = _began(alert)
    local = began.astimezone(zone)
    room = alert.details.get("room") or alert.details.get("last_room") or "-"
    place = alert.details.get("place") or "-"
    return FalseAlert(
        kind=alert.kind.value,
        hour=local.hour,
        room=str(room),
        silence_h=max(0.0, (alert.raised_at - began).total_seconds() / 3600),
        weekday=_WEEKDAYS[local.weekday()],
        place=str(place),
    )


def group(alerts: Iterable[FalseAlert], by: str) -> Counter[str]:
    """Count ``alerts`` by one of :data:`GROUPS`."""
    return Counter(_key(a, by) for a in alerts)


def _key(a: FalseAlert, by: str) -> str:
    match by:
        case "hour":
            return f"{a.hour:02d}"
        case "silence":
            return a.silence_bucket
        case "kind" | "room" | "weekday" | "place":
            return str(getattr(a, by))
    raise ValueError(f"group by one of {', '.join(GROUPS)}, not {by!r}")


def _order(by: str, keys: Iterable[str], counts: Counter[str]) -> list[str]:
    if by == "weekday":
        return [d for d in _WEEKDAYS if d in keys]
    if by == "silence":
        return sorted(keys, key=lambda k: float(k.split("-")[0].split(" ")[0]))
    if by == "hour":
        return sorted(keys)
    return sorted(keys, key=lambda k: -counts[k])


def anatomy_table(columns: Mapping[str, tuple[Sequence[FalseAlert], float]], by: str) -> str:
    """A markdown table of ``by``'s groups: per column, alerts per resident-month and share."""
    counts = {name: group(alerts, by) for name, (alerts, _) in columns.items()}
    total: Counter[str] = Counter()
    for c in counts.values():
        total.update(c)
    head = " | ".join(f"{name} /month (share)" for name in columns)
    lines = [f"| {by} | {head} |", "| --- |" + " --- |" * len(columns)]
    for key in _order(by, total.keys(), total):
        cells = []
        for name, (alerts, months) in columns.items():
            n = counts[name][key]
            rate = n / months if months else 0.0
            share = n / len(alerts) if alerts else 0.0
            cells.append(f"{rate:.2f} ({share:.0%})")
        lines.append(f"| {key} | {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"

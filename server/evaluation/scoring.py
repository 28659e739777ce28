"""Alerts scored against ground truth: recall, time to detect, false alerts per resident-month.

An alert *detects* a labelled incident when its kind is one that incident
should raise and it is raised between the incident's start (less a little
slack: a fall is often noticed from the last movement before it) and its end
(plus a grace for incidents that are a moment). Every other alert is false,
except those that explain context (a hub-offline alert during an outage, an
alert during an incident of the same home that a person would have wanted to
hear about anyway).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from firmware_sim.incidents import CONTEXT_KINDS, IncidentLabel
from server.domain.alerts import AlertKind
from server.evaluation.replay import RaisedAlert

__all__ = ["DETECTED_BY", "Score", "is_false_alarm", "score"]

# Which alerts count as catching each kind of incident.
DETECTED_BY: dict[str, frozenset[AlertKind]] = {
    "fall": frozenset({AlertKind.NO_MOVEMENT, AlertKind.FALL}),
    "not_up": frozenset({AlertKind.NO_MOVEMENT, AlertKind.NOT_UP}),
    "wander_out": frozenset({AlertKind.DOOR_AT_NIGHT, AlertKind.OUT_OF_BED}),
    "uti": frozenset({AlertKind.NIGHT_TOILET_VISITS, AlertKind.ROUTINE_CHANGE}),
    "missed_meals": frozenset({AlertKind.MISSED_MEAL}),
    "cold_home": frozenset({AlertKind.COLD_HOME}),
    "decline": frozenset({AlertKind.ACTIVITY_DECLINE, AlertKind.ROUTINE_CHANGE}),
    "hub_offline": frozenset({AlertKind.HUB_OFFLINE}),
    "battery_flat": frozenset({AlertKind.BATTERY_LOW, AlertKind.SENSOR_SILENT}),
    # Context in the simulator's terms (not an incident), but one a hub should report.
    "sensor_dropout": frozenset({AlertKind.SENSOR_SILENT}),
    "pendant": frozenset({AlertKind.PENDANT}),
}
_SILENCES = frozenset({AlertKind.NO_MOVEMENT, AlertKind.NOT_UP})
_SLACK = timedelta(hours=2)
_GRACE = timedelta(hours=1)
# Incidents during which an alert of another kind is not explained by them.
_NOT_EXPLAINING = frozenset({"hub_offline", "battery_flat", "decline", "sensor_dropout"})


@dataclass(slots=True)
class Score:
    """Per incident kind: found, missed, times to detect; per severity: false alerts."""

    labelled: Counter[str] = field(default_factory=Counter)
    detected: Counter[str] = field(default_factory=Counter)
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    false_alerts: Counter[str] = field(default_factory=Counter)
    false_by_kind: Counter[str] = field(default_factory=Counter)
    # False no-movement or not-up alerts about a silence that was really a hub outage.
    silences_in_outages: int = 0
    alerts: Counter[str] = field(default_factory=Counter)
    resident_months: float = 0.0

    def recall(self, kind: str) -> float | None:
        """Share of ``kind`` incidents detected, or None if there were none."""
        return self.detected[kind] / self.labelled[kind] if self.labelled[kind] else None

    def minutes_to_detect(self, kind: str, q: float) -> float | None:
        """The ``q`` quantile (0.5 = median) of minutes from incident start to the alert."""
        times = sorted(self.times.get(kind, ()))
        if not times:
            return None
        if q == 0.5:
            return median(times)
        return times[min(len(times) - 1, round(q * (len(times) - 1)))]

    def false_per_resident_month(self, severity: str) -> float:
        """False alerts of ``severity`` per resident per 30 days."""
        return self.false_alerts[severity] / self.resident_months if self.resident_months else 0.0


def score(
    alerts: Sequence[RaisedAlert],
    labels: Iterable[IncidentLabel],
    *,
    homes: int,
    start: datetime,
    end: datetime,
    into: Score | None = None,
) -> Score:
    """Add one set of homes' alerts and labels to ``into`` (a new score by default)."""
    result = into or Score()
    result.resident_months += homes * (end - start).total_seconds() / (30 * 86400)
    by_home: dict[str, list[IncidentLabel]] = defaultdict(list)
    for label in labels:
        if label.start < end:
            by_home[label.home].append(label)
    explained: set[int] = set()
    for home, home_labels in by_home.items():
        home_alerts = [(i, a) for i, a in enumerate(alerts) if a.home == home]
        for label in home_labels:
            if label.kind in CONTEXT_KINDS and label.kind not in DETECTED_BY:
                continue
            result.labelled[label.kind] += 1
            wanted = DETECTED_BY.get(label.kind, frozenset())
            until = max(label.end or end, label.start + _GRACE)
            # A battery is caught by its low-battery warnings, days before it is flat.
            slack = timedelta(days=14) if label.kind == "battery_flat" else _SLACK
            hits = [
                (i, a)
                for i, a in home_alerts
                if a.kind in wanted and label.start - slack <= a.raised_at <= until
            ]
            if hits:
                first = min(hits, key=lambda h: h[1].raised_at)[1]
                result.detected[label.kind] += 1
                result.times[label.kind].append(
                    max(0.0, (first.raised_at - label.start).total_seconds() / 60)
                )
                explained.update(i for i, _ in hits)
            # An alert of another kind during an incident still took a person to a
            # resident who needed one: not a false alarm.
            explained.update(
                i
                for i, a in home_alerts
                if label.kind not in _NOT_EXPLAINING
                and label.start - _SLACK <= a.raised_at <= until
            )
    for i, alert in enumerate(alerts):
        result.alerts[alert.severity.value] += 1
        if i not in explained:
            result.false_alerts[alert.severity.value] += 1
            result.false_by_kind[alert.kind.value] += 1
            if alert.kind in _SILENCES and any(
                label.kind == "hub_offline" and label.start <= alert.event_at <= (label.end or end)
                for label in by_home.get(alert.home, ())
            ):
                result.silences_in_outages += 1
    return result


def is_false_alarm(alert: RaisedAlert, labels: Iterable[IncidentLabel], *, end: datetime) -> bool:
    """Whether :func:`score` would count ``alert`` as false, as a carer would find it.

    Said at the time, so a replayed carer can close it as a false alarm. A battery's
    early warning (up to 14 days before it is flat) is taken as false here.
    """
    for label in labels:
        if label.home != alert.home or label.kind not in DETECTED_BY:
            continue
        until = max(label.end or end, label.start + _GRACE)
        if not (label.start - _SLACK <= alert.raised_at <= until):
            continue
        if alert.kind in DETECTED_BY[label.kind] or label.kind not in _NOT_EXPLAINING:
            return False
    return True

"""Service figures as telecare services report them. Pure: alerts in, figures out.

Per severity: time from the event to the alert, from the alert to the first
acknowledgement and from acknowledgement to resolution (median and 90th
percentile), and the share acknowledged within 60 s and 180 s (the audited
targets are 97.5 % and 99 %). Per kind: the false-alarm rate among alerts a
person closed.

>>> from datetime import UTC, datetime, timedelta
>>> t = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
>>> alerts = [AlertTiming("emergency", "pendant", t, t + timedelta(seconds=1),
...     t + timedelta(seconds=41), t + timedelta(minutes=10), "false_alarm")]
>>> report = service_figures(alerts)
>>> report.by_severity[0].acknowledged_within_60s, report.false_alarm_rate["pendant"]
(1.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from server.domain.alerts import SEVERITY_RANK, Outcome, Severity

__all__ = ["AlertTiming", "Durations", "ServiceFigures", "SeverityFigures", "service_figures"]


@dataclass(slots=True, frozen=True)
class AlertTiming:
    """The moments in one alert's life."""

    severity: str
    kind: str
    event_at: datetime
    raised_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    outcome: str | None


@dataclass(slots=True, frozen=True)
class Durations:
    """Median and 90th percentile in seconds, over ``count`` alerts."""

    count: int
    p50_s: float | None
    p90_s: float | None


@dataclass(slots=True, frozen=True)
class SeverityFigures:
    """The figures of one severity."""

    severity: str
    alerts: int
    event_to_alert: Durations
    alert_to_acknowledgement: Durations
    acknowledgement_to_resolution: Durations
    acknowledged_within_60s: float | None
    acknowledged_within_180s: float | None


@dataclass(slots=True, frozen=True)
class ServiceFigures:
    """Figures per severity (most severe first) and false-alarm rate per kind."""

    by_severity: list[SeverityFigures]
    false_alarm_rate: dict[str, float] = field(default_factory=dict)


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    # Nearest rank: a figure that happened, not an interpolation.
    index = max(0, min(len(sorted_values) - 1, round(q * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def _durations(values: list[float]) -> Durations:
    values.sort()
    if not values:
        return Durations(0, None, None)
    return Durations(len(values), _quantile(values, 0.5), _quantile(values, 0.9))


def _share(hits: int, total: int) -> float | None:
    return None if total == 0 else hits / total


def service_figures(alerts: Sequence[AlertTiming]) -> ServiceFigures:
    """The service's figures over ``alerts``."""
    by_severity: list[SeverityFigures] = []
    for severity in sorted(Severity, key=lambda s: SEVERITY_RANK[s]):
        mine = [a for a in alerts if a.severity == severity.value]
        if not mine:
            continue
        # An alert that cleared by itself before anyone acknowledged it was never
        # waiting for an answer; every other one counts, answered or not.
        answerable = [
            a
            for a in mine
            if not (a.outcome == Outcome.SELF_CLEARED.value and a.acknowledged_at is None)
        ]
        to_ack = [
            (a.acknowledged_at - a.raised_at).total_seconds()
            for a in answerable
            if a.acknowledged_at is not None
        ]
        by_severity.append(
            SeverityFigures(
                severity=severity.value,
                alerts=len(mine),
                event_to_alert=_durations(
                    [max(0.0, (a.raised_at - a.event_at).total_seconds()) for a in mine]
                ),
                alert_to_acknowledgement=_durations(list(to_ack)),
                acknowledgement_to_resolution=_durations(
                    [
                        (a.resolved_at - a.acknowledged_at).total_seconds()
                        for a in mine
                        if a.acknowledged_at is not None and a.resolved_at is not None
                    ]
                ),
                acknowledged_within_60s=_share(sum(s <= 60 for s in to_ack), len(answerable)),
                acknowledged_within_180s=_share(sum(s <= 180 for s in to_ack), len(answerable)),
            )
        )
    closed_by_people: dict[str, list[bool]] = {}
    for a in alerts:
        if a.outcome is not None and a.outcome != Outcome.SELF_CLEARED.value:
            closed_by_people.setdefault(a.kind, []).append(a.outcome == Outcome.FALSE_ALARM.value)
    return ServiceFigures(
        by_severity=by_severity,
        false_alarm_rate={kind: sum(v) / len(v) for kind, v in sorted(closed_by_people.items())},
    )

"""Is each social-alarm unit still there? A missing SCAIP heartbeat is a technical alert.

A unit provisioned with a heartbeat interval promises a message at least that
often (its heartbeat, or any alarm or event: each shows the path works). One
late heartbeat is a network's hiccup; ``missed`` of them in a row (and a
little slack) is a unit unplugged, a broken line or a dead router, and the
resident's button may not reach anyone: ``alarm_unit_silent`` goes to the
installers' queue, and clears by itself when the unit speaks again.

>>> from datetime import UTC, datetime, timedelta
>>> from server.domain.scaip import ScaipUnit
>>> health = UnitHealth()
>>> unit = ScaipUnit("4711", 1, "Ada", "Europe/London", heartbeat_s=60)
>>> t = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
>>> health.check(unit, last_heard=t, now=t + timedelta(seconds=150))
[]
>>> [f.kind.value for f in health.check(unit, last_heard=t, now=t + timedelta(seconds=200))]
['alarm_unit_silent']
>>> health.check(unit, last_heard=t, now=t + timedelta(seconds=300))  # raised once
[]
>>> [type(f).__name__ for f in health.check(unit, last_heard=t + timedelta(seconds=310), now=t + timedelta(seconds=311))]
['Cleared']
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from server.detect.inactivity import format_duration
from server.domain.alerts import AlertKind
from server.domain.findings import Cleared, Condition, Finding
from server.domain.scaip import ScaipUnit

__all__ = ["UnitHealth"]


class UnitHealth:
    """Remembers which units it has reported silent, so each silence raises once."""

    def __init__(self, *, missed: int = 2, slack: timedelta = timedelta(seconds=60)) -> None:
        self.missed = missed
        self.slack = slack
        self._silent: set[str] = set()

    def restore(self, units: Iterable[str]) -> None:
        """Units with an active silent alert, so a restart does not raise them again."""
        self._silent.update(units)

    def limit(self, unit: ScaipUnit) -> timedelta | None:
        """How long the unit may be quiet (None: it promised no heartbeat)."""
        if unit.heartbeat_s is None:
            return None
        return self.missed * timedelta(seconds=unit.heartbeat_s) + self.slack

    def check(
        self, unit: ScaipUnit, *, last_heard: datetime | None, now: datetime
    ) -> list[Finding]:
        """Findings for one unit at ``now``: raised once per silence, cleared when it speaks."""
        limit = self.limit(unit)
        if limit is None or last_heard is None:
            return []  # no heartbeat promised, or never installed: nothing to miss yet
        quiet = now - last_heard
        hub = unit.hub or ""
        if quiet >= limit and unit.unit not in self._silent:
            self._silent.add(unit.unit)
            return [
                Condition(
                    hub=hub,
                    kind=AlertKind.ALARM_UNIT_SILENT,
                    event_at=last_heard,
                    reason=(
                        f"Social alarm unit {unit.unit} has sent no heartbeat for "
                        f"{format_duration(quiet)} (it sends one every "
                        f"{format_duration(timedelta(seconds=unit.heartbeat_s or 0))}). "
                        f"{unit.resident}'s alarm button may not reach anyone: check the unit's "
                        "power and line, or call the resident."
                    ),
                    details={"unit": unit.unit, "last_heard": last_heard.isoformat()},
                )
            ]
        if quiet < limit and unit.unit in self._silent:
            self._silent.discard(unit.unit)
            return [
                Cleared(
                    hub=hub,
                    kind=AlertKind.ALARM_UNIT_SILENT,
                    event_at=last_heard,
                    reason=f"Social alarm unit {unit.unit} is sending heartbeats again.",
                )
            ]
        return []

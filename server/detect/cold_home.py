"""A cold home: the living room below the limit (18 °C) for a sustained time.

Its own state (per temperature sensor: below the limit since when, and whether
that was raised) and its own checkpoint section, ``cold_home``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from edge.protocol import Reading
from server.domain.alerts import AlertKind
from server.domain.findings import Cleared, Condition, Finding

__all__ = ["ColdHome", "judge_temperature"]


@dataclass(slots=True)
class ColdHome:
    """Per temperature sensor: below the limit since, and which sensors' cold was raised."""

    since: dict[str, datetime] = field(default_factory=dict)
    raised: set[str] = field(default_factory=set)

    def section(self) -> dict[str, Any]:
        """The checkpoint section (the names are those of the first checkpoints)."""
        return {
            "cold_since": {k: v.isoformat() for k, v in self.since.items()},
            "cold_raised": sorted(self.raised),
        }

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> ColdHome:
        """A state from :meth:`section`."""
        return cls(
            since={k: datetime.fromisoformat(v) for k, v in section["cold_since"].items()},
            raised=set(section["cold_raised"]),
        )


def judge_temperature(
    hub: str,
    cold: ColdHome,
    reading: Reading,
    *,
    limit_c: float,
    cold_for: timedelta,
    zone: ZoneInfo | None,
) -> list[Finding]:
    """One living-room temperature: raised once cold for ``cold_for``, cleared when warm again."""
    if reading.value >= limit_c:
        cold.since.pop(reading.sensor, None)
        if reading.sensor in cold.raised:
            cold.raised.discard(reading.sensor)
            return [
                Cleared(
                    hub=hub,
                    kind=AlertKind.COLD_HOME,
                    event_at=reading.ts,
                    reason=f"The living room is back to {reading.value:.1f} °C.",
                )
            ]
        return []
    since = cold.since.setdefault(reading.sensor, reading.ts)
    if reading.ts - since >= cold_for and reading.sensor not in cold.raised:
        cold.raised.add(reading.sensor)
        local = since.astimezone(zone) if zone else since
        return [
            Condition(
                hub=hub,
                kind=AlertKind.COLD_HOME,
                event_at=reading.ts,
                reason=(
                    f"The living room has been below {limit_c:g} °C since "
                    f"{local:%H:%M} ({reading.value:.1f} °C now). Older people should have at "
                    "least 18 °C: is the heating working? Consider a call."
                ),
                details={"temperature": reading.value, "since": since.isoformat()},
            )
        ]
    return []

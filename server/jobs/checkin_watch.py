"""Raises ``checkin_missed`` when a resident's daily "I'm OK" is late, and clears it when it comes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from server.alerts.service import AlertService
from server.detect.checkin import checkin_finding
from server.domain.alerts import AlertKind
from server.domain.findings import Cleared, Condition
from server.domain.homes import HubHome
from server.jobs.periodic import every
from server.store.pool import Pool
from server.store.residents import checkins_due

__all__ = ["CheckinWatch"]

log = logging.getLogger(__name__)


class CheckinWatch:
    """Every ``interval_s``, looks at each resident who checks in daily."""

    def __init__(self, pool: Pool, alerts: AlertService, *, interval_s: float = 30.0) -> None:
        self._pool = pool
        self._alerts = alerts
        self._interval_s = interval_s

    async def run(self) -> None:
        """Check, for ever."""
        await every(
            self._interval_s,
            lambda: self.check_all(datetime.now(UTC)),
            failed="check-in round failed; trying again",
            log=log,
        )

    async def check_all(self, now: datetime) -> None:
        """One round over every resident with a check-in time."""
        async with self._pool.connection() as conn:
            residents = await checkins_due(conn, AlertKind.CHECKIN_MISSED)
        for r in residents:
            finding = checkin_finding(
                hub=r.hub or "",
                resident=r.name,
                checkin_by=r.checkin_by,
                zone=ZoneInfo(r.timezone),
                now=now,
                last_checkin=r.last_checkin,
                last_raised=r.last_raised,
                active=r.alert_status is not None and r.alert_status != "resolved",
                away=r.away,
            )
            home = HubHome(r.hub or "", r.resident_id, r.name, r.timezone)
            match finding:
                case Condition():
                    await self._alerts.raise_condition(home, finding)
                case Cleared():
                    await self._alerts.clear_condition(home, finding)

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
from server.store.residents import LAST_CHECKIN

__all__ = ["CheckinWatch"]

log = logging.getLogger(__name__)

# Each resident with a check-in time: their first hub, their latest check-in
# (page or hub button) and their latest checkin_missed alert. All from the
# database, so a restarted server carries on where it was.
_RESIDENTS = f"""
SELECT r.id, r.name, r.timezone, r.checkin_by,
       (SELECT min(h.id) FROM hubs h WHERE h.resident_id = r.id AND h.revoked_at IS NULL),
       {LAST_CHECKIN},
       a.event_at, a.status, coalesce(r.away_until > now(), false)
FROM residents r
LEFT JOIN LATERAL (
  SELECT event_at, status FROM alerts
  WHERE resident_id = r.id AND kind = %s ORDER BY event_at DESC LIMIT 1
) a ON TRUE
WHERE r.checkin_by IS NOT NULL
"""


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
            cursor = await conn.execute(_RESIDENTS, (AlertKind.CHECKIN_MISSED.value,))
            rows = await cursor.fetchall()
        for resident_id, name, timezone, checkin_by, hub, last, raised, alert_status, away in rows:
            finding = checkin_finding(
                hub=hub or "",
                resident=name,
                checkin_by=checkin_by,
                zone=ZoneInfo(timezone),
                now=now,
                last_checkin=last,
                last_raised=raised,
                active=alert_status is not None and alert_status != "resolved",
                away=away,
            )
            home = HubHome(hub or "", resident_id, name, timezone)
            match finding:
                case Condition():
                    await self._alerts.raise_condition(home, finding)
                case Cleared():
                    await self._alerts.clear_condition(home, finding)

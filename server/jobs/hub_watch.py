"""Watches every hub's connection and raises or clears ``hub_offline`` alerts."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from server.alerts.service import AlertService
from server.detect.hub_health import HubHealth
from server.domain.alerts import AlertKind
from server.domain.findings import Cleared, Condition
from server.jobs.periodic import every
from server.store import alerts as alerts_sql
from server.store import people
from server.store.pool import Pool

__all__ = ["HubWatch"]

log = logging.getLogger(__name__)


class HubWatch:
    """Every ``interval_s``, asks :class:`HubHealth` about each hub and acts on the answer."""

    def __init__(
        self, pool: Pool, alerts: AlertService, health: HubHealth, *, interval_s: float = 30.0
    ) -> None:
        self._pool = pool
        self._alerts = alerts
        self._health = health
        self._interval_s = interval_s

    async def start(self) -> None:
        """Remember the outages already reported, so a restart does not report them again."""
        async with self._pool.connection() as conn:
            reported = await alerts_sql.open_alerts_by_hub(conn, [AlertKind.HUB_OFFLINE.value])
        self._health.restore(hub for hub, _ in reported)

    async def run(self) -> None:
        """Check every hub, for ever."""
        await every(
            self._interval_s,
            lambda: self.check_all(datetime.now(UTC)),
            failed="hub check failed; trying again",
            log=log,
        )

    async def check_all(self, now: datetime) -> None:
        """One round over the hubs that can have changed: quiet long enough, or reported offline.

        The others (every hub heard from lately and not reported) have nothing to
        raise or clear, so the database leaves them out: listing a fleet of
        100,000 into Python every round took seconds of the event loop alarms share.
        """
        async with self._pool.connection() as conn:
            hubs = await people.hub_states(
                conn, seen_before=self._health.quiet_since(now), hubs=self._health.reported
            )
        for home, state, last_seen in hubs:
            for finding in self._health.check(home.hub, state=state, last_seen=last_seen, now=now):
                match finding:
                    case Condition():
                        await self._alerts.raise_condition(home, finding)
                    case Cleared():
                        await self._alerts.clear_condition(home, finding)

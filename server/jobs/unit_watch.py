"""Watches every SCAIP unit's heartbeat and raises or clears ``alarm_unit_silent`` alerts."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from server.alerts.service import AlertService
from server.detect.unit_health import UnitHealth
from server.domain.findings import Cleared, Condition
from server.domain.homes import HubHome
from server.jobs.periodic import every
from server.store import scaip as scaip_sql
from server.store.pool import Pool

__all__ = ["UnitWatch"]

log = logging.getLogger(__name__)


class UnitWatch:
    """Every ``interval_s``, asks :class:`UnitHealth` about each unit and acts on the answer."""

    def __init__(
        self, pool: Pool, alerts: AlertService, health: UnitHealth, *, interval_s: float = 30.0
    ) -> None:
        self._pool = pool
        self._alerts = alerts
        self._health = health
        self._interval_s = interval_s

    async def start(self) -> None:
        """Remember the silences already reported, so a restart does not report them again."""
        async with self._pool.connection() as conn:
            self._health.restore(await scaip_sql.reported_silent(conn))

    async def run(self) -> None:
        """Check every unit, for ever."""
        await every(
            self._interval_s,
            lambda: self.check_all(datetime.now(UTC)),
            failed="SCAIP unit check failed; trying again",
            log=log,
        )

    async def check_all(self, now: datetime) -> None:
        """One round over every unit that promises a heartbeat."""
        async with self._pool.connection() as conn:
            units = await scaip_sql.units_with_heartbeats(conn)
        for unit, last_heard, _ in units:
            home = HubHome(unit.hub or "", unit.resident_id, unit.resident, unit.timezone)
            for finding in self._health.check(unit, last_heard=last_heard, now=now):
                match finding:
                    case Condition():
                        await self._alerts.raise_condition(home, finding)
                    case Cleared():
                        await self._alerts.clear_condition(home, finding)

"""The half-minute rounds over the fleet cost what changed, not a listing of every home.

At 100,000 homes the hub watch and the hub refresh each listed every hub into
Python every 30 s: over a quarter of the server's CPU (py-spy, docs/benchmarks.md),
on the event loop that also reads alarms. These tests use a fleet of 2,000 hubs
and count what reaches Python.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from server.detect.hub_health import HubHealth
from server.domain.findings import Cleared, Condition
from server.domain.homes import HubHome
from server.ingest.service import IngestService
from server.jobs.hub_watch import HubWatch
from server.store import people
from server.store.pool import migrate, open_pool

FLEET = 2_000


@pytest.fixture
def fleet(database_url: str) -> str:
    """2,000 hubs, each in its own resident's home, every one heard from a minute ago."""
    migrate(database_url)
    seen = datetime.now(UTC) - timedelta(minutes=1)
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO residents (name, timezone)"
            " SELECT 'Resident ' || n, 'Europe/London' FROM generate_series(0, %s - 1) n",
            (FLEET,),
        )
        conn.execute(
            "INSERT INTO hubs (id, resident_id, state, last_seen_at)"
            " SELECT 'hub-' || lpad(substr(name, 10), 5, '0'), id, 'online', %s FROM residents",
            (seen,),
        )
    return database_url


class _Alerts:
    """Records what the hub watch raises and clears."""

    def __init__(self) -> None:
        self.raised: list[str] = []
        self.cleared: list[str] = []

    async def raise_condition(self, home: HubHome, finding: Condition) -> None:
        self.raised.append(home.hub)

    async def clear_condition(self, home: HubHome, finding: Cleared) -> None:
        self.cleared.append(home.hub)


async def test_the_hub_watch_lists_only_hubs_quiet_long_enough_or_reported_offline(
    fleet: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    with psycopg.connect(fleet) as conn:
        # Five went quiet 20 minutes ago (past the silence limit), three said goodbye
        # 11 minutes ago (past the grace), and one reported offline is back.
        conn.execute(
            "UPDATE hubs SET last_seen_at = %s WHERE id IN"
            " ('hub-00010', 'hub-00011', 'hub-00012', 'hub-00013', 'hub-00014')",
            (now - timedelta(minutes=20),),
        )
        conn.execute(
            "UPDATE hubs SET state = 'offline', last_seen_at = %s"
            " WHERE id IN ('hub-00020', 'hub-00021', 'hub-00022')",
            (now - timedelta(minutes=11),),
        )
        # Offline, but only for two minutes: within the grace, nothing yet.
        conn.execute(
            "UPDATE hubs SET state = 'offline', last_seen_at = %s WHERE id = 'hub-00030'",
            (now - timedelta(minutes=2),),
        )
    listed: list[int] = []
    hub_states = people.hub_states

    async def counted(conn: Any, **kwargs: Any) -> Any:
        rows = await hub_states(conn, **kwargs)
        listed.append(len(rows))
        return rows

    monkeypatch.setattr(people, "hub_states", counted)
    pool = await open_pool(fleet, min_size=1, max_size=1)
    try:
        alerts = _Alerts()
        health = HubHealth(grace=timedelta(minutes=10), silence_limit=timedelta(minutes=15))
        health.restore(["hub-00040"])
        watch = HubWatch(pool, alerts, health)  # type: ignore[arg-type]
        await watch.check_all(now)
        assert sorted(alerts.raised) == [
            "hub-00010",
            "hub-00011",
            "hub-00012",
            "hub-00013",
            "hub-00014",
            "hub-00020",
            "hub-00021",
            "hub-00022",
        ]
        assert alerts.cleared == ["hub-00040"]
        # The 8 quiet ones and the one to clear, not 2,000 (hub-00030, offline two
        # minutes, is within the grace: left out, as every hub heard from lately).
        assert listed == [8 + 1]

        # The next round: the eight are asked again (to clear when back), raised once.
        await watch.check_all(now + timedelta(seconds=30))
        assert len(alerts.raised) == 8
        assert listed[-1] == 8
    finally:
        await pool.close()


class _ZoneSpy:
    """A detector that records the time zones it is given."""

    def __init__(self) -> None:
        self.zones: dict[str, ZoneInfo] = {}

    def set_timezone(self, hub: str, zone: ZoneInfo) -> None:
        self.zones[hub] = zone

    def set_sensor_map(self, hub: str, rooms: dict[str, str]) -> None:
        pass


async def test_a_refresh_with_nothing_changed_lists_no_home_and_resets_no_time_zone(
    fleet: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    listings: list[int] = []
    hub_homes = people.hub_homes

    async def counted(conn: Any) -> list[HubHome]:
        homes = await hub_homes(conn)
        listings.append(len(homes))
        return homes

    monkeypatch.setattr("server.ingest.service.hub_homes", counted)
    pool = await open_pool(fleet, min_size=1, max_size=1)
    try:
        spy = _ZoneSpy()
        ingest = IngestService(pool, alerts=None, detector=spy, writer=None)  # type: ignore[arg-type]
        await ingest.start()
        assert listings == [FLEET]
        assert len(spy.zones) == FLEET
        spy.zones.clear()

        await ingest.refresh_hubs()
        assert listings == [FLEET]  # not listed again
        assert spy.zones == {}

        # A resident moves to Lisbon and another hub is revoked: both are picked up,
        # and only the home whose zone changed is told.
        with psycopg.connect(fleet) as conn:
            conn.execute(
                "UPDATE residents SET timezone = 'Europe/Lisbon' WHERE id ="
                " (SELECT resident_id FROM hubs WHERE id = 'hub-00007')"
            )
            conn.execute("UPDATE hubs SET revoked_at = now() WHERE id = 'hub-00008'")
        await ingest.refresh_hubs()
        assert listings == [FLEET, FLEET - 1]
        assert spy.zones == {"hub-00007": ZoneInfo("Europe/Lisbon")}
        assert "hub-00008" not in ingest._homes
        assert ingest._homes["hub-00007"].timezone == "Europe/Lisbon"
    finally:
        await pool.close()

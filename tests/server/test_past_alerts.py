"""A resident's closed alerts, newest first, for the people who may see them."""

from __future__ import annotations

import httpx
import psycopg

from server.runtime import CarewatchServer
from tests.server.people import bearer, make_two_homes


def _closed(database_url: str, resident_id: int, hub: str) -> None:
    """Two closed alerts: an emergency last week and a newer advisory one."""
    with psycopg.connect(database_url) as conn:
        for kind, severity, ago, outcome in (
            ("pendant", "emergency", "7 days", "false_alarm"),
            ("night_wandering", "advisory", "1 day", "carer_visited"),
        ):
            conn.execute(
                "INSERT INTO alerts (resident_id, hub_id, kind, severity, status, raised_at,"
                " event_at, reason, resolved_at, resolved_by, outcome) VALUES (%s, %s, %s, %s,"
                " 'resolved', now() - %s::interval, now() - %s::interval, 'why', now(),"
                " 'admin', %s)",
                (resident_id, hub, kind, severity, ago, ago, outcome),
            )


async def test_past_alerts_come_newest_first_whatever_their_severity_and_only_in_reach(
    quick_server: CarewatchServer, admin_api: httpx.AsyncClient, database_url: str
) -> None:
    homes = await make_two_homes(admin_api)
    edith = homes.edith
    _closed(database_url, edith.resident_id, edith.hub)
    async with httpx.AsyncClient(base_url=quick_server.http_url, timeout=10) as client:
        client.headers["Authorization"] = f"Bearer {await bearer(client, edith.carer)}"
        past = await client.get(f"/api/v1/residents/{edith.resident_id}/past-alerts")
        assert past.status_code == 200, past.text
        assert [(a["kind"], a["outcome"]) for a in past.json()] == [
            ("night_wandering", "carer_visited"),
            ("pendant", "false_alarm"),
        ]
        one = await client.get(f"/api/v1/residents/{edith.resident_id}/past-alerts?limit=1")
        assert [a["kind"] for a in one.json()] == ["night_wandering"]
        refused = await client.get(f"/api/v1/residents/{homes.arthur.resident_id}/past-alerts")
        assert refused.status_code == 403

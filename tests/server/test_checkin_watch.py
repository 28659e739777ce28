"""The daily "I'm OK" through a real server: missed by its time, closed by a late check-in."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import psycopg

from server.runtime import CarewatchServer
from tests.server.helpers import eventually
from tests.server.people import Home, bearer, make_two_homes
from tests.server.receivers import webhook_server


def _reachable_on(database_url: str, username: str, webhook: str) -> None:
    """Give a carer a channel, so her rung waits for her answer instead of passing at once."""
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO user_channels SELECT id, 0, 'webhook', %s FROM users WHERE username = %s",
            (webhook, username),
        )


def _checkin_alerts(database_url: str, resident_id: int) -> list[tuple[str, str | None]]:
    with psycopg.connect(database_url) as conn:
        return [
            (str(status), outcome)
            for status, outcome in conn.execute(
                "SELECT status, outcome FROM alerts WHERE resident_id = %s"
                " AND kind = 'checkin_missed' ORDER BY raised_at",
                (resident_id,),
            ).fetchall()
        ]


async def test_a_missed_check_in_raises_once_and_a_late_one_closes_it(
    quick_server: CarewatchServer, admin_api: httpx.AsyncClient, database_url: str
) -> None:
    homes = await make_two_homes(admin_api)
    edith = homes.edith
    # A carer nobody can reach is passed over at once, and an alert escalated to the
    # responders is left for review rather than closed by the late check-in. Reachable,
    # she has her minutes, and the alert is still open when Edith checks in.
    with webhook_server() as (hook_url, _):
        _reachable_on(database_url, edith.carer, f"{hook_url}/carer")
        await _miss_and_check_in(quick_server, admin_api, database_url, edith)
    # Rounds go on; today's deadline is not raised again, and Arthur (no check-in time) never.
    await asyncio.sleep(2.0)  # three more rounds of the watch
    assert _checkin_alerts(database_url, edith.resident_id) == [("resolved", "self_cleared")]
    assert _checkin_alerts(database_url, homes.arthur.resident_id) == []


async def _miss_and_check_in(
    quick_server: CarewatchServer, admin_api: httpx.AsyncClient, database_url: str, edith: Home
) -> None:
    # Her check-in time passed a minute ago (not across midnight, so it is today's).
    local = datetime.now(UTC).astimezone(ZoneInfo("Europe/London"))
    due = max(local - timedelta(minutes=1), local.replace(hour=0, minute=0, second=1))
    async with httpx.AsyncClient(base_url=quick_server.http_url, timeout=10) as as_edith:
        as_edith.headers["Authorization"] = f"Bearer {await bearer(as_edith, edith.resident_user)}"
        chosen = await as_edith.put(
            f"/api/v1/residents/{edith.resident_id}/choices",
            json={
                "share_health_notes": False,
                "share_activity_with_carers": True,
                "checkin_by": due.strftime("%H:%M:%S"),
            },
        )
        assert chosen.status_code == 200, chosen.text

        await eventually(
            lambda: _checkin_alerts(database_url, edith.resident_id) == [("open", None)],
            "checkin_missed raised",
        )
        alerts = (await admin_api.get("/api/v1/alerts")).json()
        (missed,) = [a for a in alerts if a["kind"] == "checkin_missed"]
        assert missed["severity"] == "urgent"
        assert 'has not said "I\'m OK" today' in missed["reason"]

        checked = await as_edith.post(f"/api/v1/residents/{edith.resident_id}/checkin")
        assert checked.status_code == 200, checked.text
    await eventually(
        lambda: _checkin_alerts(database_url, edith.resident_id) == [("resolved", "self_cleared")],
        "the late check-in closing it",
    )

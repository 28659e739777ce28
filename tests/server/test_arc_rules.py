"""The centre's rules on a real database: a carer's tap, a second acknowledgement, clearing, closing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from edge.protocol import Alarm, AlarmKind
from server.alerts.links import make_link
from server.alerts.service import AlertService, ResolutionRefused
from server.domain.alerts import AlertKind, Outcome
from server.domain.findings import Cleared, Condition
from server.domain.homes import HubHome
from server.store import escalation as escalation_sql
from server.store.pool import Pool, migrate, open_pool
from tests.server.helpers import provision


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    migrate(database_url)
    opened = await open_pool(database_url, min_size=1, max_size=2)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def home(database_url: str) -> HubHome:
    migrate(database_url)
    provision(database_url, "hub-arc", "Mrs Edith Clarke")
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT id FROM residents WHERE name = 'Mrs Edith Clarke'").fetchone()
    assert row is not None
    return HubHome("hub-arc", int(row[0]), "Mrs Edith Clarke", "Europe/London")


def _alarm(kind: AlarmKind) -> Alarm:
    return Alarm("hub-arc", str(uuid.uuid4()), kind.value, kind, datetime.now(UTC))


def _no_movement() -> Condition:
    return Condition("hub-arc", AlertKind.NO_MOVEMENT, datetime.now(UTC), "No movement for 3 h.")


async def test_a_carers_tap_on_an_emergency_leaves_it_open(pool: Pool, home: HubHome) -> None:
    service = AlertService(pool, link_key=b"k" * 32)
    alert_id = await service.raise_alarm(home, _alarm(AlarmKind.PULL_CORD))
    assert alert_id is not None
    tapped = await service.acknowledge(alert_id, by="amy", by_carer=True)
    assert tapped.status == "open"
    assert tapped.acknowledged_at is None
    assert [r["by"] for r in tapped.details["responding"]] == ["amy"]
    # The centre still acknowledges it itself.
    taken = await service.acknowledge(alert_id, by="desk", by_carer=False)
    assert (taken.status, taken.acknowledged_by) == ("acknowledged", "desk")


async def test_a_carers_tap_on_an_urgent_alert_takes_it(pool: Pool, home: HubHome) -> None:
    service = AlertService(pool, link_key=b"k" * 32)
    alert_id = await service.raise_condition(home, _no_movement())
    taken = await service.acknowledge(alert_id, by="amy", by_carer=True)
    assert (taken.status, taken.acknowledged_by) == ("acknowledged", "amy")


async def test_the_first_acknowledgement_time_is_kept(pool: Pool, home: HubHome) -> None:
    service = AlertService(pool, link_key=b"k" * 32)
    alert_id = await service.raise_condition(home, _no_movement())
    first = await service.acknowledge(alert_id, by="amy")
    await service.escalate(alert_id, by="amy")
    again = await service.acknowledge(alert_id, by="desk")
    assert again.acknowledged_by == "desk"
    assert again.acknowledged_at == first.acknowledged_at


async def test_an_escalated_alert_that_clears_waits_for_review(pool: Pool, home: HubHome) -> None:
    service = AlertService(pool, link_key=b"k" * 32)
    alert_id = await service.raise_condition(home, _no_movement())
    await service.escalate(alert_id, by="system")
    cleared = Cleared("hub-arc", AlertKind.NO_MOVEMENT, datetime.now(UTC), "Movement again.")
    await service.clear_condition(home, cleared)
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT status, outcome, details->>'needs_review', escalation_due_at FROM alerts"
            " WHERE id = %s",
            (alert_id,),
        )
        row = await cursor.fetchone()
    assert row == ("escalated", None, "true", None)
    closed = await service.resolve(alert_id, by="desk", outcome=Outcome.CARER_VISITED)
    assert (closed.status, closed.outcome) == ("resolved", "carer_visited")


async def test_an_open_alert_that_clears_still_closes_itself(pool: Pool, home: HubHome) -> None:
    service = AlertService(pool, link_key=b"k" * 32)
    alert_id = await service.raise_condition(home, _no_movement())
    cleared = Cleared("hub-arc", AlertKind.NO_MOVEMENT, datetime.now(UTC), "Movement again.")
    await service.clear_condition(home, cleared)
    async with pool.connection() as conn:
        cursor = await conn.execute("SELECT outcome FROM alerts WHERE id = %s", (alert_id,))
        assert await cursor.fetchone() == ("self_cleared",)


async def test_a_smoke_alarm_needs_a_note_to_close(pool: Pool, home: HubHome) -> None:
    service = AlertService(pool, link_key=b"k" * 32)
    alert_id = await service.raise_alarm(home, _alarm(AlarmKind.SMOKE))
    assert alert_id is not None
    with pytest.raises(ResolutionRefused, match="needs a note"):
        await service.resolve(alert_id, by="desk", outcome=Outcome.FALSE_ALARM)
    with pytest.raises(ResolutionRefused, match="system"):
        await service.resolve(alert_id, by="desk", outcome=Outcome.SELF_CLEARED, note="stopped")
    closed = await service.resolve(
        alert_id, by="desk", outcome=Outcome.FALSE_ALARM, note="Burnt toast; alarm reset."
    )
    assert closed.status == "resolved"


async def test_a_carers_one_tap_link_on_an_emergency_leaves_it_open(
    pool: Pool, home: HubHome, database_url: str
) -> None:
    key = b"k" * 32
    service = AlertService(pool, link_key=key)
    alert_id = await service.raise_alarm(home, _alarm(AlarmKind.FALL))
    assert alert_id is not None
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "INSERT INTO users (username, password_hash, role) VALUES ('amy', 'x', 'carer')"
            " RETURNING id"
        ).fetchone()
    assert row is not None
    expires = datetime.now(UTC) + timedelta(hours=1)
    async with pool.connection() as conn:
        await escalation_sql.store_link(conn, "n1", alert_id, user_id=row[0], expires_at=expires)
    token = make_link(key, alert_id, user_id=row[0], expires_at=expires, nonce="n1")
    tapped = await service.acknowledge_by_link(token)
    assert tapped.status == "open"
    assert [r["by"] for r in tapped.details["responding"]] == ["amy"]

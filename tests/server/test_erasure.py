"""Erasing a resident leaves nothing of them in any table, and her hub stores nothing after."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
from psycopg import sql

from edge.protocol import (
    Alarm,
    AlarmKind,
    Reading,
    ReadingKind,
    ReadingsBatch,
    alarm_topic,
    encode,
    readings_topic,
)
from server.runtime import CarewatchServer
from tests.server.helpers import Publisher, press_pendant, wait_for
from tests.server.people import Home, bearer, make_two_homes


def _traces(database_url: str, home: Home) -> dict[str, int]:
    """Rows in every table that name the resident or her hub, or hold her id."""
    found: dict[str, int] = {}
    with psycopg.connect(database_url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
        ).fetchall()
        assert len(tables) > 15, tables
        for (table,) in tables:
            columns = {
                name
                for (name,) in conn.execute(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = 'public' AND table_name = %s",
                    (table,),
                ).fetchall()
            }
            # The whole row as text: a name or hub id in any column, a payload, a reason.
            condition = sql.SQL("t::text LIKE {name} OR t::text LIKE {hub}").format(
                name=sql.Literal(f"%{home.name}%"), hub=sql.Literal(f"%{home.hub}%")
            )
            if table == "users":
                # Her carer's own account is the carer's, even if an admin named it
                # after her ("Carer of Mrs …"): it stays.
                condition = sql.SQL("({}) AND t.username <> {}").format(
                    condition, sql.Literal(home.carer)
                )
            if "resident_id" in columns:
                condition = sql.SQL("{} OR t.resident_id = {}").format(
                    condition, sql.Literal(home.resident_id)
                )
            query = sql.SQL("SELECT count(*) FROM {table} t WHERE {condition}").format(
                table=sql.Identifier(table), condition=condition
            )
            row = conn.execute(query).fetchone()
            assert row is not None
            if row[0]:
                found[table] = row[0]
    return found


async def _leave_traces(
    server: CarewatchServer, api: httpx.AsyncClient, home: Home, mqtt_url: str
) -> None:
    now = datetime.now(UTC)
    publisher = Publisher(mqtt_url)
    try:
        readings = tuple(
            Reading("hall-pir", ReadingKind.MOTION, now - timedelta(minutes=m), 1.0)
            for m in (30, 20, 10)
        )
        publisher.publish(
            readings_topic(home.hub), encode(ReadingsBatch(home.hub, 1, now, readings))
        )
        # A malformed message: a dead letter under her hub.
        publisher.publish(readings_topic(home.hub), b'{"v": 1, "hub": "' + home.hub.encode())
    finally:
        publisher.close()
    press_pendant(mqtt_url, home.hub)
    # Staff read her record; her own account fails to sign in once.
    assert (await api.get(f"/api/v1/residents/{home.resident_id}")).status_code == 200
    wrong = await api.post(
        "/api/v1/auth/token", data={"username": home.resident_user, "password": "wrong"}
    )
    assert wrong.status_code == 401
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as own:
        own.headers["Authorization"] = f"Bearer {await bearer(own, home.resident_user)}"
        checked_in = await own.post(f"/api/v1/residents/{home.resident_id}/checkin")
        assert checked_in.status_code == 200, checked_in.text


async def test_erasure_leaves_nothing_of_her_and_her_hub_stores_nothing_after(
    server: CarewatchServer, api: httpx.AsyncClient, database_url: str, mqtt_url: str
) -> None:
    homes = await make_two_homes(api)
    edith, arthur = homes.edith, homes.arthur
    await _leave_traces(server, api, edith, mqtt_url)
    await _leave_traces(server, api, arthur, mqtt_url)

    expected = {"readings", "reading_batches", "alarms", "alerts", "dead_letters", "record_reads"}

    async def all_there() -> bool:
        # Both homes' traces: Arthur's are compared before and after, so none of his may
        # still be on their way (readings are committed in groups, a few ms apart).
        return all(expected <= set(_traces(database_url, home)) for home in (edith, arthur))

    await wait_for(all_there, what="their readings, alarms, alerts and dead letters to be stored")
    arthur_before = _traces(database_url, arthur)

    erased = await api.delete(f"/api/v1/residents/{edith.resident_id}")
    assert erased.status_code == 200, erased.text
    assert erased.json()["hubs"] == [edith.hub]
    assert erased.json()["readings"] == 3
    assert _traces(database_url, edith) == {}
    # Arthur is untouched.
    assert _traces(database_url, arthur) == arthur_before
    assert (await api.get(f"/api/v1/residents/{edith.resident_id}")).status_code == 404

    # Her hub speaks again: nothing is stored for her and nothing fails.
    now = datetime.now(UTC)
    publisher = Publisher(mqtt_url)
    try:
        batch = ReadingsBatch(
            edith.hub, 2, now, (Reading("hall-pir", ReadingKind.MOTION, now, 1.0),)
        )
        publisher.publish(readings_topic(edith.hub), encode(batch))
        alarm = Alarm(edith.hub, str(uuid.uuid4()), "pendant", AlarmKind.PENDANT, now)
        publisher.publish(alarm_topic(edith.hub), encode(alarm))
    finally:
        publisher.close()
    press_pendant(mqtt_url, arthur.hub)

    async def arthurs_second_alarm() -> bool:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM alarms WHERE hub_id = %s", (arthur.hub,)
            ).fetchone()
        return row is not None and row[0] == 2

    await wait_for(arthurs_second_alarm, what="Arthur's next alarm, behind hers")
    traces = _traces(database_url, edith)
    # What arrives under her old hub id is refused as from an unknown hub, and only that.
    assert set(traces) <= {"dead_letters"}, traces
    with psycopg.connect(database_url) as conn:
        reasons = conn.execute(
            "SELECT reason FROM dead_letters WHERE hub_id = %s", (edith.hub,)
        ).fetchall()
    assert all("not provisioned" in reason for (reason,) in reasons), reasons
    assert (await api.get("/readyz")).status_code == 200
    assert server.failed() is None


async def test_only_an_admin_erases(server: CarewatchServer, api: httpx.AsyncClient) -> None:
    homes = await make_two_homes(api)
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as carer:
        carer.headers["Authorization"] = f"Bearer {await bearer(carer, homes.edith.carer)}"
        refused = await carer.delete(f"/api/v1/residents/{homes.edith.resident_id}")
    assert refused.status_code == 403
    assert (await api.get(f"/api/v1/residents/{homes.edith.resident_id}")).status_code == 200
    assert (await api.delete("/api/v1/residents/999999999")).status_code == 404

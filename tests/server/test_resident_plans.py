"""Each resident's own response plans through the API, against the real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import psycopg

from server.domain.alerts import AlertKind
from server.domain.plans import plan_for
from server.runtime import CarewatchServer
from tests.server.people import Home, bearer, make_two_homes

FALL_PLAN = ["Ring her daughter first, she lives next door", "Then the warden on 0113 496 0777"]
CONTACTS: dict[str, list[dict[str, Any]]] = {
    "contacts": [
        {"name": "Jo Clarke", "relationship": "daughter", "phone": "020 7946 0011",
         "kind": "next_of_kin", "keyholder": True},
        {"name": "Dr Ahmed", "relationship": "GP", "phone": "0113 496 0999",
         "kind": "professional"},
    ]
}  # fmt: skip


@asynccontextmanager
async def _signed_in(server: CarewatchServer, username: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as client:
        client.headers["Authorization"] = f"Bearer {await bearer(client, username)}"
        yield client


def _plan(plans: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(p for p in plans if p["kind"] == kind)


def _open_alert(database_url: str, home: Home, kind: str) -> str:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "INSERT INTO alerts (resident_id, hub_id, kind, severity, status, event_at, reason)"
            " VALUES (%s, %s, %s, 'emergency', 'open', now(), 'Fall detected') RETURNING id",
            (home.resident_id, home.hub, kind),
        ).fetchone()
    assert row is not None
    return str(row[0])


async def test_her_own_plan_replaces_the_default_and_calls_her_contacts_in_order(
    server: CarewatchServer, api: httpx.AsyncClient, database_url: str
) -> None:
    homes = await make_two_homes(api)
    edith = homes.edith
    base = f"/api/v1/residents/{edith.resident_id}"
    async with (
        _signed_in(server, edith.responder) as desk,
        _signed_in(server, edith.carer) as carer,
    ):
        stored = await desk.put(f"{base}/record/contacts", json=CONTACTS)
        assert stored.status_code == 200, stored.text
        jo, gp = (f"call-contact-{c['id']}" for c in stored.json()["contacts"])

        before = (await desk.get(f"{base}/plans")).json()
        fall = _plan(before, "fall")
        assert (fall["own"], fall["own_steps"]) == (False, [])
        # The default's "call their contacts" became one rung per contact, in call order.
        ids = [s["id"] for s in fall["steps"]]
        assert "call-contacts" not in ids
        assert ids.index(jo) + 1 == ids.index(gp)
        assert fall["default_steps"] == [s.words for s in plan_for(AlertKind.FALL)]

        saved = await desk.put(f"{base}/plans/fall", json={"steps": [*FALL_PLAN, "  "]})
        assert saved.status_code == 200, saved.text
        mine = saved.json()
        assert (mine["own"], mine["own_steps"]) == (True, FALL_PLAN)
        assert [(s["id"], s["words"]) for s in mine["steps"]] == [
            ("own-1", FALL_PLAN[0]),
            ("own-2", FALL_PLAN[1]),
            (jo, "Call Jo Clarke (daughter, has a key)"),
            (gp, "Call Dr Ahmed (GP)"),
            ("record", plan_for(AlertKind.FALL)[-1].words),
        ]
        assert mine["steps"][2]["phone"]["tel"] == "tel:+442079460011"
        assert mine["steps"][0]["phone"] is None
        # Her smoke plan is still the default one.
        assert _plan((await desk.get(f"{base}/plans")).json(), "smoke")["own"] is False

        # A carer sees the plan but not the contacts' numbers, and cannot change it.
        seen = _plan((await carer.get(f"{base}/plans")).json(), "fall")
        assert [s["words"] for s in seen["steps"]][:2] == FALL_PLAN
        assert all(s["phone"] is None for s in seen["steps"])
        refused = await carer.put(f"{base}/plans/fall", json={"steps": ["Do nothing"]})
        assert refused.status_code == 403

        # Ticking checks the step against her checklist, not the kind's default.
        alert = _open_alert(database_url, edith, "fall")
        ok = await desk.post(f"/api/v1/alerts/{alert}/steps", json={"step": jo})
        assert ok.status_code == 200, ok.text
        assert jo in ok.json()["details"]["steps_done"]
        gone = await desk.post(f"/api/v1/alerts/{alert}/steps", json={"step": "do-not-lift"})
        assert gone.status_code == 422
        assert "reload the console" in gone.json()["detail"]
        trail = (await desk.get(f"/api/v1/alerts/{alert}/history")).json()
        assert "Call Jo Clarke (daughter, has a key)" in str(trail)

        # No steps: back to the default plan.
        back = (await desk.put(f"{base}/plans/fall", json={"steps": []})).json()
        assert back["own"] is False
        assert back["steps"][0]["id"] == "call-resident"
        wrong = await desk.put(f"{base}/plans/battery_low", json={"steps": ["Replace it"]})
        assert wrong.status_code == 422
        assert "no response plan" in wrong.json()["detail"]
        other = await desk.get(f"/api/v1/residents/{homes.arthur.resident_id}/plans")
        assert other.status_code == 403

    # Every change is in the record's log, as the care record's are, with who made it.
    with psycopg.connect(database_url) as conn:
        changes = conn.execute(
            "SELECT username, what, allowed FROM record_reads WHERE resident_id = %s"
            " AND what LIKE 'response plan (%%' ORDER BY id",
            (edith.resident_id,),
        ).fetchall()
    assert changes == [
        (edith.responder, "response plan (change: fall)", True),
        (edith.carer, "response plan (change: fall)", False),
        (edith.responder, "response plan (change: fall, back to default)", True),
    ]


async def test_a_tick_stays_on_the_contact_when_the_call_order_changes(
    server: CarewatchServer, api: httpx.AsyncClient, database_url: str
) -> None:
    edith = (await make_two_homes(api)).edith
    base = f"/api/v1/residents/{edith.resident_id}"
    async with _signed_in(server, edith.responder) as desk:
        jo, gp = (await desk.put(f"{base}/record/contacts", json=CONTACTS)).json()["contacts"]
        alert = _open_alert(database_url, edith, "fall")
        ticked = await desk.post(
            f"/api/v1/alerts/{alert}/steps", json={"step": f"call-contact-{jo['id']}"}
        )
        assert ticked.status_code == 200, ticked.text

        # The GP moved first, as the page sends it (with the ids it was given): Jo keeps hers.
        moved = [{**c, "phone": c["phone"]["display"]} for c in (gp, jo)]
        after = (await desk.put(f"{base}/record/contacts", json={"contacts": moved})).json()
        assert [(c["name"], c["id"]) for c in after["contacts"]] == [
            ("Dr Ahmed", gp["id"]),
            ("Jo Clarke", jo["id"]),
        ]
        # Sent without ids (an API client), in the first order again: matched by name.
        again = (await desk.put(f"{base}/record/contacts", json=CONTACTS)).json()
        assert [c["id"] for c in again["contacts"]] == [jo["id"], gp["id"]]
        # Someone new gets an id of her own; an id made up by the sender is not taken.
        ada = {"name": "Ada Cole", "phone": "0113 496 0556", "id": "not-one-of-hers"}
        three = {"contacts": [{**CONTACTS["contacts"][0], "id": jo["id"]}, ada]}
        ids = [
            c["id"]
            for c in (await desk.put(f"{base}/record/contacts", json=three)).json()["contacts"]
        ]
        assert ids[0] == jo["id"]
        assert ids[1] not in (jo["id"], gp["id"], "not-one-of-hers")

        steps = _plan((await desk.get(f"{base}/plans")).json(), "fall")["steps"]
        rung = next(s for s in steps if s["id"] == f"call-contact-{jo['id']}")
        assert rung["words"] == "Call Jo Clarke (daughter, has a key)"
        shown = (await desk.get(f"/api/v1/alerts/{alert}")).json()
        assert shown["details"]["steps_done"] == [rung["id"]]

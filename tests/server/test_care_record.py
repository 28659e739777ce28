"""The care record and contacts through the API, against the real PostgreSQL: who sees and changes what."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from server import demo
from server.domain.record import hazard_list
from server.phones import phone_number
from server.runtime import CarewatchServer
from tests.server.people import Home, TwoHomes, bearer, make_two_homes

RECORD = {
    "phone": "0113 496 0123",
    "address": "14 Larch Close, Leeds LS6 2QT",
    "access_notes": "Side gate; the front door sticks, push hard.",
    "key_safe_code": "C4471",
    "medical_summary": "Type 2 diabetes; hip replacement 2024.",
    "allergies": "Penicillin",
    "medication": "Metformin 500 mg twice a day",
    "resuscitation": "respect",
    "resuscitation_form_at": "On the fridge door",
    "hazards": ["Dog (friendly)", "Oxygen in use: no smoking", "dog (friendly)"],
    "language": "English; some Welsh",
    "hearing_sight": "Hard of hearing: knock loudly",
}

CONTACTS: dict[str, list[dict[str, Any]]] = {
    "contacts": [
        {
            "name": "Jo Clarke",
            "relationship": "daughter",
            "phone": "020 7946 0011",
            "kind": "next_of_kin",
            "keyholder": True,
        },
        {
            "name": "Peter Moss",
            "relationship": "neighbour at no. 16",
            "phone": "+44 113 496 0456",
            "kind": "neighbour",
            "keyholder": True,
        },
        {
            "name": "Dr Ahmed",
            "relationship": "GP, Larch Surgery",
            "phone": "0113 496 0999",
            "kind": "professional",
        },
    ]
}


class People:
    """Edith's responder, carer and Edith herself, each with a client of their own."""

    def __init__(self, server: CarewatchServer, homes: TwoHomes) -> None:
        self.server = server
        self.homes = homes
        self.clients: dict[str, httpx.AsyncClient] = {}

    async def as_(self, role: str) -> httpx.AsyncClient:
        if role not in self.clients:
            home = self.homes.edith
            username = {
                "responder": home.responder,
                "carer": home.carer,
                "resident": home.resident_user,
            }[role]
            client = httpx.AsyncClient(base_url=self.server.http_url, timeout=10)
            client.headers["Authorization"] = f"Bearer {await bearer(client, username)}"
            self.clients[role] = client
        return self.clients[role]


@pytest.fixture
async def world(server: CarewatchServer, api: httpx.AsyncClient) -> Any:
    homes = await make_two_homes(api)
    everyone = People(server, homes)
    try:
        yield everyone
    finally:
        for client in everyone.clients.values():
            await client.aclose()


def _reads(database_url: str, home: Home, what: str) -> list[tuple[str, bool]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT username, allowed FROM record_reads WHERE resident_id = %s AND what = %s"
            " ORDER BY id",
            (home.resident_id, what),
        ).fetchall()
    return [(username, allowed) for username, allowed in rows]


async def test_a_responder_fills_the_record_and_the_code_stays_out_of_it(
    world: People, database_url: str
) -> None:
    desk = await world.as_("responder")
    edith = world.homes.edith
    saved = await desk.put(f"/api/v1/residents/{edith.resident_id}/record", json=RECORD)
    assert saved.status_code == 200, saved.text
    got = (await desk.get(f"/api/v1/residents/{edith.resident_id}/record")).json()
    assert got["phone"] == {
        "e164": "+441134960123",
        "display": "0113 496 0123",
        "tel": "tel:+441134960123",
    }
    assert got["hazards"] == ["Dog (friendly)", "Oxygen in use: no smoking"]
    assert got["access"] == {
        "notes": "Side gate; the front door sticks, push hard.",
        "has_key_safe_code": True,
    }
    # make_home's resident has not agreed to share health notes with responders.
    assert got["health"] is None
    assert (got["may_edit"], got["may_reveal_key_safe"]) == (True, True)
    for body in (saved.text, (await desk.get(f"/api/v1/residents/{edith.resident_id}")).text):
        assert "C4471" not in body
    # Every look and change is in the read log, the change with the fields' names only.
    assert _reads(database_url, edith, "care record") == [(edith.responder, True)]
    with psycopg.connect(database_url) as conn:
        changes = conn.execute(
            "SELECT what FROM record_reads WHERE resident_id = %s AND what LIKE 'care record (%%'",
            (edith.resident_id,),
        ).fetchall()
    assert len(changes) == 1
    assert "allergies" in changes[0][0]
    assert "key_safe_code" in changes[0][0]
    assert "Penicillin" not in changes[0][0]

    # Fields left out stay as they are, the code too; '' removes them.
    url = f"/api/v1/residents/{edith.resident_id}/record"
    changed = (await desk.put(url, json={"allergies": "Penicillin, latex"})).json()
    assert changed["phone"]["e164"] == "+441134960123"
    assert changed["access"]["has_key_safe_code"] is True
    code = (await desk.post(f"{url}/key-safe")).json()
    assert code["code"] == "C4471"
    removed = (await desk.put(url, json={"key_safe_code": "", "phone": ""})).json()
    assert removed["phone"] is None
    assert removed["access"]["has_key_safe_code"] is False


async def test_health_with_consent_and_the_resident_always(world: People) -> None:
    desk, edith_herself = await world.as_("responder"), await world.as_("resident")
    url = f"/api/v1/residents/{world.homes.edith.resident_id}/record"
    assert (await desk.put(url, json=RECORD)).status_code == 200
    own = (await edith_herself.get(url)).json()
    assert own["health"]["resuscitation"] == "respect"
    assert own["health"]["resuscitation_words"] == "ReSPECT form in place"
    assert own["access"] is None
    assert own["may_edit"] is False
    agreed = await edith_herself.put(
        f"/api/v1/residents/{world.homes.edith.resident_id}/choices",
        json={"share_health_notes": True, "share_activity_with_carers": True},
    )
    assert agreed.status_code == 200, agreed.text
    health = (await desk.get(url)).json()["health"]
    assert health == {
        "medical_summary": "Type 2 diabetes; hip replacement 2024.",
        "allergies": "Penicillin",
        "medication": "Metformin 500 mg twice a day",
        "resuscitation": "respect",
        "resuscitation_words": "ReSPECT form in place",
        "resuscitation_form_at": "On the fridge door",
    }


async def test_a_carer_reads_the_essentials_and_changes_nothing(
    world: People, database_url: str
) -> None:
    desk, carer = await world.as_("responder"), await world.as_("carer")
    edith = world.homes.edith
    url = f"/api/v1/residents/{edith.resident_id}/record"
    assert (await desk.put(url, json=RECORD)).status_code == 200
    assert (await desk.put(f"{url}/contacts", json=CONTACTS)).status_code == 200
    seen = (await carer.get(url)).json()
    assert seen["phone"]["tel"] == "tel:+441134960123"
    assert seen["hazards"][0] == "Dog (friendly)"
    assert (seen["access"], seen["health"]) == (None, None)
    assert [c["name"] for c in seen["contacts"]] == ["Jo Clarke", "Peter Moss", "Dr Ahmed"]
    assert all(c["phone"] is None for c in seen["contacts"])
    assert (await carer.put(url, json={"allergies": "none"})).status_code == 403
    assert (await carer.put(f"{url}/contacts", json=CONTACTS)).status_code == 403
    refused = await carer.post(f"{url}/key-safe")
    assert refused.status_code == 403
    assert "logged" in refused.json()["detail"]
    assert _reads(database_url, edith, "key safe code") == [(edith.carer, False)]


async def test_showing_the_key_safe_code_is_logged_with_who(
    world: People, database_url: str
) -> None:
    desk = await world.as_("responder")
    edith, arthur = world.homes.edith, world.homes.arthur
    url = f"/api/v1/residents/{edith.resident_id}/record"
    assert (await desk.put(url, json=RECORD)).status_code == 200
    assert _reads(database_url, edith, "key safe code") == []
    shown = await desk.post(f"{url}/key-safe")
    assert shown.status_code == 200, shown.text
    assert shown.json()["code"] == "C4471"
    assert _reads(database_url, edith, "key safe code") == [(edith.responder, True)]
    # Another service's resident: refused, and that is logged on his record.
    other = await desk.post(f"/api/v1/residents/{arthur.resident_id}/record/key-safe")
    assert other.status_code == 403
    assert _reads(database_url, arthur, "key safe code") == [(edith.responder, False)]


async def test_contacts_keep_their_call_order_and_logins(
    world: People, api: httpx.AsyncClient
) -> None:
    desk = await world.as_("responder")
    edith = world.homes.edith
    url = f"/api/v1/residents/{edith.resident_id}/record/contacts"
    with_login = {
        "contacts": [
            {**CONTACTS["contacts"][2]},
            {**CONTACTS["contacts"][0], "username": edith.carer},
        ]
    }
    saved = await desk.put(url, json=with_login)
    assert saved.status_code == 200, saved.text
    listed = saved.json()["contacts"]
    assert [(c["position"], c["name"], c["username"]) for c in listed] == [
        (1, "Dr Ahmed", None),
        (2, "Jo Clarke", edith.carer),
    ]
    assert listed[1]["phone"]["tel"] == "tel:+442079460011"
    assert listed[1]["keyholder"] is True
    unknown = await desk.put(
        url, json={"contacts": [{**CONTACTS["contacts"][0], "username": "nobody-here"}]}
    )
    assert unknown.status_code == 422
    assert "nobody-here" in unknown.text
    # Erasing the resident takes the contacts with them.
    assert (await api.delete(f"/api/v1/residents/{edith.resident_id}")).status_code == 200


# Each refused change, and words of the answer that say what to change.
REFUSED = (
    ({"phone": "12345"}, "not a phone number"),
    ({"phone": "not a number"}, "not a phone number"),
    ({"resuscitation": "maybe"}, "dnacpr"),
    ({"resuscitation": "none", "resuscitation_form_at": "in the hall"}, "choose which"),
    ({"hazards": ["x" * 201]}, "at most 200"),
)


async def test_what_is_refused_says_what_to_change(world: People) -> None:
    desk = await world.as_("responder")
    url = f"/api/v1/residents/{world.homes.edith.resident_id}/record"
    assert (await desk.put(url, json=RECORD)).status_code == 200
    for change, words in REFUSED:
        refused = await desk.put(url, json=change)
        assert refused.status_code == 422, (change, refused.text)
        assert words in refused.text, (change, refused.text)
    # Nothing of a refused change was kept.
    assert (await desk.get(url)).json()["phone"]["e164"] == "+441134960123"


def test_phone_numbers_are_kept_in_one_form() -> None:
    assert phone_number("020 7946 0011") == phone_number("+44 (0)20 7946 0011") == "+442079460011"
    assert phone_number("+33 1 23 45 67 89") == "+33123456789"
    with pytest.raises(ValueError, match="not a phone number"):
        phone_number("0113 496")


def test_hazards_at_most_twenty() -> None:
    assert len(hazard_list(f"hazard {i}" for i in range(20))) == 20
    with pytest.raises(ValueError, match="at most 20"):
        hazard_list(f"hazard {i}" for i in range(21))


async def test_the_demo_residents_have_records_and_contacts(server: CarewatchServer) -> None:
    async with server.pool.connection() as conn:
        resident_ids = await demo._reset_demo_homes(conn, 4)
        await demo._demo_people(conn, "a-long-demo-password", resident_ids)
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as desk:
        token = await desk.post(
            "/api/v1/auth/token", data={"username": "desk", "password": "a-long-demo-password"}
        )
        desk.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        edith = (await desk.get(f"/api/v1/residents/{resident_ids[0]}/record")).json()
        shown = (await desk.post(f"/api/v1/residents/{resident_ids[0]}/record/key-safe")).json()
        plans = (await desk.get(f"/api/v1/residents/{resident_ids[0]}/plans")).json()
        shift = (await desk.get("/api/v1/shift")).json()
    # Her own fall plan, then her contacts as rungs dialling them; a pendant is the default.
    # (Her fall reaches the console as a no-movement alert: that plan is hers too.)
    for kind in ("fall", "no_movement"):
        own = next(p for p in plans if p["kind"] == kind)
        assert own["own"] is True
        assert "daughter Jo first" in own["steps"][1]["words"]
        rungs = [s for s in own["steps"] if s["id"].startswith("call-contact-")]
        assert [s["phone"]["tel"] for s in rungs] == [c["phone"]["tel"] for c in edith["contacts"]]
    assert next(p for p in plans if p["kind"] == "pendant")["own"] is False
    # The desk is on duty with its phone, so the demo's alarms reach someone.
    assert [(c["username"], c["phone"]) for c in shift["on_duty"]] == [
        ("desk", demo.DEMO_DESK_PHONE)
    ]
    assert edith["phone"]["tel"] == "tel:+441134960101"
    assert edith["health"]["resuscitation"] == "respect"
    assert edith["hazards"]
    first = edith["contacts"][0]
    assert (first["name"], first["username"]) == ("Jo Clarke", "carer")
    assert all(c["phone"]["tel"].startswith("tel:+44") for c in edith["contacts"])
    assert shown["code"] == "4471"

"""Two homes in two services, with everyone who signs in to them, made through the admin API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from tests.server.helpers import unique_hub

PASSWORD = "a-long-test-password"


@dataclass(frozen=True, slots=True)
class Home:
    """A resident, their hub, and the people who may see them."""

    resident_id: int
    name: str
    hub: str
    carer: str
    resident_user: str
    responder: str


@dataclass(frozen=True, slots=True)
class TwoHomes:
    """Edith's home (service north) and Arthur's (service south)."""

    edith: Home
    arthur: Home


async def _created(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def make_home(admin: httpx.AsyncClient, name: str, service: str, *, tag: str) -> Home:
    """Resident, hub, carer on the ladder, the resident's own account, a responder of the service."""
    resident = await _created(
        await admin.post(
            "/api/v1/residents",
            json={"name": name, "service": service, "address": f"1 {tag} Road, Leeds"},
        )
    )
    resident_id = int(str(resident["id"]))
    hub = unique_hub()
    await _created(await admin.post("/api/v1/hubs", json={"hub": hub, "resident": name}))
    patch = await admin.patch(
        f"/api/v1/residents/{resident_id}",
        json={"access_info": f"key safe by the door, code {tag[:4]}", "health_notes": "diabetic"},
    )
    assert patch.status_code == 200, patch.text
    carer, resident_user, responder = f"carer-{tag}", f"resident-{tag}", f"desk-{tag}"
    for body in (
        {"username": carer, "role": "carer", "display_name": f"Carer of {name}"},
        {"username": resident_user, "role": "resident", "resident_id": resident_id},
        {"username": responder, "role": "responder", "service": service},
    ):
        await _created(await admin.post("/api/v1/users", json={**body, "password": PASSWORD}))
    ladder = await admin.put(f"/api/v1/residents/{resident_id}/carers", json={"carers": [carer]})
    assert ladder.status_code == 200, ladder.text
    return Home(resident_id, name, hub, carer, resident_user, responder)


async def make_two_homes(admin: httpx.AsyncClient) -> TwoHomes:
    """Edith Clarke in the north service, Arthur Bell in the south."""
    suffix = uuid.uuid4().hex[:6]
    return TwoHomes(
        edith=await make_home(admin, f"Mrs Edith Clarke {suffix}", "north", tag=f"e{suffix}"),
        arthur=await make_home(admin, f"Mr Arthur Bell {suffix}", "south", tag=f"a{suffix}"),
    )


async def add_carer(
    admin: httpx.AsyncClient, username: str, name: str, *, ladder_of: Home | None = None
) -> None:
    """A carer who signs in with PASSWORD; put last on ``ladder_of``'s ladder, if given."""
    await _created(
        await admin.post(
            "/api/v1/users",
            json={
                "username": username,
                "role": "carer",
                "display_name": name,
                "password": PASSWORD,
            },
        )
    )
    if ladder_of is not None:
        record = (await admin.get(f"/api/v1/residents/{ladder_of.resident_id}")).json()
        carers = [c["username"] for c in record["contacts"]] + [username]
        ladder = await admin.put(
            f"/api/v1/residents/{ladder_of.resident_id}/carers", json={"carers": carers}
        )
        assert ladder.status_code == 200, ladder.text


async def bearer(client: httpx.AsyncClient, username: str) -> str:
    """A bearer token for one of the people made here."""
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token

"""The admin's accounts and records over the API: who signs in, and refusals that say why."""

from __future__ import annotations

import httpx

from tests.server.people import PASSWORD, make_home


async def test_accounts_are_listed_and_a_residents_second_account_is_refused(
    admin_api: httpx.AsyncClient,
) -> None:
    home = await make_home(admin_api, "Mrs Ada Lane", "north", tag="adalane")
    listed = (await admin_api.get("/api/v1/users")).json()
    mine = {u["username"]: u for u in listed}
    assert mine["resident-adalane"]["resident_id"] == home.resident_id
    assert mine["desk-adalane"]["service"] == "north"
    assert mine["carer-adalane"]["display_name"] == "Carer of Mrs Ada Lane"
    assert [u["username"] for u in listed] == sorted(u["username"] for u in listed)
    assert all("password" not in str(u) for u in listed)

    again = await admin_api.post(
        "/api/v1/users",
        json={
            "username": "ada-2",
            "role": "resident",
            "resident_id": home.resident_id,
            "password": PASSWORD,
        },
    )
    assert again.status_code == 409, again.text
    assert "already has an account" in again.text
    nobody = await admin_api.post(
        "/api/v1/users",
        json={"username": "ghost", "role": "resident", "resident_id": 987654, "password": PASSWORD},
    )
    assert nobody.status_code == 422, nobody.text
    assert "no resident 987654" in nobody.text


async def test_a_resident_cannot_be_renamed_to_another_residents_name(
    admin_api: httpx.AsyncClient,
) -> None:
    ada = await make_home(admin_api, "Mrs Ada Stone", "north", tag="adastone")
    await make_home(admin_api, "Mr Ben Stone", "north", tag="benstone")
    clash = await admin_api.patch(
        f"/api/v1/residents/{ada.resident_id}", json={"name": "Mr Ben Stone"}
    )
    assert clash.status_code == 409, clash.text
    renamed = await admin_api.patch(
        f"/api/v1/residents/{ada.resident_id}", json={"name": "Mrs Ada Stone-Grey"}
    )
    assert renamed.status_code == 200, renamed.text
    hubs = (await admin_api.get("/api/v1/hubs")).json()
    assert {h["hub"]: h["resident"] for h in hubs}[ada.hub] == "Mrs Ada Stone-Grey"

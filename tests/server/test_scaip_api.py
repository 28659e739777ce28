"""``/api/v1/scaip-units``: admins add, move, list and remove social-alarm units."""

from __future__ import annotations

import httpx

from tests.server.helpers import provision


async def test_a_unit_is_added_moved_listed_and_removed(
    admin_api: httpx.AsyncClient, database_url: str
) -> None:
    provision(database_url, "hub-api-1", "Ada")
    provision(database_url, "hub-api-2", "Bea")
    put = await admin_api.put(
        "/api/v1/scaip-units/4711", json={"resident": "Ada", "hub": "hub-api-1"}
    )
    assert put.status_code == 200, put.text
    moved = await admin_api.put(
        "/api/v1/scaip-units/4711", json={"resident": "Bea", "heartbeat_s": 3600}
    )
    assert moved.status_code == 200, moved.text
    listed = (await admin_api.get("/api/v1/scaip-units")).json()
    assert [(u["unit"], u["resident"], u["hub"], u["heartbeat_s"]) for u in listed] == [
        ("4711", "Bea", None, 3600)
    ]
    assert (await admin_api.delete("/api/v1/scaip-units/4711")).status_code == 204
    assert (await admin_api.delete("/api/v1/scaip-units/4711")).status_code == 404


async def test_a_wrong_resident_hub_or_unit_id_is_refused(
    admin_api: httpx.AsyncClient, database_url: str
) -> None:
    provision(database_url, "hub-api-3", "Cy")
    nobody = await admin_api.put("/api/v1/scaip-units/4712", json={"resident": "Nobody"})
    assert nobody.status_code == 404
    assert "Nobody" in nobody.text
    no_hub = await admin_api.put(
        "/api/v1/scaip-units/4712", json={"resident": "Cy", "hub": "hub-none"}
    )
    assert no_hub.status_code == 404
    assert "hub-none" in no_hub.text
    bad = await admin_api.put("/api/v1/scaip-units/not-digits", json={"resident": "Cy"})
    assert bad.status_code == 422

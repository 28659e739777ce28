"""``/api/v1/arc-accounts``: admins set a service's ARC account; the key is never read back."""

from __future__ import annotations

import httpx

from server.runtime import CarewatchServer

KEY = "ABCDEF0123456789"


async def test_an_account_is_set_listed_without_its_key_and_removed(
    admin_api: httpx.AsyncClient, quick_server: CarewatchServer
) -> None:
    body = {
        "account": "0a12",
        "primary": {"host": "arc1.example", "port": 5000},
        "backup": {"host": "10.0.0.2", "port": 5001},
        "key": KEY,
        "urgent_kinds": ["not_up"],
        "supervision_s": 90,
    }
    put = await admin_api.put("/api/v1/arc-accounts/north", json=body)
    assert put.status_code == 200, put.text
    listed = await admin_api.get("/api/v1/arc-accounts")
    assert listed.status_code == 200
    for answer in (put, listed):
        assert KEY not in answer.text
    (north,) = listed.json()
    assert north["service"] == "north"
    assert north["account"] == "0A12"
    assert north["encrypted"] is True
    assert north["urgent_kinds"] == ["not_up"]
    assert north["backup"] == {"host": "10.0.0.2", "port": 5001}
    async with quick_server.pool.connection() as conn:
        cursor = await conn.execute("SELECT encryption_key FROM arc_accounts")
        assert await cursor.fetchall() == [(KEY,)]

    assert (await admin_api.delete("/api/v1/arc-accounts/north")).status_code == 204
    assert (await admin_api.delete("/api/v1/arc-accounts/north")).status_code == 404
    assert (await admin_api.get("/api/v1/arc-accounts")).json() == []


async def test_bad_keys_kinds_and_accounts_are_refused(admin_api: httpx.AsyncClient) -> None:
    good = {"account": "0A12", "primary": {"host": "arc1.example", "port": 5000}}
    for change in (
        {"key": "too short"},
        {"urgent_kinds": ["pendant"]},  # an emergency: always sent, not a choice
        {"urgent_kinds": ["battery_low"]},  # an advisory: never sent
        {"account": "not-hex"},
        {"primary": {"host": "arc1.example", "port": 0}},
    ):
        answer = await admin_api.put("/api/v1/arc-accounts/north", json=good | change)
        assert answer.status_code == 422, (change, answer.text)
    assert (await admin_api.get("/api/v1/arc-accounts")).json() == []

"""Passwords: your own change, an admin's one-time link, and a sign-in that gives no account away."""

from __future__ import annotations

import statistics
import time

import httpx
import pytest

from server.runtime import CarewatchServer
from tests.server.people import PASSWORD, bearer, make_two_homes


async def _sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )


async def test_a_changed_password_ends_other_sign_ins_and_the_old_one_stops_working(
    quick_server: CarewatchServer, admin_api: httpx.AsyncClient
) -> None:
    jo = (await make_two_homes(admin_api)).edith.carer
    async with httpx.AsyncClient(base_url=quick_server.http_url, timeout=10) as client:
        other_phone = await bearer(client, jo)
        client.headers["Authorization"] = f"Bearer {await bearer(client, jo)}"
        wrong = await client.put(
            "/api/v1/me/password",
            json={"current_password": "not-her-password", "new_password": "a-new-long-password"},
        )
        assert wrong.status_code == 400
        assert "current password is not right" in wrong.json()["detail"]
        short = await client.put(
            "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "short"}
        )
        assert short.status_code == 422
        changed = await client.put(
            "/api/v1/me/password",
            json={"current_password": PASSWORD, "new_password": "a-new-long-password"},
        )
        assert changed.status_code == 204, changed.text
        client.headers["Authorization"] = f"Bearer {other_phone}"
        assert (await client.get("/api/v1/me")).status_code == 401
        assert (await _sign_in(client, jo, PASSWORD)).status_code == 401
        assert (await _sign_in(client, jo, "a-new-long-password")).status_code == 200


async def test_a_reset_link_works_once_and_a_disabled_account_cannot_sign_in(
    quick_server: CarewatchServer, admin_api: httpx.AsyncClient
) -> None:
    jo = (await make_two_homes(admin_api)).edith.carer
    first = (await admin_api.post(f"/api/v1/users/{jo}/reset-link")).json()
    issued = await admin_api.post(f"/api/v1/users/{jo}/reset-link")
    assert issued.status_code == 201, issued.text
    url = issued.json()["url"]
    assert url.startswith(f"{quick_server.http_url}/reset#")
    token = url.split("#", 1)[1]
    async with httpx.AsyncClient(base_url=quick_server.http_url, timeout=10) as client:
        stale = await client.post(
            "/api/v1/auth/reset",
            json={"token": first["url"].split("#", 1)[1], "new_password": "reset-long-password"},
        )
        assert stale.status_code == 400  # a newer link replaced it
        done = await client.post(
            "/api/v1/auth/reset", json={"token": token, "new_password": "reset-long-password"}
        )
        assert done.status_code == 204, done.text
        again = await client.post(
            "/api/v1/auth/reset", json={"token": token, "new_password": "another-long-password"}
        )
        assert again.status_code == 400
        assert "used or has expired" in again.json()["detail"]
        assert (await _sign_in(client, jo, "reset-long-password")).status_code == 200
    missing = await admin_api.post("/api/v1/users/nobody-at-all/reset-link")
    assert missing.status_code == 404


@pytest.mark.real_passwords  # timed: a made-up name must cost a real argon2 run
async def test_sign_in_answers_a_made_up_name_as_it_answers_a_wrong_password(
    quick_server: CarewatchServer, admin_api: httpx.AsyncClient
) -> None:
    jo = (await make_two_homes(admin_api)).edith.carer

    async def timed(username: str) -> tuple[float, httpx.Response]:
        async with httpx.AsyncClient(base_url=quick_server.http_url, timeout=10) as client:
            start = time.perf_counter()
            answer = await _sign_in(client, username, "wrong-password-here")
            return time.perf_counter() - start, answer

    known, unknown = [], []
    for i in range(3):
        spent, answer = await timed(jo)
        known.append(spent)
        assert answer.status_code == 401
        spent, made_up = await timed(f"nobody-{i}-{jo}")
        unknown.append(spent)
        assert made_up.status_code == 401
        assert made_up.json() == answer.json()
    # Both run argon2: a made-up name is not answered in a fraction of the time.
    assert statistics.median(unknown) > 0.5 * statistics.median(known), (known, unknown)

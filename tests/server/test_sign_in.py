"""Signing in: session cookies with CSRF for the pages, and a limit on password guessing."""

from __future__ import annotations

import httpx

from server.runtime import CarewatchServer
from tests.server.helpers import ADMIN_PASSWORD, running_server
from tests.server.people import PASSWORD, make_two_homes


async def test_a_page_session_needs_its_csrf_token_for_changes(
    server: CarewatchServer, api: httpx.AsyncClient
) -> None:
    homes = await make_two_homes(api)
    edith = homes.edith
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as browser:
        signed_in = await browser.post(
            "/api/v1/auth/session", data={"username": edith.resident_user, "password": PASSWORD}
        )
        assert signed_in.status_code == 200, signed_in.text
        cookie = signed_in.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        csrf = signed_in.json()["csrf_token"]
        assert signed_in.json()["home_page"] == "/me"

        # Reading needs only the cookie; changing needs the token too.
        assert (await browser.get(f"/api/v1/residents/{edith.resident_id}")).status_code == 200
        forged = await browser.post(f"/api/v1/residents/{edith.resident_id}/checkin")
        assert forged.status_code == 403
        assert "X-CSRF-Token" in forged.json()["detail"]
        wrong = await browser.post(
            f"/api/v1/residents/{edith.resident_id}/checkin", headers={"X-CSRF-Token": "guess"}
        )
        assert wrong.status_code == 403
        odd = await browser.post(
            f"/api/v1/residents/{edith.resident_id}/checkin",
            headers={b"X-CSRF-Token": "caf\u00e9".encode("latin-1")},
        )
        assert odd.status_code == 403  # not a 500: a header is not always ASCII
        ok = await browser.post(
            f"/api/v1/residents/{edith.resident_id}/checkin", headers={"X-CSRF-Token": csrf}
        )
        assert ok.status_code == 200, ok.text

        # Signing out ends the session on the server, whatever the browser keeps.
        stolen = browser.cookies.get("carewatch_session")
        out = await browser.delete("/api/v1/auth/session", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 204
    async with httpx.AsyncClient(
        base_url=server.http_url, timeout=10, cookies={"carewatch_session": stolen or ""}
    ) as replay:
        assert (await replay.get("/api/v1/me")).status_code == 401
        assert (await replay.get("/me", follow_redirects=False)).status_code == 303


async def test_password_guessing_is_slowed_per_account(server: CarewatchServer) -> None:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as client:
        for _ in range(5):
            wrong = await client.post(
                "/api/v1/auth/token", data={"username": "admin", "password": "not-it"}
            )
            assert wrong.status_code == 401
        blocked = await client.post(
            "/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD}
        )
        assert blocked.status_code == 429
        assert 250 < int(blocked.headers["Retry-After"]) <= 301
        # The page's sign-in is the same door.
        page = await client.post(
            "/api/v1/auth/session", data={"username": "admin", "password": ADMIN_PASSWORD}
        )
        assert page.status_code == 429
        # Another account is not locked by guesses at this one.
        other = await client.post(
            "/api/v1/auth/token", data={"username": "someone-else", "password": "x"}
        )
        assert other.status_code == 401


async def test_guesses_at_made_up_names_do_not_lock_the_real_accounts_behind_one_address(
    server: CarewatchServer, api: httpx.AsyncClient
) -> None:
    homes = await make_two_homes(api)
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as client:
        # A whole ARC shift behind one address; someone tries 30 made-up names.
        answers = [
            (
                await client.post(
                    "/api/v1/auth/token", data={"username": f"made-up-{i}", "password": "x"}
                )
            ).status_code
            for i in range(30)
        ]
        assert answers[:20] == [401] * 20
        assert set(answers[20:]) == {429}  # more made-up names wait
        for username in (homes.edith.responder, homes.arthur.responder, "admin"):
            password = ADMIN_PASSWORD if username == "admin" else PASSWORD
            signed_in = await client.post(
                "/api/v1/auth/token", data={"username": username, "password": password}
            )
            assert signed_in.status_code == 200, (username, signed_in.text)


async def test_the_guessing_limit_holds_across_a_restart_and_between_processes(
    database_url: str, mqtt_url: str
) -> None:
    """Kept in the database: a second server (or the same one restarted) sees the same count."""

    async def wrong_guesses(server: CarewatchServer, count: int) -> None:
        async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as client:
            for _ in range(count):
                wrong = await client.post(
                    "/api/v1/auth/token", data={"username": "admin", "password": "not-it"}
                )
                assert wrong.status_code == 401

    async with running_server(database_url, mqtt_url) as first:
        await wrong_guesses(first, 3)
    async with running_server(database_url, mqtt_url) as second:
        await wrong_guesses(second, 2)
        async with httpx.AsyncClient(base_url=second.http_url, timeout=10) as client:
            blocked = await client.post(
                "/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD}
            )
            assert blocked.status_code == 429
            # Another account from the same address is not locked (the address limit is 20).
            other = await client.post(
                "/api/v1/auth/token", data={"username": "someone-else", "password": "x"}
            )
            assert other.status_code == 401

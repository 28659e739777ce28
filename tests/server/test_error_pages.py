"""A missing or failed page: a page for a browser, JSON for a program."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from server.api.error_pages import install_error_pages
from server.runtime import CarewatchServer

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


async def test_a_browser_gets_a_page_for_a_missing_page_and_a_program_gets_json(
    server: CarewatchServer,
) -> None:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as client:
        page = await client.get("/no-such-page", headers={"Accept": BROWSER})
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert "<h1>Page not found</h1>" in page.text
        assert 'href="/"' in page.text
        # The site's policy still holds on the error page.
        assert "default-src 'self'" in page.headers["content-security-policy"]
        program = await client.get("/no-such-page")
        assert program.status_code == 404
        assert program.json() == {"detail": "Not Found"}
        # Under /api/ always JSON, even for a browser.
        api = await client.get("/api/v1/no-such-thing", headers={"Accept": BROWSER})
        assert api.status_code == 404
        assert api.json() == {"detail": "Not Found"}
        # Any other error of a route (here: not signed in) keeps its JSON.
        unauthorised = await client.get("/api/v1/alerts", headers={"Accept": BROWSER})
        assert unauthorised.status_code == 401
        assert "detail" in unauthorised.json()
        missing_file = await client.get("/static/no-such.css", headers={"Accept": BROWSER})
        assert missing_file.status_code == 404
        assert "Page not found" in missing_file.text


async def test_a_failure_is_a_page_for_a_browser_and_json_for_a_program() -> None:
    app = FastAPI()
    install_error_pages(app)

    @app.get("/broken")
    @app.get("/api/v1/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        page = await client.get("/broken", headers={"Accept": BROWSER})
        assert page.status_code == 500
        assert "<h1>Something went wrong on our side</h1>" in page.text
        assert "a bug" not in page.text  # nothing of the server's insides
        program = await client.get("/api/v1/broken", headers={"Accept": BROWSER})
        assert program.status_code == 500
        assert program.json() == {"detail": "internal server error"}

"""Debian's Chromium driven by Playwright; skipped, saying how to enable it, where missing."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright
from pydantic import SecretStr

from server.runtime import CarewatchServer
from server.settings import ServerSettings
from tests.server.helpers import ADMIN_PASSWORD, forget_session, token

CHROMIUM = Path(os.environ.get("CAREWATCH_CHROMIUM", "/usr/bin/chromium"))
# Without these, Chromium's background requests fail on a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():  # noqa: ASYNC240 - one stat at set-up
        message = (
            f"browser tests need Chromium at {CHROMIUM}: install it with "
            "'apt-get install chromium' (or set CAREWATCH_CHROMIUM to its path)"
        )
        if os.environ.get("CAREWATCH_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def quick_server(database_url: str, mqtt_url: str) -> AsyncIterator[CarewatchServer]:
    """A server that reads "away" and saves what it learned five times a second."""
    client_id = f"carewatch-browser-test-{uuid.uuid4().hex[:8]}"
    settings = ServerSettings(
        http_port=0,
        admin_password=SecretStr(ADMIN_PASSWORD),
        mqtt_client_id=client_id,
        detector_checkpoint_s=0.2,
    )
    async with CarewatchServer(settings, database_url=database_url, mqtt_url=mqtt_url) as running:
        yield running
    forget_session(mqtt_url, client_id)


@pytest.fixture
async def admin_api(quick_server: CarewatchServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=quick_server.http_url, timeout=10) as client:
        client.headers["Authorization"] = f"Bearer {await token(client)}"
        yield client


async def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Through the sign-in page, as a person would."""
    await page.goto(base_url)
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def screenshot(page: Page, name: str) -> None:
    """Keep a picture of the page for docs/ when CAREWATCH_SCREENSHOTS names a folder."""
    folder = os.environ.get("CAREWATCH_SCREENSHOTS")
    if folder:
        await page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

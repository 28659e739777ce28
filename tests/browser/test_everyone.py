"""What every visitor meets: the API's reference pages, error pages, both colour themes."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, ConsoleMessage, expect

from server.runtime import CarewatchServer

pytestmark = pytest.mark.browser


async def test_the_api_reference_renders_its_operations_under_the_sites_policy(
    browser: Browser, server: CarewatchServer
) -> None:
    page = await browser.new_page()
    refused: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # ReDoc's credit logo comes from its makers' CDN: refused, and not missed.
        if "cdn.redoc.ly" in message.text:
            return
        if "Content Security Policy" in message.text or message.type == "error":
            refused.append(f"{page.url}: {message.text} {message.location}")

    page.on("console", on_console)
    await page.goto(f"{server.http_url}/docs")
    # An operation of each kind the API has, as Swagger UI lists them.
    await expect(
        page.locator(".opblock-summary-path", has_text="/api/v1/alerts").first
    ).to_be_visible()
    await expect(page.get_by_text("POST/api/v1/auth/token", exact=False).first).to_be_visible()
    await page.goto(f"{server.http_url}/redoc")
    await expect(page.get_by_role("heading", name="carewatch", exact=False).first).to_be_visible()
    await expect(page.locator("[data-section-id^='operation/']").first).to_be_attached()
    assert refused == [], "\n".join(refused)

"""Debian's Chromium driven by Playwright; skipped, saying how to enable it, where missing."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

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


# axe-core (MPL-2.0, vendored unchanged from npm) checks a rendered page against WCAG 2.2 A and AA.
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


async def accessibility_problems(page: Page) -> list[str]:
    """What axe finds on the page as it is now, one line per rule and element."""
    # Evaluated through the DevTools protocol, so the pages' own CSP still applies to them.
    await page.evaluate(AXE.read_text())
    result = await page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_AA,
    )
    return [
        f"{violation['id']} ({violation['impact']}): {node['target']} - {violation['help']}"
        for violation in result["violations"]
        for node in violation["nodes"]
    ]

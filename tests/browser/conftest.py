"""Debian's Chromium driven by Playwright; skipped, saying how to enable it, where missing."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

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

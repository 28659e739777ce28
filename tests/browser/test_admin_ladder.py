"""An admin puts a resident's carers in order with buttons: chosen from the carers, not typed."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, expect

from server.runtime import CarewatchServer
from tests.browser.conftest import accessibility_problems, sign_in
from tests.server.helpers import ADMIN_PASSWORD
from tests.server.people import add_carer, make_home

pytestmark = pytest.mark.browser


async def test_an_admin_adds_reorders_and_removes_a_residents_carers(
    browser: Browser, quick_server: CarewatchServer, admin_api: httpx.AsyncClient
) -> None:
    home = await make_home(admin_api, "Mrs Edith Clarke", "north", tag="lad1")
    await add_carer(admin_api, "ben-lad1", "Ben Clarke")
    base = quick_server.http_url
    page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
    await sign_in(page, base, "admin", ADMIN_PASSWORD)
    await page.wait_for_url(lambda url: url != f"{base}/")
    await page.goto(f"{base}/admin")
    await page.get_by_label("Resident", exact=True).select_option(label=f"{home.name} (north)")
    ladder = page.locator("#ladder-list")
    jo = f"Carer of {home.name} ({home.carer})"
    await expect(ladder.locator("li")).to_have_text([f"{jo} Move upMove downRemove"])

    # Ben is offered (a carer not on the ladder yet), added at the end, then moved first.
    await page.get_by_label("Add a carer").select_option(label="Ben Clarke (ben-lad1)")
    await page.get_by_role("button", name="Add to the end").click()
    await page.get_by_role("button", name="Move up: Ben Clarke (ben-lad1)").click()
    # The keyboard stays with Ben: at the top, his "Move down" has the focus.
    await expect(
        page.get_by_role("button", name="Move down: Ben Clarke (ben-lad1)")
    ).to_be_focused()
    await page.get_by_role("button", name="Save carers").click()
    await expect(page.locator("#ladder-message")).to_have_text(
        f"Carers of {home.name} (north) saved: ben-lad1, {home.carer}."
    )
    record = (await admin_api.get(f"/api/v1/residents/{home.resident_id}")).json()
    assert [c["username"] for c in record["contacts"]] == ["ben-lad1", home.carer]
    problems = await accessibility_problems(page)

    await page.get_by_role("button", name=f"Remove {jo}").click()
    await page.get_by_role("button", name="Save carers").click()
    await expect(page.locator("#ladder-message")).to_have_text(
        f"Carers of {home.name} (north) saved: ben-lad1."
    )
    # Jo is offered again, now that she is off the ladder.
    await expect(page.get_by_label("Add a carer").locator("option")).to_have_text([jo])
    record = (await admin_api.get(f"/api/v1/residents/{home.resident_id}")).json()
    assert [c["username"] for c in record["contacts"]] == ["ben-lad1"]
    problems += await accessibility_problems(page)
    assert problems == [], "\n".join(problems)

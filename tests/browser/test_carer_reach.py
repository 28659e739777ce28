"""A family carer on her phone sets how she is reached, her quiet hours, and says she is away."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, expect

from server.runtime import CarewatchServer
from tests.browser.conftest import accessibility_problems, screenshot, sign_in
from tests.browser.test_carer import PHONE
from tests.server.helpers import running_server, token
from tests.server.people import PASSWORD, bearer, make_home

pytestmark = pytest.mark.browser


async def test_a_carer_sets_her_channels_and_quiet_hours_and_says_she_is_away(
    browser: Browser, database_url: str, mqtt_url: str
) -> None:
    # An SMS gateway set up (never called here), so the page offers text messages.
    async with (
        running_server(database_url, mqtt_url, sms_url="json://127.0.0.1:9/{to}") as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=10) as admin,
    ):
        admin.headers["Authorization"] = f"Bearer {await token(admin)}"
        home = await make_home(admin, "Mrs Edith Clarke", "north", tag="reach1")
        context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        page = await context.new_page()
        await sign_in(page, server.http_url, home.carer, PASSWORD)
        await page.wait_for_url(f"{server.http_url}/carer")
        reach = page.locator("#reach")
        await expect(reach.locator("#reach-state")).to_contain_text("No way to reach you is set")
        # Phone calls are not set up on this service: the form does not offer them.
        await expect(page.get_by_label("Phone calls to")).to_be_hidden()

        # A mistyped number: the reason in plain words, next to the form, nothing saved.
        await page.get_by_label("Text messages to").fill("12345")
        await page.get_by_label("E-mail to").fill("jo@example.org")
        await page.get_by_role("button", name="Save how I am reached").click()
        error = page.locator("#reach-error")
        await expect(error).to_contain_text(
            "Text messages: '12345' is not a phone number in use in GB"
        )

        await page.get_by_label("Text messages to").fill("07400 123456")
        await page.get_by_label("Hold back what can wait").check()
        await page.get_by_label("Quiet from").select_option("22:30")
        await page.get_by_label("Quiet until").select_option("22:30")
        await page.get_by_role("button", name="Save how I am reached").click()
        await expect(error).to_contain_text("Quiet hours must end at another time")
        await page.get_by_label("Quiet until").select_option("07:00")
        await page.get_by_role("button", name="Save how I am reached").click()
        await expect(page.locator("#reach-message")).to_have_text(
            "Saved: this is how alerts reach you now."
        )
        await expect(error).to_have_text("")

        # What she set survives a reload, number in the form the gateway wants.
        await page.reload()
        await expect(page.get_by_label("Text messages to")).to_have_value("+447400123456")
        await expect(page.get_by_label("E-mail to")).to_have_value("jo@example.org")
        await expect(page.get_by_label("Hold back what can wait")).to_be_checked()
        await expect(page.get_by_label("Quiet from")).to_have_value("22:30")
        await expect(page.get_by_label("Quiet until")).to_have_value("07:00")
        await expect(reach.locator("#reach-state")).to_have_text(
            "Alerts reach you by text messages, then e-mail."
            " Quiet hours 22:30 to 07:00 (Europe/London time)."
        )

        # Away until the end of tomorrow afternoon: the ladder skips her meanwhile.
        await page.get_by_label("I'm away until").select_option(index=1)
        await page.get_by_label("afternoon (6 pm)").check()
        await page.get_by_role("button", name="I'm away").click()
        await expect(page.locator("#carer-away-state")).to_contain_text(
            "by the end of the afternoon: urgent alerts go to the next carer"
        )
        problems = await accessibility_problems(page)
        await screenshot(page, "carer-reach")
        async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as as_jo:
            as_jo.headers["Authorization"] = f"Bearer {await bearer(as_jo, home.carer)}"
            mine = (await as_jo.get("/api/v1/me/reach")).json()
            assert mine["away"] is True
            assert mine["quiet_hours"] == {"start": "22:30:00", "end": "07:00:00"}
            assert [c["kind"] for c in mine["channels"]] == ["sms", "email"]
            # Saying she is away kept her channels and quiet hours as they were.
            await page.reload()
            await page.get_by_role("button", name="I'm back").click()
            await expect(page.locator("#carer-away-state")).to_contain_text("You are not away")
            back = (await as_jo.get("/api/v1/me/reach")).json()
            assert back["away"] is False
            assert back["channels"] == mine["channels"]
        problems += await accessibility_problems(page)
        assert problems == [], "\n".join(problems)
        await context.close()


async def test_a_responder_sets_how_she_is_reached_on_her_account_page(
    browser: Browser, quick_server: CarewatchServer, admin_api: httpx.AsyncClient
) -> None:
    home = await make_home(admin_api, "Mrs Edith Clarke", "north", tag="reach2")
    base = quick_server.http_url
    page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
    await sign_in(page, base, home.responder, PASSWORD)
    await page.wait_for_url(lambda url: url != f"{base}/")
    await page.goto(f"{base}/account")
    await expect(page.get_by_role("heading", name="How I am reached")).to_be_visible()
    # Responders go off duty rather than away: no time away for them.
    await expect(page.get_by_role("heading", name="Time away")).to_be_hidden()
    await page.get_by_label("E-mail to").fill("desk@example.org")
    await page.get_by_role("button", name="Save how I am reached").click()
    await expect(page.locator("#reach-message")).to_have_text(
        "Saved: this is how alerts reach you now."
    )
    async with httpx.AsyncClient(base_url=base, timeout=10) as as_desk:
        as_desk.headers["Authorization"] = f"Bearer {await bearer(as_desk, home.responder)}"
        mine = (await as_desk.get("/api/v1/me/reach")).json()
    assert [(c["kind"], c["address"]) for c in mine["channels"]] == [("email", "desk@example.org")]
    problems = await accessibility_problems(page)
    assert problems == [], "\n".join(problems)

    # A resident is on nobody's ladder: her account page has only her password.
    resident = await (await browser.new_context()).new_page()
    await sign_in(resident, base, home.resident_user, PASSWORD)
    await resident.wait_for_url(lambda url: url != f"{base}/")
    await resident.goto(f"{base}/account")
    await expect(resident.get_by_role("heading", name="Change my password")).to_be_visible()
    await expect(resident.get_by_role("heading", name="How I am reached")).to_be_hidden()

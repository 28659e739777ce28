"""An admin at a desktop looks after accounts; the people change and reset their own passwords."""

from __future__ import annotations

import asyncio
import re

import httpx
import psycopg
import pytest
from playwright.async_api import Browser, expect

from server.runtime import CarewatchServer
from tests.browser.conftest import accessibility_problems, screenshot, sign_in
from tests.server.helpers import ADMIN_PASSWORD, heartbeat, unique_hub
from tests.server.people import PASSWORD, make_two_homes

pytestmark = pytest.mark.browser


async def _token_answer(base: str, username: str, password: str) -> int:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        answer = await client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
    return answer.status_code


async def test_an_admin_changes_an_account_turns_it_off_and_gives_a_reset_link(
    browser: Browser,
    quick_server: CarewatchServer,
    admin_api: httpx.AsyncClient,
    mqtt_url: str,
    database_url: str,
) -> None:
    homes = await make_two_homes(admin_api)
    jo = homes.edith.carer
    base = quick_server.http_url
    heartbeat(mqtt_url, homes.edith.hub)
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO alerts (resident_id, hub_id, kind, severity, status, raised_at, event_at,"
            " reason, acknowledged_at, acknowledged_by, resolved_at, resolved_by, outcome)"
            " VALUES (%s, %s, 'pendant', 'emergency', 'resolved', now() - interval '1 h',"
            " now() - interval '1 h', 'Pendant pressed.', now() - interval '59 min', 'admin',"
            " now() - interval '50 min', 'admin', 'false_alarm')",
            (homes.edith.resident_id, homes.edith.hub),
        )
    admin = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
    admin.on("dialog", lambda confirm: asyncio.ensure_future(confirm.accept()))
    await sign_in(admin, base, "admin", ADMIN_PASSWORD)
    await admin.wait_for_url(lambda url: url != f"{base}/")
    await admin.goto(f"{base}/admin")

    # Hubs: health and last report on the page; a new one prints its agent settings once.
    await expect(admin.locator(f"#hubs tr[data-hub='{homes.edith.hub}']")).to_contain_text("online")
    new_hub = unique_hub()
    await admin.get_by_label("Hub id (as printed on the hub", exact=False).fill(new_hub)
    await admin.get_by_label("Whose home it is in").select_option(
        label=f"{homes.edith.name} (north)"
    )
    await admin.get_by_role("button", name="Add hub").click()
    settings = admin.get_by_label("The hub's settings", exact=False)
    await expect(settings).to_have_value(re.compile(f"CAREWATCH_AGENT_HUB_ID={new_hub}"))
    await expect(settings).to_have_value(re.compile(r"CAREWATCH_AGENT_MQTT_URL=mqtts?://"))
    added = admin.locator(f"#hubs tr[data-hub='{new_hub}']")
    await expect(added).to_contain_text("never connected")
    await added.get_by_role("button", name=f"Revoke {new_hub}").click()
    await expect(added).to_contain_text("revoked")

    # Figures as a table, charts and a CSV; each resident's alert trail as a CSV.
    figures = admin.locator("#figures")
    await expect(figures.locator(".share-chart svg").first).to_be_visible()
    await expect(figures.locator("tbody")).to_contain_text("emergency")
    csv_link = admin.get_by_role("link", name="Download the figures (CSV)")
    answer = await admin.request.get(f"{base}{await csv_link.get_attribute('href')}")
    assert answer.headers["content-type"].startswith("text/csv")
    assert (await answer.text()).startswith("severity,alerts,")
    trail = admin.get_by_role("link", name=f"Alert trail of {homes.edith.name} (CSV)")
    answer = await admin.request.get(f"{base}{await trail.get_attribute('href')}")
    assert (await answer.text()).startswith("at,alert_id,kind,actor,action,note")
    await expect(admin.locator("#dead-letters tr").first).to_be_visible()
    assert await accessibility_problems(admin) == []
    person = admin.locator(f"#people tr[data-username='{jo}']")
    await person.get_by_role("button", name=f"Change {jo}").click()
    dialog = admin.get_by_role("dialog", name=f"Change {jo}")
    await dialog.get_by_label("Phone", exact=True).fill("07700 900123")
    await dialog.get_by_label("E-mail (alerts go here)").fill("jo@example.org")
    await dialog.get_by_label("Turned off: cannot sign in").check()
    assert await accessibility_problems(admin) == []
    await dialog.get_by_role("button", name="Save").click()
    await expect(person).to_contain_text("07700 900123, jo@example.org")
    await expect(person).to_contain_text("turned off")
    # Turned off: the same answer as a wrong password.
    assert await _token_answer(base, jo, PASSWORD) == 401

    await person.get_by_role("button", name=f"Change {jo}").click()
    await dialog.get_by_label("Turned off: cannot sign in").uncheck()
    await dialog.get_by_role("button", name="Save").click()
    await expect(person).to_contain_text("can sign in")
    await person.get_by_role("button", name=f"Change {jo}").click()
    await dialog.get_by_role("button", name="Make a password reset link").click()
    link_box = dialog.get_by_label("One-time link", exact=False)
    await expect(link_box).to_have_value(re.compile(r"/reset#"))
    link = await link_box.input_value()
    assert link.startswith(f"{base}/reset#")
    await screenshot(admin, "admin")

    # Jo opens the link on her phone and sets a password; the link then is spent.
    phone = await (await browser.new_context(viewport={"width": 390, "height": 844})).new_page()
    await phone.goto(link)
    await phone.get_by_label("A new password (at least 10 characters)").fill("jo-new-password-1")
    await phone.get_by_label("The new password again").fill("jo-new-password-1")
    await phone.get_by_role("button", name="Set my password").click()
    await expect(phone.get_by_text("Your password is set.")).to_be_visible()
    assert "#" not in phone.url
    assert await accessibility_problems(phone) == []
    again = await phone.context.new_page()
    await again.goto(link)
    await again.get_by_label("A new password (at least 10 characters)").fill("jo-new-password-2")
    await again.get_by_label("The new password again").fill("jo-new-password-2")
    await again.get_by_role("button", name="Set my password").click()
    await expect(again.get_by_role("alert")).to_contain_text("used or has expired")

    # Signed in, she changes it again herself from "My account".
    await sign_in(phone, base, jo, "jo-new-password-1")
    await phone.wait_for_url(f"{base}/carer")
    await phone.get_by_role("link", name="My account").click()
    await phone.get_by_label("My password now").fill("not-my-password")
    await phone.get_by_label("A new password (at least 10 characters)").fill("jo-own-password-3")
    await phone.get_by_label("The new password again").fill("jo-own-password-3")
    await phone.get_by_role("button", name="Change my password").click()
    await expect(phone.locator("#password-error")).to_contain_text(
        "Your current password is not right"
    )
    await phone.get_by_label("My password now").fill("jo-new-password-1")
    await phone.get_by_role("button", name="Change my password").click()
    await expect(phone.locator("#message")).to_have_text(
        "Your password is changed. You are signed out everywhere else."
    )
    assert await accessibility_problems(phone) == []
    assert await _token_answer(base, jo, "jo-own-password-3") == 200

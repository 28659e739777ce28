"""A resident on her phone: "I'm OK" that shows it was pressed, time away in plain words, who looked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from playwright.async_api import Browser, ViewportSize, expect

from server.runtime import CarewatchServer
from tests.browser.conftest import accessibility_problems, screenshot, sign_in
from tests.server.people import PASSWORD, bearer, make_two_homes

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}


async def test_a_resident_checks_in_goes_away_and_reads_who_looked(
    browser: Browser,
    quick_server: CarewatchServer,
    admin_api: httpx.AsyncClient,
    database_url: str,
) -> None:
    homes = await make_two_homes(admin_api)
    edith = homes.edith
    base = quick_server.http_url
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE users SET phone = '07700 900123' WHERE username = %s", (edith.carer,))
    # Her carer looks at her record twice today; a carer of someone else is refused.
    async with httpx.AsyncClient(base_url=base, timeout=10) as other:
        for who in (edith.carer, edith.carer, homes.arthur.carer):
            other.headers["Authorization"] = f"Bearer {await bearer(other, who)}"
            await other.get(f"/api/v1/residents/{edith.resident_id}")
        # The server's own words for a time away that has passed: plain, no "Value error".
        other.headers["Authorization"] = f"Bearer {await bearer(other, edith.resident_user)}"
        past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        refused = await other.put(
            f"/api/v1/residents/{edith.resident_id}/away", json={"until": past}
        )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["msg"].endswith(
        "That time has already passed: choose a later day"
    )

    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await sign_in(page, base, edith.resident_user, PASSWORD)
    await page.wait_for_url(f"{base}/me")
    await expect(page.get_by_role("heading", name=f"Hello, {edith.name}")).to_be_visible()

    # Who to ring: her carer, with the number as a link to call.
    ring = page.locator("#ring")
    await expect(ring).to_contain_text(f"Carer of {edith.name}, your carer")
    await expect(ring.get_by_role("link", name="07700 900123")).to_have_attribute(
        "href", "tel:07700900123"
    )

    # Who looked: one sentence per person and day, names and roles in words.
    reads = page.locator("#reads li")
    await expect(reads.filter(has_text=f"Carer of {edith.name}, your carer,")).to_contain_text(
        "looked at your record (twice"
    )
    await expect(reads.filter(has_text="tried to see your record and was refused")).to_have_count(1)
    assert edith.carer not in await page.locator("#reads").inner_text()

    # "I'm OK": the button itself shows it was pressed.
    checkin = page.get_by_role("button", name="I'm OK")
    await checkin.click()
    await expect(checkin).to_have_class("big done")
    await expect(checkin).to_contain_text("✓ I'm OK: said at")
    await expect(page.locator("#message")).to_have_text("Thank you: your carers can see you're OK.")

    # Away until tomorrow evening: a day by name and a part of the day, said back in words.
    await page.get_by_label("I'm away until").select_option(index=1)
    tomorrow = await page.locator("#away-day option").nth(1).inner_text()
    await page.get_by_label("afternoon (6 pm)").check()
    await page.get_by_role("button", name="I'm away").click()
    await expect(page.locator("#away-state")).to_have_text(
        f"You are away until {tomorrow.removeprefix('Tomorrow, ')}, by the end of the afternoon."
    )
    async with httpx.AsyncClient(base_url=base, timeout=10) as api:
        api.headers["Authorization"] = f"Bearer {await bearer(api, edith.resident_user)}"
        record = (await api.get(f"/api/v1/residents/{edith.resident_id}")).json()
    away_until = datetime.fromisoformat(record["away_until"])
    assert away_until.astimezone(ZoneInfo("Europe/London")).hour == 18

    # Today, morning, late in the day: the page says what to do, in plain words.
    await page.clock.set_fixed_time(datetime.now(UTC).replace(hour=20, minute=0))
    await page.get_by_label("I'm away until").select_option(index=0)
    await page.get_by_label("morning (midday)").check()
    await page.get_by_role("button", name="I'm away").click()
    await expect(page.locator("#away-error")).to_have_text(
        "That time has already passed today: choose a later day or part of the day."
    )

    # Sharing with health is her own choice, off until she ticks it (issue 23's consent).
    sharing = page.get_by_label("My GP and hospital may read my record")
    await expect(sharing).not_to_be_checked()
    await sharing.check()
    await page.get_by_role("button", name="Save my choices").click()
    await expect(page.locator("#message")).to_have_text("Your choices are saved.")
    await expect(page.locator("#who-can-see")).to_contain_text("Your GP and hospital")
    async with httpx.AsyncClient(base_url=base, timeout=10) as api:
        api.headers["Authorization"] = f"Bearer {await bearer(api, edith.resident_user)}"
        shared = await api.get(f"/api/v1/residents/{edith.resident_id}/health-sharing")
    assert shared.json()["share_with_health"] is True

    problems = await accessibility_problems(page)
    await screenshot(page, "resident")
    assert problems == [], "\n".join(problems)

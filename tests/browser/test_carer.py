"""A family carer on her phone: an alert taken on and closed, live updates that leave her place alone."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import psycopg
import pytest
from playwright.async_api import Browser, ViewportSize, expect

from server.runtime import CarewatchServer
from tests.browser.conftest import accessibility_problems, screenshot, sign_in
from tests.server.helpers import eventually, publish_day_then_silence
from tests.server.people import PASSWORD, add_carer, bearer, make_two_homes

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}


def _readings(database_url: str, hub: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM readings WHERE hub_id = %s", (hub,)).fetchone()
    return int(row[0]) if row else 0


def raise_alert(database_url: str, resident_id: int, hub: str, kind: str, reason: str) -> uuid.UUID:
    """An urgent alert as the detectors raise it, announced on the live stream."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "INSERT INTO alerts (resident_id, hub_id, kind, severity, status, raised_at,"
            " event_at, reason) VALUES (%s, %s, %s, 'urgent', 'open',"
            " now() - interval '2 min', now() - interval '3 h', %s) RETURNING id",
            (resident_id, hub, kind, reason),
        ).fetchone()
        assert row is not None
        conn.execute("SELECT pg_notify('carewatch_alerts', %s)", (str(row[0]),))
    return uuid.UUID(str(row[0]))


async def test_a_carer_takes_an_alert_on_notes_it_closes_it_and_sees_it_in_the_past(
    browser: Browser,
    quick_server: CarewatchServer,
    admin_api: httpx.AsyncClient,
    database_url: str,
    mqtt_url: str,
) -> None:
    homes = await make_two_homes(admin_api)
    edith = homes.edith
    base = quick_server.http_url
    # A morning in the lounge, so this week has something to chart.
    publish_day_then_silence(mqtt_url, edith.hub, silent_for=timedelta(minutes=1))
    await eventually(lambda: _readings(database_url, edith.hub) >= 30, "Edith's readings")
    first = raise_alert(
        database_url, edith.resident_id, edith.hub, "no_movement", "No movement for 3 h."
    )
    # Her own number, on her care record (the care team's, typed the UK way).
    stored = await admin_api.put(
        f"/api/v1/residents/{edith.resident_id}/record", json={"phone": "0113 496 0123"}
    )
    assert stored.status_code == 200, stored.text
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await sign_in(page, base, edith.carer, PASSWORD)
    await page.wait_for_url(f"{base}/carer")
    card = page.locator(".card", has_text=edith.name)
    line = card.locator(".alert", has_text="No movement for 3 h.")
    await expect(line).to_be_visible()
    await expect(card.locator(".past summary")).to_have_text("Past alerts (none)")

    # Her place on the page: "This week" open, a note half typed, scrolled to the alert.
    await card.locator(".week summary").click()
    await expect(card.locator(".week .trend-chart").first).to_be_visible()
    await line.get_by_role("button", name="I'm dealing with it").click()
    await expect(line.locator(".status")).to_contain_text("You are dealing with it")
    assert edith.carer not in await line.inner_text()  # "you", not her username
    # One tap rings her, on the number from her record.
    call = line.get_by_role("link", name="Call Edith (0113 496 0123)")
    await expect(call).to_have_attribute("href", "tel:+441134960123")
    await line.get_by_label("A note about Edith").fill("Rang her: she was in the garden")
    await page.evaluate("document.querySelector('.alert').dataset.marker = 'kept'")
    scrolled = await page.evaluate("window.scrollY")

    # A second alert arrives on the live stream: the card changes in place.
    raise_alert(database_url, edith.resident_id, edith.hub, "not_up", "Not up by 10:40.")
    await expect(card.locator(".alert", has_text="Not up by 10:40.")).to_be_visible(timeout=10_000)
    await expect(card.locator(".week")).to_have_attribute("open", "")
    await expect(line.get_by_label("A note about Edith")).to_have_value(
        "Rang her: she was in the garden"
    )
    assert await line.get_attribute("data-marker") == "kept"
    assert abs(await page.evaluate("window.scrollY") - scrolled) < 2

    # Charts a person can read: words at the page's size, days named, times as times.
    sizes = await card.locator(".week .tick-label, .week .day-label").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)"
    )
    assert sizes
    assert min(sizes) >= 12, sizes
    await expect(card.locator(".week .day-label.today").first).to_have_text("Today")
    up_at = card.locator(".trend", has_text="Up at")
    await expect(up_at.locator(".tick-label").first).to_contain_text(":")
    assert await up_at.locator("circle, .no-data").count() == 7
    problems = await accessibility_problems(page)
    await screenshot(page, "carer")

    await line.get_by_role("button", name="Edith is fine").click()
    await expect(line).to_have_count(0)
    past = card.locator(".past")
    await past.locator("summary").click()
    await expect(past.locator("li").first).to_contain_text("Resolved: all well (closed by you)")
    async with httpx.AsyncClient(base_url=base, timeout=10) as as_jo:
        as_jo.headers["Authorization"] = f"Bearer {await bearer(as_jo, edith.carer)}"
        trail = (await as_jo.get(f"/api/v1/alerts/{first}/history")).json()["events"]
        closed = (await as_jo.get(f"/api/v1/alerts/{first}")).json()
    assert closed["outcome"] == "resolved_ok"
    assert closed["resolved_by"] == edith.carer
    assert any(e["note"] == "Rang her: she was in the garden" for e in trail), trail

    # Passing the other one on: the alarm centre has it, her buttons go.
    other = card.locator(".alert", has_text="Not up by 10:40.")
    await other.get_by_role("button", name="I'm dealing with it").click()
    await other.get_by_role("button", name="Pass it on to the alarm centre").click()
    await expect(other.locator(".status")).to_have_text("Passed to the alarm centre.")
    await expect(other.get_by_role("button", name="I'm dealing with it")).to_be_visible()

    # Edith's own "I'm OK" reaches her carer's card.
    async with httpx.AsyncClient(base_url=base, timeout=10) as as_edith:
        as_edith.headers["Authorization"] = f"Bearer {await bearer(as_edith, edith.resident_user)}"
        checked = await as_edith.post(f"/api/v1/residents/{edith.resident_id}/checkin")
        assert checked.status_code == 200, checked.text
    await page.reload()
    await expect(card.locator(".checkin")).to_contain_text('Edith said "I\'m OK" today at')
    problems += await accessibility_problems(page)
    assert problems == [], "\n".join(problems)


async def test_a_carer_who_cannot_help_passes_the_alert_on_to_the_next_carer(
    browser: Browser,
    quick_server: CarewatchServer,
    admin_api: httpx.AsyncClient,
    database_url: str,
) -> None:
    homes = await make_two_homes(admin_api)
    edith = homes.edith
    base = quick_server.http_url
    # Ben is the second carer on Edith's ladder.
    await add_carer(admin_api, "ben-next", "Ben Clarke", ladder_of=edith)
    alert_id = raise_alert(
        database_url, edith.resident_id, edith.hub, "no_movement", "No movement for 3 h."
    )
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await sign_in(page, base, edith.carer, PASSWORD)
    await page.wait_for_url(f"{base}/carer")
    line = page.locator(".card", has_text=edith.name).locator(".alert")
    await line.get_by_role("button", name="I'm dealing with it").click()
    await line.get_by_role("button", name="I can't help: pass it on to the next person").click()
    status = line.locator(".status")
    await expect(status).to_contain_text("You passed it on to Ben Clarke at")
    await expect(page.locator("#announcer")).to_have_text(
        "Passed on to Ben Clarke: they have been told."
    )
    # Hers no longer: she could take it back on if Ben cannot either.
    await expect(line.get_by_role("button", name="I'm dealing with it")).to_be_visible()
    await expect(status).to_be_focused()
    problems = await accessibility_problems(page)
    assert problems == [], "\n".join(problems)
    async with httpx.AsyncClient(base_url=base, timeout=10) as as_ben:
        as_ben.headers["Authorization"] = f"Bearer {await bearer(as_ben, 'ben-next')}"
        trail = (await as_ben.get(f"/api/v1/alerts/{alert_id}/history")).json()
    passed = next(e for e in trail["events"] if e["action"] == "passed_on")
    assert passed["note"] == f"Passed on by Carer of {edith.name} to Ben Clarke."
    await context.close()

"""A resident's own response plan, made on the console's panel and on the admin page, and
the closed alerts with their trails (the console's recently closed, the record's history).

A responder gives Mrs Clarke her own pendant plan from the panel; the checklist
becomes her steps, then her contacts in call order, each dialling them; the step
ticked and the close are on the trail in the recently closed list and on her
record's alert history; the admin puts her back on the default plan; axe finds
nothing on any of it.
"""

from __future__ import annotations

import psycopg
import pytest
from playwright.async_api import Browser, expect

from server.runtime import CarewatchServer
from tests.browser.conftest import accessibility_problems, screenshot
from tests.browser.test_care_record import admin_on_record, desk_on_console, home_with_a_record
from tests.server.helpers import eventually
from tests.server.people import Home

pytestmark = pytest.mark.browser

HER_STEPS = ("Ring her daughter Jo first, she lives next door", "Ask Jo to stay with her")


def own_plans(database_url: str, home: Home) -> list[tuple[str, list[str]]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT kind, steps FROM resident_plans WHERE resident_id = %s", (home.resident_id,)
        ).fetchall()
    return [(kind, steps) for kind, steps in rows]


def steps_done(database_url: str, home: Home) -> list[str]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT details->'steps_done' FROM alerts WHERE resident_id = %s", (home.resident_id,)
        ).fetchone()
    return list(row[0] or []) if row else []


async def test_her_own_plan_from_the_panel_and_the_trail_after_the_close(
    browser: Browser, quick_server: CarewatchServer, database_url: str
) -> None:
    home = await home_with_a_record(quick_server, database_url)
    page = await desk_on_console(browser, quick_server, home)
    plan = page.locator("#panel-plan li")
    # The default pendant plan, its "call their contacts" as one rung per contact in order.
    jo = plan.filter(has_text="Call Jo Clarke (daughter, has a key)")
    await expect(jo.locator("a")).to_have_attribute("href", "tel:+442079460011")
    await expect(plan.filter(has_text="Call Dr Ahmed (GP)").locator("a")).to_have_attribute(
        "href", "tel:+441134960999"
    )

    # Her own plan, written on the panel.
    await page.get_by_role("button", name="Edit the response plan").click()
    dialog = page.locator("#plan-dialog")
    await expect(dialog).to_be_visible()
    await expect(page.locator("#pl-kind")).to_have_value("pendant")
    await expect(page.locator("#pl-state")).to_contain_text("follows the default plan")
    await expect(page.locator("#pl-steps")).to_be_focused()
    await page.keyboard.type("\n".join(HER_STEPS))
    assert await accessibility_problems(page) == []
    await page.get_by_role("button", name="Save the plan").click()
    await expect(page.locator("#pl-state")).to_contain_text(f"{home.name}'s own plan")
    await page.get_by_role("button", name="Close", exact=True).click()
    await expect(dialog).to_be_hidden()
    assert own_plans(database_url, home) == [("pendant", list(HER_STEPS))]
    await expect(page.locator("#plan-whose")).to_contain_text("own plan")
    await expect(plan.nth(0)).to_contain_text(HER_STEPS[0])
    await expect(plan.nth(2)).to_contain_text("Call Jo Clarke")
    await expect(plan.nth(2).locator("a")).to_have_attribute("href", "tel:+442079460011")
    await expect(plan.last).to_contain_text("choose the outcome")

    # Ticked by keyboard, it is checked against her own checklist and goes on the trail.
    await page.locator(".alert").first.focus()
    await page.keyboard.press("p")
    await expect(page.locator("#step-0")).to_be_focused()
    await page.keyboard.press("Space")
    await eventually(lambda: steps_done(database_url, home) == ["own-1"], "her own step ticked")
    await page.keyboard.press("r")
    await page.keyboard.press("1")
    await page.keyboard.press("Tab")
    await page.keyboard.type("Spoke to her; Jo went round.")
    await page.keyboard.press("Control+Enter")
    await expect(page.locator(".alert", has_text=home.name)).to_have_count(0)

    # The recently closed list: the close and its trail, step by step.
    await page.locator("#closed-box > summary").click()
    closed = page.locator("#closed > li", has_text=home.name)
    await expect(closed).to_contain_text("Resolved: all well")
    await closed.get_by_text("Trail").click()
    trail = closed.locator(".trail")
    await expect(trail).to_contain_text(f"step done — {HER_STEPS[0]}")
    await expect(trail).to_contain_text("closed — Spoke to her; Jo went round.")
    await screenshot(page, "console-recently-closed")
    assert await accessibility_problems(page) == []

    # Her record's alert history: the same alert, its trail fetched when opened.
    await page.goto(f"{quick_server.http_url}/residents/{home.resident_id}")
    past = page.locator("#past-alerts > li", has_text="Pendant")
    await expect(past).to_contain_text("Resolved: all well")
    await past.get_by_text("Trail").click()
    await expect(past.locator(".trail")).to_contain_text(HER_STEPS[0])
    assert await accessibility_problems(page) == []
    await page.close()

    # The admin page edits the same plans with the same form: back to the default.
    admin = await admin_on_record(browser, quick_server, home)
    await admin.get_by_label("Which alarm").select_option("pendant")
    await expect(admin.locator("#pl-steps")).to_have_value("\n".join(HER_STEPS))
    await admin.get_by_role("button", name="Back to the default plan").click()
    await expect(admin.locator("#plans-message")).to_contain_text("plan saved")
    await expect(admin.locator("#pl-state")).to_contain_text("follows the default plan")
    assert own_plans(database_url, home) == []
    assert await accessibility_problems(admin) == []

"""Each role in a real browser: the responder's console, the carer's view, the resident's page."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import psycopg
import pytest
from playwright.async_api import Browser, ViewportSize, expect

from server.detect.home_state import HomeState
from server.jobs.checkpoint_packing import unpack
from server.runtime import CarewatchServer
from tests.browser.conftest import accessibility_problems, screenshot, sign_in
from tests.server.helpers import (
    ADMIN_PASSWORD,
    eventually,
    heartbeat,
    press_pendant,
    publish_day_then_silence,
    wait_for,
)
from tests.server.people import PASSWORD, Home, make_two_homes

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}


def alerts_of(database_url: str, home: Home) -> list[tuple[str, str]]:
    with psycopg.connect(database_url) as conn:
        return [
            (str(kind), str(status))
            for kind, status in conn.execute(
                "SELECT kind, status FROM alerts WHERE resident_id = %s ORDER BY raised_at",
                (home.resident_id,),
            ).fetchall()
        ]


async def test_a_responder_sees_an_emergency_live_and_works_it_by_keyboard(
    browser: Browser,
    quick_server: CarewatchServer,
    admin_api: httpx.AsyncClient,
    database_url: str,
    mqtt_url: str,
) -> None:
    homes = await make_two_homes(admin_api)
    publish_day_then_silence(mqtt_url, homes.edith.hub, silent_for=timedelta(minutes=5))
    page = await browser.new_page(viewport={"width": 1400, "height": 900})
    await sign_in(page, quick_server.http_url, homes.edith.responder, PASSWORD)
    await expect(page).to_have_url(f"{quick_server.http_url}/console")
    await expect(page.get_by_text("No active alerts.")).to_be_visible()
    await expect(page.locator("#connection")).to_have_text(
        "Live: new alerts appear here as they are raised."
    )

    # Arthur is the south service's: the north desk never sees his alarm.
    press_pendant(mqtt_url, homes.arthur.hub)
    await eventually(lambda: alerts_of(database_url, homes.arthur), "Arthur's alert")
    press_pendant(mqtt_url, homes.edith.hub)
    row = page.locator(".alert", has_text=homes.edith.name).filter(has_text="Pendant pressed")
    await expect(row).to_be_visible(timeout=10_000)  # no reload: over the live stream
    await expect(row.locator(".severity")).to_have_text("emergency")
    # Nobody on duty in the north service: the row and the panel say nobody was told.
    await expect(row.locator(".status")).to_contain_text("nobody notified")
    await expect(page.locator("#panel-nobody")).to_be_visible()
    await expect(page.locator("#nobody")).to_be_visible()
    await expect(row.locator(".kind")).to_have_text("Pendant pressed")
    await expect(page.locator(".alert", has_text=homes.arthur.name)).to_have_count(0)

    # The resident panel: what a responder needs on the call.
    panel = page.locator("#panel")
    await expect(panel.get_by_role("heading", name=homes.edith.name)).to_be_visible()
    await expect(page.locator("#panel-access")).to_contain_text("key safe by the door")
    await expect(page.locator("#panel-ladder")).to_contain_text(f"Carer of {homes.edith.name}")
    await expect(page.locator("#panel-timeline svg")).to_be_visible()
    await expect(page.locator("#panel-timeline")).to_contain_text("lounge")

    # Urgent alerts waiting 90 s: the carers' window (5 min) has not passed, so one still
    # open is not red; one the ladder escalated to the responders is. Both after the emergency.
    with psycopg.connect(database_url) as conn:
        for kind, status, reason in (
            ("no_movement", "open", "No movement for 3 h."),
            ("not_up", "escalated", "Not up by 10:40."),
        ):
            conn.execute(
                "INSERT INTO alerts (resident_id, hub_id, kind, severity, status, raised_at,"
                " event_at, reason) VALUES (%s, %s, %s, 'urgent', %s, now() - interval '90 s',"
                " now() - interval '3 h', %s)",
                (homes.edith.resident_id, homes.edith.hub, kind, status, reason),
            )
        conn.execute(
            "SELECT pg_notify('carewatch_alerts', id::text) FROM alerts WHERE severity = 'urgent'"
        )
    waiting = page.locator(".alert", has_text="No movement for 3 h.")
    escalated = page.locator(".alert", has_text="Not up by 10:40.")
    await expect(escalated).to_have_class(re.compile(r"\boverdue\b"), timeout=10_000)
    await expect(waiting).to_be_visible()
    await expect(waiting).not_to_have_class(re.compile(r"\boverdue\b"))
    await expect(page.locator(".alert").first).to_contain_text("Pendant pressed")
    await expect(page).to_have_title("(3) Triage console — carewatch")
    # Each row's clock says how long the alert has been in its state, from the server's times.
    await expect(waiting.locator(".timer")).to_have_text(re.compile(r"^unanswered 1 min \d+ s$"))
    await expect(waiting.locator(".timer")).to_have_attribute("title", re.compile(r"^raised 1 min"))
    await screenshot(page, "console")
    assert await accessibility_problems(page) == []

    # Keyboard only: the first alert is chosen; a acknowledges, r resolves, 4 = false alarm.
    await page.locator(".alert").first.focus()
    await page.keyboard.press("a")
    await expect(row.locator(".status")).to_have_text(f"acknowledged by {homes.edith.responder}")
    await page.keyboard.press("n")
    await page.locator("#note-text").fill("Mrs Clarke pressed it by accident.")
    await page.get_by_role("button", name="Save note").click()
    # As a responder would: the screen reader says the note is saved, then resolve.
    await expect(page.locator("#announcer")).to_contain_text("note added")
    await page.keyboard.press("r")
    await expect(page.locator("#resolve-dialog")).to_be_visible()
    # Nothing is chosen for the handler: Enter alone does not close it.
    await page.keyboard.press("Enter")
    await expect(page.locator("#resolve-error")).to_contain_text("Choose an outcome")
    await page.keyboard.press("4")
    await page.keyboard.press("Enter")
    # An emergency needs a note.
    await expect(page.locator("#resolve-error")).to_contain_text("Write a note")
    await expect(page.locator("#resolve-note")).to_be_focused()
    await page.keyboard.type("Pressed by accident; she is fine.")
    await page.keyboard.press("Control+Enter")
    await expect(row).to_have_count(0)
    # Taking on the no-movement alert restarts its clock: in progress since this acknowledgement,
    # while the title still says when it was raised.
    await waiting.locator(".resident").click()
    await page.keyboard.press("a")
    await expect(waiting.locator(".timer")).to_have_text(re.compile(r"^in progress \d{1,2} s$"))
    await expect(waiting.locator(".timer")).to_have_attribute("title", re.compile(r"^raised 1 min"))
    assert await accessibility_problems(page) == []
    resolved = (await admin_api.get("/api/v1/alerts", params={"status": "resolved"})).json()
    (pendant,) = [a for a in resolved if a["resident_id"] == homes.edith.resident_id]
    assert (pendant["outcome"], pendant["resolved_by"]) == ("false_alarm", homes.edith.responder)
    history = (await admin_api.get(f"/api/v1/alerts/{pendant['id']}/history")).json()
    assert [e["action"] for e in history["events"]][-3:] == ["acknowledge", "note", "resolve"]


async def test_a_carer_sees_only_their_residents_and_is_refused_anothers_record(
    browser: Browser,
    quick_server: CarewatchServer,
    admin_api: httpx.AsyncClient,
    database_url: str,
    mqtt_url: str,
) -> None:
    homes = await make_two_homes(admin_api)
    publish_day_then_silence(mqtt_url, homes.edith.hub, silent_for=timedelta(minutes=5))
    press_pendant(mqtt_url, homes.edith.hub)
    await eventually(lambda: alerts_of(database_url, homes.edith), "Edith's alert")
    page = await browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    await sign_in(page, quick_server.http_url, homes.edith.carer, PASSWORD)
    await expect(page).to_have_url(f"{quick_server.http_url}/carer")
    card = page.locator(".card", has_text=homes.edith.name)
    await expect(card).to_be_visible()
    await expect(page.locator(".card")).to_have_count(1)
    await expect(card.get_by_text("Pendant pressed")).to_be_visible()
    await card.get_by_text("The last 24 hours").click()
    await expect(card.locator(".timeline")).to_be_visible()
    await card.get_by_text("This week").click()
    await expect(card.locator(".trend")).to_have_count(5)
    await screenshot(page, "carer")
    assert await accessibility_problems(page) == []

    # Alerts on this phone: the service worker that shows pushed alerts installs. (Headless
    # Chromium has no push service, so the subscription itself is refused here, and said so.)
    await page.context.grant_permissions(["notifications"])
    await page.get_by_role("button", name="Send alerts to this phone").tap()
    await expect(page.locator("#push-state")).not_to_contain_text("even when this page is closed")
    scope = await page.evaluate(
        "async () => (await navigator.serviceWorker.getRegistration('/static/'))?.scope"
    )
    assert scope == f"{quick_server.http_url}/static/"

    # One tap: recorded and shown, but a pendant press stays the alarm centre's.
    await card.get_by_role(
        "button", name=f"I'm dealing with it: {homes.edith.name}, Pendant pressed"
    ).tap()
    await expect(page.locator(".card", has_text=homes.edith.name)).to_contain_text(
        "You are dealing with it. The alarm centre is handling it too."
    )
    assert alerts_of(database_url, homes.edith) == [("pendant", "open")]

    # Arthur's record by URL: refused, and the attempt is in the log.
    response = await page.goto(f"{quick_server.http_url}/residents/{homes.arthur.resident_id}")
    assert response is not None
    assert response.status == 403
    await expect(page.locator("#refusal")).to_contain_text("This attempt has been logged")
    assert await accessibility_problems(page) == []
    with psycopg.connect(database_url) as conn:
        logged = conn.execute(
            "SELECT username, what, allowed FROM record_reads"
            " WHERE resident_id = %s AND username = %s",
            (homes.arthur.resident_id, homes.edith.carer),
        ).fetchall()
    assert logged == [(homes.edith.carer, "record page", False)]

    # Edith's own record opens.
    response = await page.goto(f"{quick_server.http_url}/residents/{homes.edith.resident_id}")
    assert response is not None
    assert response.status == 200
    await expect(page.locator("#name")).to_have_text(homes.edith.name)
    await expect(page.locator("#access")).to_have_text("shown to responders only")
    await expect(page.locator("#timeline svg")).to_be_visible()
    assert await accessibility_problems(page) == []

    # Signed out, the record is behind the sign-in page, which is accessible too.
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(f"{quick_server.http_url}/")
    await page.goto(f"{quick_server.http_url}/residents/{homes.edith.resident_id}")
    await expect(page).to_have_url(
        f"{quick_server.http_url}/?next=/residents/{homes.edith.resident_id}"
    )
    assert await accessibility_problems(page) == []

    # A "next" that leads off the site is ignored: sign-in lands on the carer's own page.
    await page.goto(f"{quick_server.http_url}/?next=/%5Cexample.org/")
    await page.get_by_label("Username").fill(homes.edith.carer)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{quick_server.http_url}/carer")
    # Signed in, the sign-in page sends her on at once; never off the site either.
    for elsewhere in (
        "/.//example.org/",
        "//example.org/",
        "https://example.org/",
        "/%2F/example.org",
    ):
        await page.goto(f"{quick_server.http_url}/?next={elsewhere}")
        await page.wait_for_url(lambda url: "next=" not in url)
        assert page.url.startswith(quick_server.http_url + "/"), (elsewhere, page.url)


async def test_a_resident_going_away_silences_inactivity_but_not_the_pendant(
    browser: Browser,
    quick_server: CarewatchServer,
    admin_api: httpx.AsyncClient,
    database_url: str,
    mqtt_url: str,
) -> None:
    homes = await make_two_homes(admin_api)
    page = await browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    await sign_in(page, quick_server.http_url, homes.edith.resident_user, PASSWORD)
    await expect(page).to_have_url(f"{quick_server.http_url}/me")
    await expect(page.get_by_role("heading", name=f"Hello, {homes.edith.name}")).to_be_visible()

    await page.get_by_role("button", name="I'm OK").tap()
    await expect(page.locator("#message")).to_contain_text("your carers can see you're OK")
    await expect(page.locator("#checkin-state")).to_contain_text("you said you're OK today")

    # Away for three days, until the evening (the form's own default part of the day).
    await page.get_by_label("I'm away until").select_option(index=3)
    await page.get_by_role("button", name="I'm away", exact=True).tap()
    await expect(page.locator("#away-state")).to_contain_text("You are away until")
    await expect(page.locator("#who-can-see")).to_contain_text(f"Carer of {homes.edith.name}")
    await screenshot(page, "resident")
    assert await accessibility_problems(page) == []

    async def away_read() -> object:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT state FROM detector_state WHERE hub_id = %s", (homes.edith.hub,)
            ).fetchone()
        return row and HomeState.from_bytes(unpack(bytes(row[0]))).away_until

    await wait_for(away_read, what="the detectors reading that Edith is away")

    # The same four quiet hours in both homes: Arthur (at home) raises, Edith (away) does not.
    for home in (homes.edith, homes.arthur):
        publish_day_then_silence(mqtt_url, home.hub, silent_for=timedelta(hours=4))
    await eventually(
        lambda: ("no_movement", "open") in alerts_of(database_url, homes.arthur),
        "Arthur's no-movement alert",
    )
    for home in (homes.edith, homes.arthur):
        heartbeat(mqtt_url, home.hub)
    press_pendant(mqtt_url, homes.edith.hub)
    await eventually(lambda: alerts_of(database_url, homes.edith), "Edith's pendant alert")
    assert alerts_of(database_url, homes.edith) == [("pendant", "open")]


async def test_an_administrator_adds_a_resident_and_her_daughter_who_then_sees_her(
    browser: Browser, server: CarewatchServer
) -> None:
    page = await browser.new_page(viewport={"width": 1200, "height": 1000})
    await sign_in(page, server.http_url, "admin", ADMIN_PASSWORD)
    await expect(page).to_have_url(f"{server.http_url}/console")
    await page.get_by_role("link", name="Administration").click()
    await expect(page).to_have_url(f"{server.http_url}/admin")

    await page.get_by_label("Name, as carers and responders say it").fill("Mrs Joan Hill")
    await page.get_by_label("Service (the responders' team)").fill("north")
    await page.get_by_label("Address").fill("4 Mill Lane, Leeds")
    await page.get_by_role("button", name="Add resident").click()
    await expect(page.locator("#resident-message")).to_have_text(
        "Mrs Joan Hill added to the north service."
    )
    await expect(page.locator("#residents")).to_contain_text("Mrs Joan Hill")

    await page.get_by_label("Username (letters, digits, . _ @ -)").fill("joan-daughter")
    await page.get_by_label("Full name (optional)").fill("Sue Hill")
    # Only what the role needs is asked for.
    await page.get_by_label("Role").select_option("responder")
    await expect(page.get_by_label("Service they answer for")).to_be_visible()
    await expect(page.get_by_label("Which resident they are")).to_be_hidden()
    await page.get_by_label("Role").select_option("carer")
    await expect(page.get_by_label("Service they answer for")).to_be_hidden()
    await page.get_by_label("First password").fill(PASSWORD)
    await page.get_by_role("button", name="Add person").click()
    await expect(page.locator("#person-message")).to_have_text(
        "joan-daughter can now sign in as a carer."
    )
    # A mistake is explained, not swallowed.
    await page.get_by_label("Username (letters, digits, . _ @ -)").fill("joan-daughter")
    await page.get_by_label("First password").fill(PASSWORD)
    await page.get_by_role("button", name="Add person").click()
    await expect(page.locator("#person-message")).to_contain_text("Not added:")

    await page.get_by_label("Resident", exact=True).select_option(label="Mrs Joan Hill (north)")
    await expect(page.locator("#ladder-state")).to_have_text("Mrs Joan Hill has no carers yet.")
    await page.get_by_label("Add a carer").select_option(label="Sue Hill (joan-daughter)")
    await page.get_by_role("button", name="Add to the end").click()
    await page.get_by_role("button", name="Save carers").click()
    await expect(page.locator("#ladder-message")).to_have_text(
        "Carers of Mrs Joan Hill (north) saved: joan-daughter."
    )
    await expect(page.locator("#ladder-state")).to_have_text(
        "Mrs Joan Hill's carers now: Sue Hill."
    )
    await screenshot(page, "admin")
    assert await accessibility_problems(page) == []

    daughter = await browser.new_page(viewport=PHONE)
    await sign_in(daughter, server.http_url, "joan-daughter", PASSWORD)
    await expect(daughter).to_have_url(f"{server.http_url}/carer")
    await expect(daughter.get_by_text("Mrs Joan Hill").first).to_be_visible()
    # The daughter is not an administrator.
    refused = await daughter.goto(f"{server.http_url}/admin")
    assert refused is not None
    assert refused.status == 403

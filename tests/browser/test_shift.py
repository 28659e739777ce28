"""A shift at the alarm receiving centre, played in a real browser against a real server.

Three alarms arrive (a pendant, a smoke alarm, a silence), the alarm sounds, the
handler works the smoke alarm through its plan by keyboard, reaching the dial
links of the resident and of his neighbour (the plan's rung for her), and must
choose an outcome and write a note, a carer's tap does not take the pendant from the
centre, the no-movement alert the ladder escalated stays as "needs review" when
movement comes back, and the service report's answer times are the first
acknowledgements'.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from playwright.async_api import Browser, Page, expect

from edge.protocol import (
    Alarm,
    AlarmKind,
    Reading,
    ReadingKind,
    ReadingsBatch,
    alarm_topic,
    encode,
    readings_topic,
)
from server.alerts.figures import AlertTiming, service_figures
from server.domain.alerts import AlertKind
from server.domain.plans import checklist
from server.domain.record import RecordContact
from server.runtime import CarewatchServer
from tests.browser.conftest import accessibility_problems, screenshot, sign_in
from tests.server.helpers import (
    Publisher,
    eventually,
    heartbeat,
    press_pendant,
    publish_day_then_silence,
    running_server,
    token,
)
from tests.server.people import PASSWORD, Home, make_home

pytestmark = pytest.mark.browser

DESK_PHONE = "01632 960142"
# Mr Hall's phone and his neighbour's, whom the smoke plan has the handler call.
FRED_PHONE = "+441134960555"
NEIGHBOUR = RecordContact("Ada Cole", "neighbour at no. 4", "+441134960556", keyholder=True)
SCREEN = {"width": 1440, "height": 900}


@pytest.fixture
async def shift_server(database_url: str, mqtt_url: str) -> AsyncIterator[CarewatchServer]:
    """A server whose carers have 3 s to answer, so the ladder escalates within the test."""
    async with running_server(
        database_url, mqtt_url, ack_timeout_s=3.0, hub_check_interval_s=0.5
    ) as running:
        yield running


def smoke_alarm(mqtt_url: str, hub: str) -> None:
    """The kitchen's smoke alarm goes off now."""
    publisher = Publisher(mqtt_url)
    try:
        alarm = Alarm(hub, str(uuid.uuid4()), "kitchen-smoke", AlarmKind.SMOKE, datetime.now(UTC))
        publisher.publish(alarm_topic(hub), encode(alarm))
    finally:
        publisher.close()


def movement_now(mqtt_url: str, hub: str) -> None:
    """Someone moves about the house: the carer arriving, hours later (two sensors: a lone
    blip does not end a silence)."""
    now = datetime.now(UTC)
    publisher = Publisher(mqtt_url)
    try:
        readings = (
            Reading("hall-pir", ReadingKind.MOTION, now - timedelta(seconds=30), 1.0),
            Reading("lounge-pir", ReadingKind.MOTION, now, 1.0),
        )
        publisher.publish(readings_topic(hub), encode(ReadingsBatch(hub, 2, now, readings)))
    finally:
        publisher.close()
    heartbeat(mqtt_url, hub)  # the hub's watermark past the movement: the detectors judge it


def alert_of(database_url: str, home: Home, kind: str) -> dict[str, Any] | None:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT id, status, outcome, details, acknowledged_at FROM alerts"
            " WHERE resident_id = %s AND kind = %s ORDER BY raised_at DESC LIMIT 1",
            (home.resident_id, kind),
        ).fetchone()
    if row is None:
        return None
    keys = ("id", "status", "outcome", "details", "acknowledged_at")
    return dict(zip(keys, row, strict=True))


def first_acknowledgements(database_url: str) -> list[AlertTiming]:
    """Every alert's moments, with the acknowledgement read from the trail: the first one."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT a.severity, a.kind, a.event_at, a.raised_at,"
            " (SELECT min(e.at) FROM alert_events e WHERE e.alert_id = a.id"
            "  AND e.action = 'acknowledge'), a.resolved_at, a.outcome FROM alerts a"
        ).fetchall()
    return [AlertTiming(*row) for row in rows]


async def selected_is(page: Page, words: str) -> None:
    await expect(page.locator(".alert.selected")).to_contain_text(words)


async def test_a_shift(
    browser: Browser, shift_server: CarewatchServer, database_url: str, mqtt_url: str
) -> None:
    async with httpx.AsyncClient(base_url=shift_server.http_url, timeout=10) as admin:
        admin.headers["Authorization"] = f"Bearer {await token(admin)}"
        tag = uuid.uuid4().hex[:6]
        edith = await make_home(admin, f"Mrs Edith Clarke {tag}", "north", tag=f"e{tag}")
        fred = await make_home(admin, f"Mr Fred Hall {tag}", "north", tag=f"f{tag}")
        mary = await make_home(admin, f"Mrs Mary Stone {tag}", "north", tag=f"m{tag}")
        record = f"/api/v1/residents/{fred.resident_id}/record"
        assert (await admin.put(record, json={"phone": FRED_PHONE})).status_code == 200
        neighbour = {"name": NEIGHBOUR.name, "relationship": NEIGHBOUR.relationship,
                     "phone": NEIGHBOUR.phone, "kind": "neighbour", "keyholder": True}  # fmt: skip
        saved = await admin.put(f"{record}/contacts", json={"contacts": [neighbour]})
        assert saved.status_code == 200, saved.text
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE users SET phone = %s WHERE username = %s", (DESK_PHONE, edith.responder)
        )

    page = await browser.new_page(viewport={"width": 1440, "height": 900})
    await sign_in(page, shift_server.http_url, edith.responder, PASSWORD)
    await expect(page).to_have_url(f"{shift_server.http_url}/console")
    # Nobody on duty yet: the console says so, and the desk puts itself on duty.
    await expect(page.locator("#nobody")).to_be_visible()
    await page.get_by_role("button", name="Go on duty").click()
    await expect(page.locator("#nobody")).to_be_hidden()
    await expect(page.locator("#shift-on-duty a[href='tel:01632960142']")).to_have_text(DESK_PHONE)
    await expect(page.get_by_role("button", name="Go off duty")).to_be_visible()

    # Three alarms arrive (nothing has sounded before them).
    assert await page.evaluate("document.body.dataset.alarmsSounded") is None
    publish_day_then_silence(mqtt_url, mary.hub, silent_for=timedelta(hours=4))
    press_pendant(mqtt_url, edith.hub)
    smoke_alarm(mqtt_url, fred.hub)
    pendant = page.locator(".alert", has_text=edith.name)
    smoke = page.locator(".alert", has_text=fred.name)
    silence = page.locator(".alert", has_text=mary.name)
    for row in (pendant, smoke, silence):
        await expect(row).to_be_visible(timeout=20_000)
    await sounded_more_than(page, 0)
    await expect(page).to_have_title("(3) Triage console — carewatch")
    await expect(page.locator("#shift-unanswered")).to_have_text("3")
    # Emergencies first, oldest first; the urgent silence after them.
    await expect(page.locator(".alert").nth(0)).to_contain_text(edith.name)
    await expect(page.locator(".alert").nth(1)).to_contain_text(fred.name)
    await expect(page.locator(".alert").nth(2)).to_contain_text(mary.name)

    # The carer taps "I'm dealing with it" on the pendant from her phone: it stays the centre's.
    phone = await browser.new_page(viewport={"width": 390, "height": 844})
    await sign_in(phone, shift_server.http_url, edith.carer, PASSWORD)
    await phone.get_by_role(
        "button", name=f"I'm dealing with it: {edith.name}, Pendant pressed"
    ).click()
    await expect(phone.locator(".card", has_text=edith.name)).to_contain_text(
        "You are dealing with it. The alarm centre is handling it too."
    )
    await phone.close()
    await expect(pendant.locator(".status")).to_contain_text(f"carer on the way: {edith.carer}")
    assert pendant_status(database_url, edith) == "open"
    await expect(page.locator(".alert").nth(0)).to_contain_text(edith.name)
    await pendant.click()  # the chosen row shows its buttons
    await expect(
        pendant.get_by_role("button", name=f"Acknowledge alert for {edith.name}")
    ).to_be_enabled()
    await expect(page.locator("#panel-responding")).to_contain_text(edith.carer)

    # The desk answers the pendant (its first acknowledgement), escalates and answers it again.
    await page.locator(".alert").first.focus()
    await selected_is(page, edith.name)
    await page.keyboard.press("a")
    await expect(pendant.locator(".status")).to_contain_text(f"acknowledged by {edith.responder}")
    first = alert_of(database_url, edith, "pendant")
    assert first is not None
    assert first["acknowledged_at"] is not None
    await page.keyboard.press("e")
    await expect(pendant.locator(".status")).to_contain_text("escalated to responders")
    await page.keyboard.press("a")
    await expect(pendant.locator(".status")).to_contain_text(f"acknowledged by {edith.responder}")
    again = alert_of(database_url, edith, "pendant")
    assert again is not None
    assert again["acknowledged_at"] == first["acknowledged_at"]
    # Answered alerts sink below the unanswered.
    await expect(page.locator(".alert").last).to_contain_text(edith.name)

    await screenshot(page, "console")
    assert await accessibility_problems(page) == []

    # The smoke alarm, by keyboard: choose it, acknowledge, work its plan, close it.
    await page.keyboard.press("k")
    await page.keyboard.press("k")
    await selected_is(page, fred.name)
    await page.keyboard.press("a")
    await expect(smoke.locator(".status")).to_contain_text(f"acknowledged by {edith.responder}")
    # His checklist: the smoke plan, its "call their contacts" a rung that dials his neighbour.
    steps = checklist(AlertKind.SMOKE, (), [NEIGHBOUR])
    await expect(page.locator("#panel-plan li")).to_have_count(len(steps))
    await expect(page.locator("#panel-plan")).to_contain_text("fire service")
    # One click dials him: the panel's phone is a tel: link with his number.
    await expect(page.locator("#panel-phone a")).to_have_attribute("href", f"tel:{FRED_PHONE}")
    await page.keyboard.press("p")
    dialled = []
    for i, step in enumerate(steps):
        await expect(page.locator(f"#step-{i}")).to_be_focused()
        await page.keyboard.press("Space")
        await expect(page.locator(f"#step-{i}")).to_be_checked()
        if step.phone:  # the rung's dial link comes next, in the keyboard's order
            await page.keyboard.press("Tab")
            link = page.locator(f"#panel-plan li:nth-child({i + 1}) a")
            await expect(link).to_be_focused()
            dialled.append(await link.get_attribute("href"))
        if i < len(steps) - 1:
            await page.keyboard.press("Tab")
    assert dialled == [f"tel:{NEIGHBOUR.phone}"]

    def steps_recorded() -> bool:
        found = alert_of(database_url, fred, "smoke")
        return found is not None and len(found["details"].get("steps_done", [])) == len(steps)

    await eventually(steps_recorded, "every step of the smoke plan recorded")
    await page.keyboard.press("r")
    await expect(page.locator("#resolve-dialog")).to_be_visible()
    await page.keyboard.press("Enter")  # nothing chosen for the handler
    await expect(page.locator("#resolve-error")).to_contain_text("Choose an outcome")
    await expect(page.locator("#resolve-dialog")).to_be_visible()
    await page.keyboard.press("4")
    await page.keyboard.press("Enter")  # a smoke alarm needs a note
    await expect(page.locator("#resolve-error")).to_contain_text("Write a note")
    await page.keyboard.type("Burnt toast; Mr Hall opened the window and the alarm stopped.")
    await page.keyboard.press("Control+Enter")
    await expect(smoke).to_have_count(0)
    closed = alert_of(database_url, fred, "smoke")
    assert closed is not None
    assert (closed["status"], closed["outcome"]) == (
        "resolved",
        "false_alarm",
    )
    # It is in the recently closed list, with the call to the neighbour on its trail.
    await page.locator("#closed-box > summary").click()
    done = page.locator("#closed > li", has_text=fred.name)
    await expect(done).to_contain_text("False alarm")
    await done.get_by_text("Trail").click()
    await expect(done.locator(".trail")).to_contain_text(f"step done — Call {NEIGHBOUR.name}")
    await page.locator("#closed-box > summary").click()
    await page.locator(".alert").first.focus()

    # The silence: nobody on the carers' ladder answered in 3 s, so it went to the responders
    # and is late for the centre (red). Movement comes back: it stays, as "needs review".
    await expect(silence.locator(".status")).to_contain_text("escalated", timeout=20_000)
    await expect(silence).to_have_class(re.compile(r"\boverdue\b"))
    movement_now(mqtt_url, mary.hub)
    await expect(silence.locator(".status")).to_contain_text("needs review", timeout=20_000)
    reviewed = alert_of(database_url, mary, "no_movement")
    assert reviewed is not None
    assert reviewed["status"] == "escalated"
    assert reviewed["details"]["needs_review"] is True
    # Its clock starts again at the clearing; answering it puts it in progress from then.
    await expect(silence.locator(".timer")).to_have_text(re.compile(r"^needs review \d{1,2} s$"))
    await page.wait_for_timeout(1_500)  # a tick later it is still there
    await expect(silence).to_be_visible()
    await silence.click()
    await expect(page.locator("#panel-review")).to_contain_text("Check on the resident")
    await page.keyboard.press("a")
    await expect(silence.locator(".status")).to_contain_text(f"acknowledged by {edith.responder}")
    await expect(silence.locator(".timer")).to_have_text(re.compile(r"^in progress \d{1,2} s$"))
    await page.keyboard.press("r")
    await page.keyboard.press("2")  # carer visited; an urgent alert needs no note
    await page.keyboard.press("Enter")
    await expect(silence).to_have_count(0)

    # The service report measures answers to the first acknowledgement of each alert.
    async with httpx.AsyncClient(base_url=shift_server.http_url, timeout=10) as admin:
        admin.headers["Authorization"] = f"Bearer {await token(admin)}"
        report = (await admin.get("/api/v1/reports/service")).json()
    expected = service_figures(first_acknowledgements(database_url))
    got = {s["severity"]: s for s in report["by_severity"]}
    for figures in expected.by_severity:
        mine = got[figures.severity]
        assert mine["alert_to_acknowledgement"]["count"] == figures.alert_to_acknowledgement.count
        for q in ("p50_s", "p90_s"):
            want = getattr(figures.alert_to_acknowledgement, q)
            assert mine["alert_to_acknowledgement"][q] == pytest.approx(want, abs=0.001)
        assert mine["acknowledged_within_60s"] == figures.acknowledged_within_60s
    assert got["emergency"]["alert_to_acknowledgement"]["count"] == 2

    # Muted in this browser, Mrs Clarke pressing again is seen but not heard; unmuted, it is.
    await page.get_by_role("button", name="Mute sound").click()
    await expect(page.locator("#sound-toggle")).to_have_attribute("aria-pressed", "true")
    sounded = await sounds(page)
    press_pendant(mqtt_url, edith.hub)
    await eventually(lambda: presses(database_url, edith) == 2, "the second press")
    await page.wait_for_timeout(1_500)
    assert await sounds(page) == sounded
    await page.get_by_role("button", name="Sound muted: turn on").click()
    press_pendant(mqtt_url, edith.hub)
    await sounded_more_than(page, sounded)


async def sounds(page: Page) -> int:
    """How many times the console's alarm sound has started playing."""
    return int(await page.evaluate("Number(document.body.dataset.alarmsSounded || 0)"))


async def sounded_more_than(page: Page, count: int) -> None:
    """Wait until the alarm has started more than ``count`` times (polled: the CSP forbids
    the string predicates of wait_for_function)."""
    for _ in range(100):
        if await sounds(page) > count:
            return
        await page.wait_for_timeout(100)
    raise AssertionError(f"the alarm sound did not start again (still {count})")


def presses(database_url: str, home: Home) -> int:
    found = alert_of(database_url, home, "pendant")
    return 0 if found is None else int(found["details"].get("presses", 1))


def pendant_status(database_url: str, home: Home) -> str | None:
    found = alert_of(database_url, home, "pendant")
    return None if found is None else str(found["status"])


async def test_fifteen_alerts_fit_on_a_1440_by_900_screen(
    browser: Browser, quick_server: CarewatchServer, database_url: str
) -> None:
    async with httpx.AsyncClient(base_url=quick_server.http_url, timeout=10) as admin:
        admin.headers["Authorization"] = f"Bearer {await token(admin)}"
        tag = uuid.uuid4().hex[:6]
        home = await make_home(admin, f"Mrs Edith Clarke {tag}", "north", tag=f"e{tag}")
    # A busy night: sixteen alerts, the oldest four emergencies first.
    kinds = ["pendant", "smoke", "fall", "pull_cord", "no_movement", "not_up", "cold_home",
             "door_at_night", "battery_low", "co", "flood", "checkin_missed", "hub_offline",
             "sensor_silent", "night_toilet_visits", "out_of_bed"]  # fmt: skip
    with psycopg.connect(database_url) as conn:
        for i, kind in enumerate(kinds):
            conn.execute(
                "INSERT INTO alerts (resident_id, hub_id, kind, severity, status, raised_at,"
                " event_at, reason) VALUES (%s, %s, %s, %s, 'open', now() - %s * interval '1 min',"
                " now(), %s)",
                (
                    home.resident_id,
                    home.hub,
                    kind,
                    "emergency" if i < 4 else "urgent",
                    i,
                    f"A reason long enough to need more than one line on a narrow card ({kind}).",
                ),
            )
    page = await browser.new_page(viewport={"width": 1440, "height": 900})
    await sign_in(page, quick_server.http_url, home.responder, PASSWORD)
    await expect(page.locator(".alert")).to_have_count(len(kinds))
    # Not chosen, a row is one line (its reason cut short); the chosen one shows it all.
    fifteenth = await page.locator(".alert").nth(14).bounding_box()
    assert fifteenth is not None
    assert fifteenth["y"] + fifteenth["height"] <= SCREEN["height"], fifteenth
    await page.locator(".alert").nth(3).click()
    chosen = page.locator(".alert.selected")
    await expect(chosen.locator(".reason")).to_be_visible()
    assert await chosen.locator(".reason").evaluate("r => r.scrollWidth <= r.clientWidth")
    assert await accessibility_problems(page) == []

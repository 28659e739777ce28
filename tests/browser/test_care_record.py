"""The care record on the console's panel, as a call handler uses it, and on the admin page.

A responder opens an alert: the resident's phone is a tel: link with the right
number, the contacts are listed in call order each with theirs, the ReSPECT
form, allergies and hazards stand out; the key safe code is shown only when
asked for, and that is logged; the record is edited in the console and on the
admin page; axe finds nothing on either.
"""

from __future__ import annotations

import uuid

import httpx
import psycopg
import pytest
from playwright.async_api import Browser, Page, expect

from server.runtime import CarewatchServer
from tests.browser.conftest import accessibility_problems, screenshot, sign_in
from tests.server.helpers import ADMIN_PASSWORD, eventually
from tests.server.people import PASSWORD, Home, bearer, make_home

pytestmark = pytest.mark.browser

RECORD = {
    "phone": "0113 496 0123",
    "address": "14 Larch Close, Leeds LS6 2QT",
    "access_notes": "Side gate; the front door sticks, push hard.",
    "key_safe_code": "C4471",
    "medical_summary": "Type 2 diabetes.",
    "allergies": "Penicillin",
    "medication": "Metformin 500 mg twice a day",
    "resuscitation": "respect",
    "resuscitation_form_at": "on the fridge door",
    "hazards": ["Dog (friendly)", "Oxygen in use: no smoking"],
    "language": "English",
    "hearing_sight": "Hard of hearing: knock loudly",
}
CONTACTS = [
    {"name": "Jo Clarke", "relationship": "daughter", "phone": "020 7946 0011",
     "kind": "next_of_kin", "keyholder": True},
    {"name": "Dr Ahmed", "relationship": "GP", "phone": "0113 496 0999", "kind": "professional"},
]  # fmt: skip


async def home_with_a_record(server: CarewatchServer, database_url: str) -> Home:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as client:
        client.headers["Authorization"] = f"Bearer {await bearer_admin(client)}"
        tag = uuid.uuid4().hex[:6]
        home = await make_home(client, f"Mrs Edith Clarke {tag}", "north", tag=f"e{tag}")
        client.headers["Authorization"] = f"Bearer {await bearer(client, home.responder)}"
        url = f"/api/v1/residents/{home.resident_id}/record"
        assert (await client.put(url, json=RECORD)).status_code == 200
        assert (await client.put(f"{url}/contacts", json={"contacts": CONTACTS})).status_code == 200
        # Edith agrees to her health notes being shown to the centre.
        client.headers["Authorization"] = f"Bearer {await bearer(client, home.resident_user)}"
        agreed = await client.put(
            f"/api/v1/residents/{home.resident_id}/choices",
            json={"share_health_notes": True, "share_activity_with_carers": True},
        )
        assert agreed.status_code == 200, agreed.text
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO alerts (resident_id, hub_id, kind, severity, status, raised_at,"
            " event_at, reason) VALUES (%s, %s, 'pendant', 'emergency', 'open', now(), now(),"
            " 'Mrs Clarke pressed her pendant.')",
            (home.resident_id, home.hub),
        )
    return home


async def bearer_admin(client: httpx.AsyncClient) -> str:
    response = await client.post(
        "/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def admin_on_record(browser: Browser, server: CarewatchServer, home: Home) -> Page:
    """The admin page, signed in as admin, with ``home``'s record (and plans) loaded."""
    admin = await browser.new_page(viewport={"width": 1440, "height": 900})
    await sign_in(admin, server.http_url, "admin", ADMIN_PASSWORD)
    await expect(admin.locator("#who-name")).to_contain_text("admin")
    await admin.goto(f"{server.http_url}/admin")
    await admin.get_by_label("Whose record").select_option(str(home.resident_id))
    await expect(admin.locator("#record-state")).to_have_text(f"Editing {home.name}'s record.")
    return admin


async def desk_on_console(browser: Browser, server: CarewatchServer, home: Home) -> Page:
    """The home's responder signed in on the console, the home's alert in the queue."""
    page = await browser.new_page(viewport={"width": 1440, "height": 900})
    await sign_in(page, server.http_url, home.responder, PASSWORD)
    await expect(page.locator(".alert", has_text=home.name)).to_be_visible()
    return page


def _key_safe_reads(database_url: str, home: Home) -> list[tuple[str, bool]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT username, allowed FROM record_reads WHERE resident_id = %s"
            " AND what = 'key safe code' ORDER BY id",
            (home.resident_id,),
        ).fetchall()
    return [(u, a) for u, a in rows]


def _contact_ids(database_url: str, home: Home) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT contact_id::text FROM resident_contacts WHERE resident_id = %s"
            " ORDER BY position",
            (home.resident_id,),
        ).fetchall()
    return [str(i) for (i,) in rows]


def _contacts(database_url: str, home: Home) -> list[tuple[str, str]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT name, phone FROM resident_contacts WHERE resident_id = %s ORDER BY position",
            (home.resident_id,),
        ).fetchall()
    return [(n, p) for n, p in rows]


async def test_the_panel_shows_the_record_and_the_desk_edits_it(
    browser: Browser, quick_server: CarewatchServer, database_url: str
) -> None:
    home = await home_with_a_record(quick_server, database_url)
    page = await desk_on_console(browser, quick_server, home)
    panel = page.locator("#panel")
    await expect(panel).to_be_visible()

    # One click dials the resident, then each contact in call order.
    resident_phone = page.locator("#panel-phone a")
    await expect(resident_phone).to_have_attribute("href", "tel:+441134960123")
    await expect(resident_phone).to_have_text("0113 496 0123")
    contacts = page.locator("#panel-contacts li")
    await expect(contacts).to_have_count(2)
    await expect(contacts.nth(0)).to_contain_text("Jo Clarke (daughter, keyholder)")
    await expect(contacts.nth(0).locator("a")).to_have_attribute("href", "tel:+442079460011")
    await expect(contacts.nth(1).locator("a")).to_have_attribute("href", "tel:+441134960999")
    flags = page.locator("#panel-flags")
    for words in ("ReSPECT form in place", "on the fridge door", "Penicillin", "Dog (friendly)",
                  "Oxygen in use", "Hard of hearing"):  # fmt: skip
        await expect(flags).to_contain_text(words)
    await expect(page.locator("#panel-access")).to_contain_text("Side gate")

    # The key safe code is not on the page until asked for, by keyboard; the showing is logged.
    assert "C4471" not in await page.content()
    assert _key_safe_reads(database_url, home) == []
    reveal = page.get_by_role("button", name="Show key safe code")
    await reveal.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#key-safe-code")).to_contain_text("C4471")
    await expect(page.locator("#key-safe-code")).to_contain_text("logged")
    assert _key_safe_reads(database_url, home) == [(home.responder, True)]
    await screenshot(page, "console-care-record")
    assert await accessibility_problems(page) == []

    # The desk edits the record: a new allergy, a neighbour with a key called first.
    await page.get_by_role("button", name="Edit the record and contacts").click()
    dialog = page.locator("#record-dialog")
    await expect(dialog).to_be_visible()
    await expect(page.locator("#cr-phone")).to_have_value("0113 496 0123")
    await expect(page.locator("#cr-key-safe")).to_have_value("")
    assert await accessibility_problems(page) == []
    await page.locator("#cr-allergies").fill("Penicillin, latex")
    # The GP's name corrected: the page sends her id back, so she is the same contact
    # (her rung, and a tick on it, stay hers) though no name matches any more.
    jo_id, gp_id = _contact_ids(database_url, home)
    await page.locator("#cr-contacts li").nth(1).get_by_label("Name").fill("Dr Sara Ahmed")
    await page.get_by_role("button", name="Add a contact").click()
    row = page.locator("#cr-contacts li").nth(2)
    await expect(row.get_by_label("Name")).to_be_focused()
    await page.keyboard.type("Peter Moss")
    await row.get_by_label("Relationship").fill("neighbour")
    await row.get_by_label("Phone").fill("not a number")
    await row.get_by_label("Holds a key").check()
    await page.get_by_role("button", name="Save the record").click()
    await expect(page.locator("#cr-error")).to_contain_text("not a phone number")
    await expect(dialog).to_be_visible()
    await row.get_by_label("Phone").fill("0113 496 0456")
    # The row moves up as it goes (a locator by position would follow the place, not the row).
    earlier = page.get_by_role("button", name="Call earlier: Peter Moss")
    await earlier.click()
    await earlier.click()
    await expect(earlier).to_be_disabled()
    await page.get_by_role("button", name="Save the record").click()
    await expect(dialog).to_be_hidden()
    await expect(flags).to_contain_text("Penicillin, latex")
    await expect(contacts).to_have_count(3)
    await expect(contacts.nth(0)).to_contain_text("Peter Moss (neighbour, keyholder)")
    await expect(contacts.nth(0).locator("a")).to_have_attribute("href", "tel:+441134960456")
    await eventually(
        lambda: (
            [n for n, _ in _contacts(database_url, home)]
            == ["Peter Moss", "Jo Clarke", "Dr Sara Ahmed"]
        ),
        "the contacts saved in the new call order",
    )
    peter_id, *kept = _contact_ids(database_url, home)
    assert kept == [jo_id, gp_id]
    assert peter_id not in kept
    # Saving the form without a new code kept the one on file; it is hidden again until asked.
    await expect(page.locator("#key-safe-code")).to_have_text("")
    await page.get_by_role("button", name="Show key safe code").click()
    await expect(page.locator("#key-safe-code")).to_contain_text("C4471")
    assert _key_safe_reads(database_url, home) == [(home.responder, True)] * 2
    await page.close()

    # The same record on the admin page.
    admin = await admin_on_record(browser, quick_server, home)
    await expect(admin.locator("#cr-allergies")).to_have_value("Penicillin, latex")
    await expect(admin.locator("#cr-contacts li")).to_have_count(3)
    await admin.locator("#cr-language").fill("English and Polish")
    await admin.get_by_role("button", name="Save the record").click()
    await expect(admin.locator("#record-message")).to_contain_text("care record and contacts saved")
    assert await accessibility_problems(admin) == []
    with psycopg.connect(database_url) as conn:
        row_ = conn.execute(
            "SELECT language FROM residents WHERE id = %s", (home.resident_id,)
        ).fetchone()
    assert row_ == ("English and Polish",)

    # Edith's carer reads the essentials on her record page: the phone to dial, whom to
    # call (names only: the contacts' numbers are for the centre), never the access.
    carer = await browser.new_page(viewport={"width": 390, "height": 844})
    await sign_in(carer, quick_server.http_url, home.carer, PASSWORD)
    await expect(carer.locator("#who-name")).to_contain_text(home.carer)
    await carer.goto(f"{quick_server.http_url}/residents/{home.resident_id}")
    await expect(carer.locator("#phone a")).to_have_attribute("href", "tel:+441134960123")
    await expect(carer.locator("#hazards")).to_contain_text("Dog (friendly)")
    listed = carer.locator("#record-contacts li")
    await expect(listed).to_have_count(3)
    await expect(listed.nth(0)).to_contain_text("Peter Moss (neighbour, keyholder)")
    await expect(carer.locator("#record-contacts a")).to_have_count(0)
    await expect(carer.locator("#access")).to_have_text("shown to responders only")
    assert await accessibility_problems(carer) == []

"""The console in a real browser: sign in, an alert arrives live, acknowledge it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from playwright.async_api import Browser, expect

from edge.protocol import Alarm, AlarmKind, alarm_topic, encode
from server.runtime import CarewatchServer
from tests.server.helpers import ADMIN_PASSWORD, Publisher, provision, unique_hub

pytestmark = pytest.mark.browser


async def test_alert_appears_live_and_is_acknowledged(
    browser: Browser,
    server: CarewatchServer,
    api: httpx.AsyncClient,
    database_url: str,
    mqtt_url: str,
) -> None:
    hub = unique_hub()
    provision(database_url, hub, "Mrs Edith Clarke")
    page = await browser.new_page()
    await page.goto(server.http_url)
    await page.get_by_label("Username").fill("admin")
    await page.get_by_label("Password").fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_text("No active alerts.")).to_be_visible()
    await expect(page.locator("#connection")).to_have_text(
        "Live: new alerts appear here as they are raised."
    )

    publisher = Publisher(mqtt_url)
    alarm = Alarm(
        hub=hub,
        id=str(uuid.uuid4()),
        sensor="pendant",
        kind=AlarmKind.PENDANT,
        ts=datetime.now(UTC),
    )
    publisher.publish(alarm_topic(hub), encode(alarm))
    publisher.close()

    # No reload: the alert must arrive over the live stream.
    alert = page.locator(".alert", has_text="Mrs Edith Clarke")
    await expect(alert).to_be_visible(timeout=10_000)
    await expect(alert.locator(".severity")).to_have_text("emergency")
    await expect(alert.locator(".kind")).to_have_text("Pendant pressed")
    await alert.get_by_role("button", name="Acknowledge alert for Mrs Edith Clarke").click()
    await expect(alert.locator(".status")).to_have_text("acknowledged by admin")

    alerts = (await api.get("/api/v1/alerts", params={"status": "acknowledged"})).json()
    mine = [a for a in alerts if a["hub"] == hub]
    assert [(a["status"], a["acknowledged_by"]) for a in mine] == [("acknowledged", "admin")]

    await alert.get_by_label("Outcome").select_option("false_alarm")
    await alert.get_by_role("button", name="Resolve alert for Mrs Edith Clarke").click()
    await expect(alert).to_have_count(0)
    resolved = [
        a
        for a in (await api.get("/api/v1/alerts", params={"status": "resolved"})).json()
        if a["hub"] == hub
    ]
    assert resolved[0]["outcome"] == "false_alarm"

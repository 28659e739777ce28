"""A pendant pressed again on an emergency already being worked re-alerts everyone working it.

Real server, broker, database, SMTP server and webhook receiver: a carer says
she is dealing with an emergency (the alarm centre keeps it), the resident
presses twice more, and each press reaches that carer and the on-duty
responders again, is on
the alert's trail with its time and count, and reaches the console's live
stream. A redelivered alarm (the same id) raises nothing.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest

from edge.protocol import Alarm, AlarmKind, alarm_topic, encode
from server.passwords import hash_password
from server.runtime import CarewatchServer
from tests.server.helpers import Publisher, forget_session, provision, token, unique_hub, wait_for
from tests.server.receivers import Hooks, Mailbox, smtp_server, webhook_server
from tests.server.test_escalation import _settings, add_person

AMY_PASSWORD = "amy-long-test-password"


@pytest.fixture
def smtp() -> Iterator[tuple[str, Mailbox]]:
    with smtp_server() as found:
        yield found


@pytest.fixture
def webhooks() -> Iterator[tuple[str, Hooks]]:
    with webhook_server() as found:
        yield found


@pytest.fixture
async def server(
    database_url: str, mqtt_url: str, smtp: tuple[str, Mailbox]
) -> AsyncIterator[CarewatchServer]:
    settings = _settings(smtp[0])
    async with CarewatchServer(settings, database_url=database_url, mqtt_url=mqtt_url) as running:
        yield running
    forget_session(mqtt_url, settings.mqtt_client_id)


def press(mqtt_url: str, hub: str, alarm_id: str | None = None) -> str:
    """The resident presses their pendant (or the hub redelivers press ``alarm_id``)."""
    alarm_id = alarm_id or str(uuid.uuid4())
    publisher = Publisher(mqtt_url)
    try:
        alarm = Alarm(hub, alarm_id, "pendant", AlarmKind.PENDANT, datetime.now(UTC))
        publisher.publish(alarm_topic(hub), encode(alarm))
    finally:
        publisher.close()
    return alarm_id


class Stream:
    """The console's live stream, read in the background: every ``alert`` event's data."""

    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []
        self.open = asyncio.Event()

    async def read(self, client: httpx.AsyncClient) -> None:
        async with client.stream("GET", "/api/v1/alerts/stream") as response:
            assert response.status_code == 200
            event = ""
            async for line in response.aiter_lines():
                self.open.set()
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: ") and event == "alert":
                    self.alerts.append(json.loads(line.removeprefix("data: ")))

    def presses(self) -> list[int]:
        return [a["details"].get("presses", 1) for a in self.alerts]


async def test_each_new_press_on_an_acknowledged_emergency_re_alerts_everyone_working_it(
    server: CarewatchServer,
    database_url: str,
    mqtt_url: str,
    smtp: tuple[str, Mailbox],
    webhooks: tuple[str, Hooks],
) -> None:
    (_, mailbox), (hook_url, hooks) = smtp, webhooks
    hub = unique_hub()
    resident = f"Mrs Again {hub}"
    provision(database_url, hub, resident)
    add_person(
        database_url, "amy", "carer", channels=[("email", "amy@example.org")], carer_of=resident
    )
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE users SET password_hash = %s WHERE username = 'amy'",
            (hash_password(AMY_PASSWORD),),
        )
    for name in ("desk", "sam"):
        add_person(
            database_url,
            name,
            "responder",
            channels=[("webhook", f"{hook_url}/{name}")],
            on_duty=True,
        )
    add_person(database_url, "off", "responder", channels=[("webhook", f"{hook_url}/off")])

    def calls() -> tuple[int, int, int]:
        return len(hooks.to("/desk")), len(hooks.to("/sam")), len(mailbox.messages)

    async def reached(expected: tuple[int, int, int]) -> bool:
        return calls() == expected

    press(mqtt_url, hub)
    await wait_for(lambda: reached((1, 1, 0)), what="the responders called for the emergency")

    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as amy:
        amy_token = (
            await amy.post("/api/v1/auth/token", data={"username": "amy", "password": AMY_PASSWORD})
        ).json()["access_token"]
        amy.headers["Authorization"] = f"Bearer {amy_token}"
        (alert,) = (await amy.get("/api/v1/alerts")).json()
        acked = await amy.post(f"/api/v1/alerts/{alert['id']}/ack")
        assert acked.status_code == 200, acked.text

    async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as console:
        console.headers["Authorization"] = f"Bearer {await token(console)}"
        stream = Stream()
        reader = asyncio.create_task(stream.read(console))
        try:
            await asyncio.wait_for(stream.open.wait(), 10)

            second = press(mqtt_url, hub)
            await wait_for(lambda: reached((2, 2, 1)), what="everyone told of the second press")
            recipients, subject, body = mailbox.messages[0]
            assert recipients == ["amy@example.org"], "the carer who acknowledged it hears too"
            assert "AGAIN (press 2)" in subject
            assert "pressed their pendant again" in body
            assert "/ack/" in body, "still the centre's: the carer gets a link to take it"
            assert "pressed their pendant again" in hooks.to("/desk")[1]["message"]

            async def streamed(count: int) -> bool:
                return count in stream.presses()

            await wait_for(lambda: streamed(2), what="the console hearing the second press")

            press(mqtt_url, hub)
            await wait_for(lambda: reached((3, 3, 2)), what="everyone told of the third press")
            assert "AGAIN (press 3)" in mailbox.messages[1][1]
            await wait_for(lambda: streamed(3), what="the console hearing the third press")

            # The hub sends the second press again (no PUBACK reached it): nothing new.
            press(mqtt_url, hub, alarm_id=second)
            await asyncio.sleep(2.0)
            assert calls() == (3, 3, 2)
            assert max(stream.presses()) == 3
            assert hooks.to("/off") == []

            history = (await console.get(f"/api/v1/alerts/{alert['id']}/history")).json()
            now = (await console.get(f"/api/v1/alerts/{alert['id']}")).json()
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    assert now["status"] == "open", "a carer's tap leaves an emergency with the centre"
    assert [r["by"] for r in now["details"]["responding"]] == ["amy"]
    assert now["details"]["presses"] == 3
    events = history["events"]
    pressed = [e for e in events if e["action"] == "pressed_again"]
    assert [e["details"]["press"] for e in pressed] == [2, 3]
    assert all(e["details"]["at"] and "again at" in e["note"] for e in pressed)
    assert "Press 2 on this alert." in pressed[0]["note"]
    # Each delivery says which press it was for (None: the ladder's own round).
    attempts = [(n["name"], n["press"]) for n in history["notifications"]]
    assert sorted(name for name, p in attempts if p is None) == ["Desk", "Sam"]
    for again in (2, 3):
        assert sorted(name for name, p in attempts if p == again) == ["Amy", "Desk", "Sam"]
    told = [e for e in events if e["action"] == "notified" and "press" in e["details"]]
    assert [e["details"]["press"] for e in told] == [2, 3]
    for event in told:
        # The carer dealing with it comes first, then everyone told of it before.
        assert event["details"]["reached"][0] == "Amy"
        assert sorted(event["details"]["reached"]) == ["Amy", "Desk", "Sam"]
        assert event["note"].startswith(f"Press {event['details']['press']}: notified Amy, ")

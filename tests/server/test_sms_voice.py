"""SMS and voice calls on the ladder, against a fake provider on localhost (tests/server/gateways.py).

A real server, database and broker; the provider is a real HTTP server that
takes apprise's SMS posts and Twilio-style call requests and calls the
server's callbacks back as the phone's script says.
"""

from __future__ import annotations

import asyncio
import re
import time as clock
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from pydantic import SecretStr

from server.alerts.escalation import EscalationPolicy, EscalationScheduler
from server.alerts.notify import AppriseNotifier
from server.alerts.voice_signature import request_signature
from server.runtime import CarewatchServer
from server.settings import ServerSettings
from server.store.pool import migrate, open_pool
from tests.server.gateways import AUTH_TOKEN, CALLER_ID, Call, Gateway, fake_gateway
from tests.server.helpers import (
    ADMIN_PASSWORD,
    forget_session,
    press_pendant,
    provision,
    token,
    unique_hub,
    wait_for,
)
from tests.server.people import PASSWORD
from tests.server.receivers import Mailbox, smtp_server
from tests.server.test_escalation import add_person, notifications, raise_no_movement

ACK_TIMEOUT_S = 1.5
# Each step takes a second or two; the margin is for a machine busy with other work.
WITHIN = 40.0
AMY = "+447400123456"
BEN = "+447400123457"
DESK = "+447400123458"


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with fake_gateway() as found:
        yield found


@pytest.fixture
def smtp() -> Iterator[tuple[str, Mailbox]]:
    with smtp_server() as found:
        yield found


@asynccontextmanager
async def _serving(
    database_url: str,
    mqtt_url: str,
    gateway: Gateway,
    smtp: tuple[str, Mailbox],
    *,
    public_url: str | None = None,
) -> AsyncIterator[CarewatchServer]:
    settings = ServerSettings(
        http_port=0,
        admin_password=SecretStr(ADMIN_PASSWORD),
        mqtt_client_id=f"carewatch-sms-{uuid.uuid4().hex[:8]}",
        email_url=smtp[0],
        sms_url=SecretStr(gateway.sms_url),
        voice_url=SecretStr(gateway.voice_url),
        voice_ring_s=5,
        voice_listen_s=5.0,
        ack_timeout_s=ACK_TIMEOUT_S,
        escalation_tick_s=0.1,
        link_secret=SecretStr("s" * 40),
        public_url=public_url,
    )
    async with CarewatchServer(settings, database_url=database_url, mqtt_url=mqtt_url) as server:
        yield server
    forget_session(mqtt_url, settings.mqtt_client_id)


@pytest.fixture
async def reaching(
    database_url: str, mqtt_url: str, gateway: Gateway, smtp: tuple[str, Mailbox]
) -> AsyncIterator[CarewatchServer]:
    async with _serving(database_url, mqtt_url, gateway, smtp) as server:
        yield server


def _trail(database_url: str) -> list[tuple[str, str]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT action, coalesce(note, '') FROM alert_events ORDER BY id"
        ).fetchall()


def _alert(database_url: str) -> tuple[Any, ...] | None:
    """The one alert's status and who holds it; None before it is raised."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT status, acknowledged_by FROM alerts").fetchone()
    return None if row is None else tuple(row)


async def test_an_sms_carries_the_alerts_words_and_its_acknowledge_link(
    reaching: CarewatchServer, database_url: str, mqtt_url: str, gateway: Gateway
) -> None:
    hub = unique_hub()
    resident = f"Mrs Text {hub}"
    provision(database_url, hub, resident)
    add_person(database_url, "amy", "carer", channels=[("sms", AMY)], carer_of=resident)
    raise_no_movement(mqtt_url, hub)

    async def texted() -> list[dict[str, str]]:
        return gateway.texts_to(AMY)

    (text,) = await wait_for(texted, within=WITHIN, what="Amy's SMS")
    assert text["title"].startswith("[URGENT]")
    assert resident in text["title"]
    assert "No movement" in text["message"]
    match = re.search(r"(http://\S+/ack/\S+)", text["message"])
    assert match is not None, text["message"]

    async def recorded() -> bool:
        return bool(notifications(database_url))

    await wait_for(recorded, within=WITHIN, what="the attempt on the trail")
    ((user, rung, channel, ok, error, _),) = notifications(database_url)
    assert (user, rung, channel, ok, error) == ("amy", 0, "sms", True, None)
    async with httpx.AsyncClient(timeout=10) as browser:
        assert (await browser.post(match[1])).status_code == 200
    assert _alert(database_url) == ("acknowledged", "amy")


async def test_a_carer_who_presses_1_on_the_call_takes_the_alert(
    reaching: CarewatchServer, database_url: str, mqtt_url: str, gateway: Gateway
) -> None:
    hub = unique_hub()
    resident = f"Mrs Call {hub}"
    provision(database_url, hub, resident)
    gateway.scripts[AMY] = ["accept"]
    add_person(database_url, "amy", "carer", channels=[("voice", AMY)], carer_of=resident)
    add_person(database_url, "ben", "carer", channels=[("sms", BEN)], carer_of=resident)
    raise_no_movement(mqtt_url, hub)

    async def accepted() -> bool:
        # The phone hears the server's reply to the key after the server has stored the
        # acknowledgement, so both are waited for.
        answered = any(c.after_key is not None for c in gateway.calls_to(AMY))
        return answered and _alert(database_url) == ("acknowledged", "amy")

    await wait_for(accepted, within=WITHIN, what="Amy's key to acknowledge the alert")
    (call,) = gateway.calls_to(AMY)
    assert call.caller_id == CALLER_ID
    assert resident in call.spoken
    assert "No movement" in call.spoken
    assert "Press 1" in call.spoken
    assert call.after_key is not None
    assert "yours" in call.after_key
    assert all(code == 204 for code in call.statuses_answered)

    async def recorded() -> bool:
        return bool(notifications(database_url))

    await wait_for(recorded, within=WITHIN, what="the call on the trail")
    assert [(u, c, ok) for u, _, c, ok, _, _ in notifications(database_url)] == [
        ("amy", "voice", True)
    ]
    actions = [action for action, _ in _trail(database_url)]
    assert "call_accepted" in actions
    await asyncio.sleep(ACK_TIMEOUT_S * 2)
    assert gateway.texts_to(BEN) == [], "the next carer is not troubled once Amy has it"


async def test_a_carer_who_does_not_answer_is_called_again_then_the_next(
    reaching: CarewatchServer, database_url: str, mqtt_url: str, gateway: Gateway
) -> None:
    hub = unique_hub()
    resident = f"Mr Ringout {hub}"
    provision(database_url, hub, resident)
    gateway.scripts[AMY] = ["no-answer", "hang-up"]
    add_person(database_url, "amy", "carer", channels=[("voice", AMY)], carer_of=resident)
    add_person(database_url, "ben", "carer", channels=[("sms", BEN)], carer_of=resident)
    raise_no_movement(mqtt_url, hub)

    async def ben_texted() -> bool:
        return bool(gateway.texts_to(BEN))

    await wait_for(ben_texted, within=WITHIN, what="Ben's SMS after Amy did not answer")
    assert len(gateway.calls_to(AMY)) == 2, "called again once, not more"

    async def recorded() -> bool:
        return any(user == "ben" for user, *_ in notifications(database_url))

    await wait_for(recorded, within=WITHIN, what="Ben's attempt on the trail")
    attempts = notifications(database_url)
    amy = [(channel, ok, error) for user, _, channel, ok, error, _ in attempts if user == "amy"]
    assert amy == [
        ("voice", False, "no answer"),
        ("voice", False, "answered, but 1 was not pressed (perhaps voicemail)"),
    ]
    ben_at = next(at for user, *_, at in attempts if user == "ben")
    # Nobody answered, so Ben did not wait out Amy's acknowledge timeout.
    assert ben_at - attempts[1][5] < timedelta(seconds=ACK_TIMEOUT_S)
    assert _alert(database_url) == ("open", None)
    notes = [note for action, note in _trail(database_url) if action == "notified"]
    assert notes[0].startswith("Could not reach Amy")


async def test_a_gateway_that_is_down_is_retried_then_the_next_channel_is_tried(
    reaching: CarewatchServer,
    database_url: str,
    mqtt_url: str,
    gateway: Gateway,
    smtp: tuple[str, Mailbox],
) -> None:
    _, mailbox = smtp
    gateway.down = True
    hub = unique_hub()
    resident = f"Mrs Down {hub}"
    provision(database_url, hub, resident)
    add_person(
        database_url,
        "amy",
        "carer",
        channels=[("voice", AMY), ("sms", AMY), ("email", "amy@example.org")],
        carer_of=resident,
    )
    raise_no_movement(mqtt_url, hub)

    async def mailed() -> bool:
        return bool(mailbox.messages)

    await wait_for(mailed, within=WITHIN, what="Amy's e-mail after the gateway failed")

    async def recorded() -> bool:
        return len(notifications(database_url)) >= 5

    await wait_for(recorded, within=WITHIN, what="every attempt on the trail")
    attempts = [(c, ok, error) for _, _, c, ok, error, _ in notifications(database_url)]
    assert [(c, ok) for c, ok, _ in attempts] == [
        ("voice", False),
        ("voice", False),
        ("sms", False),
        ("sms", False),
        ("email", True),
    ]
    assert gateway.refused == 4, "each channel tried twice"
    voice_error, sms_error = attempts[0][2], attempts[2][2]
    assert voice_error is not None
    assert "HTTP 503" in voice_error
    assert sms_error, "the SMS failure says why"
    assert gateway.calls == []
    assert gateway.texts == []


async def test_quiet_hours_never_hold_an_urgent_alert_or_an_emergency(
    reaching: CarewatchServer, database_url: str, mqtt_url: str, gateway: Gateway
) -> None:
    hub = unique_hub()
    resident = f"Mrs Night {hub}"
    provision(database_url, hub, resident)
    add_person(database_url, "amy", "carer", channels=[("sms", AMY)], carer_of=resident)
    add_person(database_url, "desk", "responder", channels=[("sms", DESK)], on_duty=True)
    local = datetime.now(ZoneInfo("Europe/London"))
    with psycopg.connect(database_url) as conn:
        # Quiet hours around now, for both of them.
        conn.execute(
            "UPDATE users SET quiet_from = %s, quiet_until = %s",
            ((local - timedelta(hours=1)).time(), (local + timedelta(hours=1)).time()),
        )
    raise_no_movement(mqtt_url, hub)

    async def amy_texted() -> bool:
        return bool(gateway.texts_to(AMY))

    await wait_for(amy_texted, within=WITHIN, what="the urgent SMS in Amy's quiet hours")
    other = unique_hub()
    provision(database_url, other, f"Mr Pendant {other}")
    press_pendant(mqtt_url, other)

    async def desk_texted() -> bool:
        return any("[EMERGENCY]" in t["title"] for t in gateway.texts_to(DESK))

    await wait_for(desk_texted, within=WITHIN, what="the emergency SMS in the desk's quiet hours")


async def test_quiet_hours_hold_a_carers_digest_and_time_away_skips_it(
    database_url: str, smtp: tuple[str, Mailbox]
) -> None:
    email_url, mailbox = smtp
    migrate(database_url)
    provision(database_url, unique_hub(), "Mrs Digest")
    for name in ("amy", "ben", "cat"):
        add_person(
            database_url,
            name,
            "carer",
            channels=[("email", f"{name}@example.org")],
            carer_of="Mrs Digest",
        )
    zone = ZoneInfo("Europe/London")
    today = datetime.now(zone).date()
    morning = datetime.combine(today, time(8, 30), zone)
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO alerts (resident_id, kind, severity, status, event_at, reason)"
            " SELECT id, 'routine', 'advisory', 'open', now(), %s FROM residents",
            ("Fewer meals than usual for three days.",),
        )
        conn.execute(
            "UPDATE users SET quiet_from = '22:00', quiet_until = '09:00' WHERE username = 'amy'"
        )
        conn.execute(
            "UPDATE users SET away_until = %s WHERE username = 'cat'",
            (morning + timedelta(days=3),),
        )
    pool = await open_pool(database_url)
    try:
        scheduler = EscalationScheduler(
            pool,
            AppriseNotifier(email_url=email_url),
            link_key=b"k" * 32,
            public_url="http://console.example.org",
            policy=EscalationPolicy(digest_hour=8, digest_zone=zone),
        )
        assert await scheduler.run_digests(morning) == 1
        assert [m[0] for m in mailbox.messages] == [["ben@example.org"]]
        assert await scheduler.run_digests(morning + timedelta(minutes=45)) == 1
    finally:
        await pool.close()
    assert [m[0] for m in mailbox.messages] == [["ben@example.org"], ["amy@example.org"]]
    assert "Fewer meals" in mailbox.messages[1][2]


async def test_a_person_sets_how_they_are_reached_and_an_away_carer_is_skipped(
    reaching: CarewatchServer, database_url: str, mqtt_url: str, gateway: Gateway
) -> None:
    async with httpx.AsyncClient(base_url=reaching.http_url, timeout=10) as api:
        api.headers["Authorization"] = f"Bearer {await token(api)}"
        away = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        saved = await api.put(
            "/api/v1/me/reach",
            json={
                "channels": [
                    {"kind": "voice", "address": "07400 123456"},
                    {"kind": "sms", "address": "+44 7400 123456"},
                    {"kind": "email", "address": "admin@example.org"},
                ],
                "quiet_hours": {"start": "22:00", "end": "07:00"},
                "away_until": away,
            },
        )
        assert saved.status_code == 200, saved.text
        body = saved.json()
        assert [(c["kind"], c["address"]) for c in body["channels"]] == [
            ("voice", AMY),
            ("sms", AMY),
            ("email", "admin@example.org"),
        ]
        assert body["quiet_hours"] == {"start": "22:00:00", "end": "07:00:00"}
        assert body["away"] is True
        assert (await api.get("/api/v1/me/reach")).json() == body

        wrong = await api.put(
            "/api/v1/me/reach", json={"channels": [{"kind": "sms", "address": "12345"}]}
        )
        assert wrong.status_code == 422
        assert "country code" in wrong.json()["detail"]
        past = await api.put(
            "/api/v1/me/reach",
            json={"channels": [], "away_until": "2020-01-01T00:00:00Z"},
        )
        assert past.status_code == 422
        assert "has passed" in past.json()["detail"]
        hook = await api.put(
            "/api/v1/me/reach",
            json={"channels": [{"kind": "webhook", "address": "http://127.0.0.1:5432/"}]},
        )
        assert hook.status_code == 422, "a person cannot make the server post into its network"

    hub = unique_hub()
    resident = f"Mrs Away {hub}"
    provision(database_url, hub, resident)
    add_person(database_url, "amy", "carer", channels=[("sms", AMY)], carer_of=resident)
    add_person(database_url, "ben", "carer", channels=[("sms", BEN)], carer_of=resident)
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE users SET away_until = now() + interval '1 day' WHERE username = 'amy'"
        )
    raise_no_movement(mqtt_url, hub)

    async def ben_texted() -> bool:
        return bool(gateway.texts_to(BEN))

    await wait_for(ben_texted, within=WITHIN, what="Ben's SMS while Amy is away")

    async def recorded() -> bool:
        # The SMS arrives before the attempt's row commits.
        return bool(notifications(database_url))

    await wait_for(recorded, within=WITHIN, what="Ben's attempt on the trail")
    assert gateway.texts_to(AMY) == [], "Amy said she is away"
    assert [(user, rung) for user, rung, *_ in notifications(database_url)] == [("ben", 0)]


async def test_a_call_about_another_press_is_heard_once_by_the_one_who_has_the_alert(
    reaching: CarewatchServer, database_url: str, mqtt_url: str, gateway: Gateway
) -> None:
    hub = unique_hub()
    provision(database_url, hub, f"Mr Again {hub}")
    gateway.scripts[DESK] = ["accept"]
    add_person(database_url, "desk", "responder", channels=[("voice", DESK)], on_duty=True)
    press_pendant(mqtt_url, hub)

    async def taken() -> bool:
        return _alert(database_url) == ("acknowledged", "desk")

    await wait_for(taken, within=WITHIN, what="the desk's 1 on the emergency's call")
    press_pendant(mqtt_url, hub)

    async def heard() -> bool:
        calls = gateway.calls_to(DESK)
        return len(calls) == 2 and calls[1].after_key is not None

    await wait_for(heard, within=WITHIN, what="the call about the second press")
    again = gateway.calls_to(DESK)[1]
    assert "pressed their pendant again" in again.spoken
    assert again.after_key is not None
    assert "yours" in again.after_key

    async def recorded() -> bool:
        return len(notifications(database_url)) == 2

    await wait_for(recorded, within=WITHIN, what="both calls on the trail")
    assert [ok for _, _, _, ok, _, _ in notifications(database_url)] == [True, True]
    await asyncio.sleep(1.0)
    assert len(gateway.calls_to(DESK)) == 2, "heard once: not called again"
    assert _alert(database_url) == ("acknowledged", "desk")


async def test_a_person_cannot_choose_sms_or_calls_where_the_service_has_no_gateway(
    api: httpx.AsyncClient,
) -> None:
    for kind, words in (("sms", "text messages"), ("voice", "voice calls")):
        refused = await api.put(
            "/api/v1/me/reach", json={"channels": [{"kind": kind, "address": AMY}]}
        )
        assert refused.status_code == 422
        assert words in refused.json()["detail"]
    email = await api.put(
        "/api/v1/me/reach", json={"channels": [{"kind": "email", "address": "a@example.org"}]}
    )
    assert email.status_code == 200


# From the acknowledgement to the provider hearing the hang-up: the caller looks
# at the alert every quarter second; the rest is a busy machine's margin.
HANG_UP_WITHIN_S = 5.0


async def _ringing(gateway: Gateway, number: str) -> Call:
    """The first call to ``number``, once the phone is ringing."""

    async def ringing() -> Call | None:
        calls = gateway.calls_to(number)
        return calls[0] if calls and calls[0].state == "ringing" else None

    found: Call = await wait_for(ringing, within=WITHIN, what=f"the call to {number} ringing")
    return found


async def _signed_in(api: httpx.AsyncClient, username: str, role: str) -> None:
    """A person of the default service who signs in, and ``api`` signed in as them."""
    api.headers["Authorization"] = f"Bearer {await token(api)}"
    made = await api.post(
        "/api/v1/users",
        json={"username": username, "role": role, "service": "default", "password": PASSWORD},
    )
    assert made.status_code == 201, made.text
    signed = await api.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    api.headers["Authorization"] = f"Bearer {signed.json()['access_token']}"


async def test_a_ringing_call_is_hung_up_when_the_responder_takes_the_alert(
    reaching: CarewatchServer, database_url: str, mqtt_url: str, gateway: Gateway
) -> None:
    hub = unique_hub()
    resident = f"Mrs Ringing {hub}"
    provision(database_url, hub, resident)
    gateway.scripts[AMY] = ["ring"]
    add_person(database_url, "amy", "carer", channels=[("voice", AMY)], carer_of=resident)
    add_person(database_url, "ben", "carer", channels=[("sms", BEN)], carer_of=resident)
    raise_no_movement(mqtt_url, hub)
    call = await _ringing(gateway, AMY)

    async with httpx.AsyncClient(base_url=reaching.http_url, timeout=10) as api:
        await _signed_in(api, "desk", "responder")
        (alert,) = (await api.get("/api/v1/alerts")).json()
        taken = await api.post(f"/api/v1/alerts/{alert['id']}/ack")
        acknowledged = clock.monotonic()
    assert taken.status_code == 200, taken.text
    assert taken.json()["acknowledged_by"] == "desk"

    async def hung_up() -> list[tuple[str, float]]:
        return call.hang_ups

    ((status, at),) = await wait_for(hung_up, within=WITHIN, what="the hang-up of Amy's call")
    assert status == "canceled", "a ringing call is cancelled"
    assert at - acknowledged < HANG_UP_WITHIN_S, f"hung up {at - acknowledged:.2f} s after"

    async def recorded() -> bool:
        return bool(notifications(database_url))

    await wait_for(recorded, within=WITHIN, what="Amy's call on the trail")
    trail = _trail(database_url)
    (hang_up,) = [note for action, note in trail if action == "call_hung_up"]
    assert hang_up == "Hung up the call to amy while it was still going: desk took the alert."
    rung = [note for action, note in trail if action == "notified"]
    assert rung == ["Stopped trying Amy: the alert was taken or closed meanwhile."]
    assert [(u, c, ok, e) for u, _, c, ok, e, _ in notifications(database_url)] == [
        ("amy", "voice", False, "hung up: desk took the alert")
    ]
    # Amy's call would have rung out and been made again by now; Ben would be next.
    await asyncio.sleep(5 + ACK_TIMEOUT_S * 2)
    assert len(gateway.calls_to(AMY)) == 1, "Amy is not called again"
    assert gateway.texts_to(BEN) == []
    assert call.state == "canceled"
    assert call.statuses_answered == [204, 204], "ringing, then canceled"
    assert _alert(database_url) == ("acknowledged", "desk")


async def test_an_answered_call_is_ended_when_the_alert_is_closed(
    reaching: CarewatchServer, database_url: str, mqtt_url: str, gateway: Gateway
) -> None:
    hub = unique_hub()
    resident = f"Mr Listening {hub}"
    provision(database_url, hub, resident)
    gateway.scripts[AMY] = ["listen"]
    add_person(database_url, "amy", "carer", channels=[("voice", AMY)], carer_of=resident)
    raise_no_movement(mqtt_url, hub)

    async def answered() -> Call | None:
        calls = gateway.calls_to(AMY)
        return calls[0] if calls and calls[0].statuses_answered[1:] else None

    call: Call = await wait_for(answered, within=WITHIN, what="Amy answering without a key")
    async with httpx.AsyncClient(base_url=reaching.http_url, timeout=10) as api:
        api.headers["Authorization"] = f"Bearer {await token(api)}"
        (alert,) = (await api.get("/api/v1/alerts")).json()
        closed = await api.post(
            f"/api/v1/alerts/{alert['id']}/resolve",
            json={"outcome": "false_alarm", "note": "Sensor knocked; rang Mr Listening."},
        )
    assert closed.status_code == 200, closed.text

    async def hung_up() -> list[tuple[str, float]]:
        return call.hang_ups

    assert [s for s, _ in await wait_for(hung_up, within=WITHIN, what="the hang-up")] == [
        "completed"
    ], "an answered call is ended with completed, not cancelled"

    async def on_trail() -> list[str]:
        return [note for action, note in _trail(database_url) if action == "call_hung_up"]

    (note,) = await wait_for(on_trail, within=WITHIN, what="the hang-up on the trail")
    assert note.endswith("admin closed the alert.")
    assert call.state == "completed"


async def test_callbacks_not_signed_by_the_provider_are_refused_and_change_nothing(
    reaching: CarewatchServer, database_url: str, mqtt_url: str, gateway: Gateway
) -> None:
    hub = unique_hub()
    resident = f"Mrs Forged {hub}"
    provision(database_url, hub, resident)
    gateway.scripts[AMY] = ["ring"]
    add_person(database_url, "amy", "carer", channels=[("voice", AMY)], carer_of=resident)
    raise_no_movement(mqtt_url, hub)
    call = await _ringing(gateway, AMY)
    key = {"CallSid": call.sid, "Digits": "1"}
    ended = {"CallSid": call.sid, "CallStatus": "completed"}

    async with httpx.AsyncClient(timeout=10) as forger:
        refused = [
            # No signature; one made with another token; one over other fields.
            (await forger.post(call.key_url, data=key)).status_code,
            (await forger.post(call.status_url, data=ended)).status_code,
            (await _provider_post(forger, call.key_url, key, token="not-the-token")).status_code,
            (
                await _provider_post(forger, call.status_url, ended, token="not-the-token")
            ).status_code,
            (
                await forger.post(
                    call.key_url,
                    data=key,
                    headers={
                        "X-Twilio-Signature": _signature(call.key_url, {**key, "Digits": "2"})
                    },
                )
            ).status_code,
        ]
        assert refused == [403] * 5
        with psycopg.connect(database_url) as conn:
            (status,) = conn.execute("SELECT status FROM voice_calls").fetchone() or ("",)
        assert status == "ringing", "a refused callback changes nothing"
        assert _alert(database_url) == ("open", None)
        assert "call_accepted" not in [action for action, _ in _trail(database_url)]
        # The provider's own callback, signed, goes through.
        accepted = await _provider_post(forger, call.key_url, key)
        assert accepted.status_code == 200
        assert "yours" in accepted.text
    assert _alert(database_url) == ("acknowledged", "amy")


def _signature(url: str, fields: dict[str, str]) -> str:
    return request_signature(AUTH_TOKEN, url, fields.items())


async def _provider_post(
    client: httpx.AsyncClient,
    url: str,
    data: dict[str, str],
    *,
    token: str = AUTH_TOKEN,
    via: str | None = None,
) -> httpx.Response:
    """A callback signed as the provider signs them (tests/server/gateways.py's signed_post)."""
    signature = request_signature(token, url, data.items())
    return await client.post(via or url, data=data, headers={"X-Twilio-Signature": signature})


async def test_behind_a_reverse_proxy_the_public_url_is_the_one_signed(
    database_url: str, mqtt_url: str, gateway: Gateway, smtp: tuple[str, Mailbox]
) -> None:
    public = "https://carewatch.example.org/care"
    async with _serving(database_url, mqtt_url, gateway, smtp, public_url=public) as server:
        gateway.proxy = (public, server.http_url)
        hub = unique_hub()
        resident = f"Mr Proxied {hub}"
        provision(database_url, hub, resident)
        gateway.scripts[AMY] = ["ring"]
        add_person(database_url, "amy", "carer", channels=[("voice", AMY)], carer_of=resident)
        raise_no_movement(mqtt_url, hub)
        call = await _ringing(gateway, AMY)
        assert call.key_url.startswith(f"{public}/voice/")
        key = {"CallSid": call.sid, "Digits": "1"}
        inside = gateway.forwarded(call.key_url)
        async with httpx.AsyncClient(timeout=10) as client:
            # Signed over the address the proxy forwards to: not what the provider signs.
            assert (await _provider_post(client, inside, key)).status_code == 403
            assert _alert(database_url) == ("open", None)
            assert (await _provider_post(client, call.key_url, key, via=inside)).status_code == 200
        assert call.statuses_answered == [204], "the ringing callback came through the proxy"
        assert _alert(database_url) == ("acknowledged", "amy")


async def test_a_hang_up_the_provider_refuses_is_on_the_trail_and_the_carer_is_left_alone(
    reaching: CarewatchServer, database_url: str, mqtt_url: str, gateway: Gateway
) -> None:
    hub = unique_hub()
    resident = f"Mrs Refused {hub}"
    provision(database_url, hub, resident)
    gateway.scripts[AMY] = ["ring"]
    add_person(
        database_url, "amy", "carer", channels=[("voice", AMY), ("sms", AMY)], carer_of=resident
    )
    raise_no_movement(mqtt_url, hub)
    call = await _ringing(gateway, AMY)
    gateway.down = True
    async with httpx.AsyncClient(base_url=reaching.http_url, timeout=10) as api:
        api.headers["Authorization"] = f"Bearer {await token(api)}"
        (alert,) = (await api.get("/api/v1/alerts")).json()
        started = clock.monotonic()
        taken = await api.post(f"/api/v1/alerts/{alert['id']}/ack")
        took = clock.monotonic() - started
    assert taken.status_code == 200, taken.text
    assert took < 2.0, "the acknowledgement does not wait for the hang-up"

    async def on_trail() -> list[str]:
        return [note for action, note in _trail(database_url) if action == "call_hung_up"]

    (note,) = await wait_for(on_trail, within=WITHIN, what="the failed hang-up on the trail")
    assert note.startswith("Could not hang up the call to amy (admin took the alert): ")
    assert "HTTP 503" in note
    gateway.down = False
    await asyncio.sleep(5 + ACK_TIMEOUT_S * 2)
    assert len(gateway.calls_to(AMY)) == 1, "not called again"
    assert gateway.texts_to(AMY) == [], "nor sent a text: the alert is taken"
    assert call.state == "no-answer", "the phone rang out"
    assert [(c, ok) for _, _, c, ok, _, _ in notifications(database_url)] == [("voice", False)]

"""Who was told, never where: alert trails and push endpoints on a real server, broker and database.

Before, an alert's history showed residents and co-carers every carer's and
responder's e-mail address, webhook URL and push subscription with its keys,
and the audit export put addresses in its notes for responders; a push
subscription could name any URL (loopback, the private network), the server
posted to it, followed its redirects and stored the reply's body in the
trail. Now trails name people by name and role (admins alone see where it
went and the receivers' own words), only https endpoints of the public push
services are taken or contacted, redirects are not followed and no reply
body is kept.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import psycopg
import pytest

from server.runtime import CarewatchServer
from tests.server.helpers import running_server, token, wait_for
from tests.server.people import PASSWORD, bearer, make_two_homes
from tests.server.receivers import (
    Hooks,
    Mailbox,
    answering_server,
    silent_server,
    smtp_server,
    webhook_server,
)
from tests.server.test_escalation import _browser_subscription, add_person, raise_no_movement

# What an internal service answers: it must never reach the trail, even an admin's.
INTERNAL_REPLY = b"INTERNAL-REPLY db=postgres://carewatch:hunter2@10.0.0.7/carewatch"

REFUSED_ENDPOINTS = [
    "http://127.0.0.1:5432/push",  # loopback, and not https
    "https://127.0.0.1/push",
    "https://localhost/push",
    "https://[::1]/push",
    "https://10.0.0.5/push",  # the private network
    "https://192.168.1.1/push",
    "https://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
    "http://fcm.googleapis.com/fcm/send/abc",  # a public service, but not https
    "https://fcm.googleapis.com:8443/fcm/send/abc",  # nor its https port
    "https://push.example.org/send/abc",  # another host
    "https://fcm.googleapis.com.evil.example/fcm/send/abc",
    "https://fcm.googleapis.com@10.0.0.5/fcm/send/abc",  # userinfo hiding the real host
    "https://notify.windows.com/w/?token=abc",  # the wildcard needs a subdomain
]

ACCEPTED_ENDPOINTS = [
    "https://fcm.googleapis.com/fcm/send/abc:APA91b",
    "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABk",
    "https://web.push.apple.com/QGuQyavXutnMH",
    "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAD",
]


@pytest.fixture
def smtp() -> Iterator[tuple[str, Mailbox]]:
    with smtp_server() as found:
        yield found


@pytest.fixture
def webhooks() -> Iterator[tuple[str, Hooks]]:
    with webhook_server() as found:
        yield found


@asynccontextmanager
async def _signed_in(
    server: CarewatchServer, username: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in as ``username`` (one of tests.server.people's), or as admin."""
    async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as client:
        value = await (token(client) if username is None else bearer(client, username))
        client.headers["Authorization"] = f"Bearer {value}"
        yield client


def _attempts(database_url: str) -> list[tuple[Any, ...]]:
    """(username, channel, ok, error) of every delivery attempt, oldest first."""
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT u.username, n.channel, n.ok, n.error FROM notifications n"
            " JOIN users u ON u.id = n.user_id ORDER BY n.at, n.id"
        ).fetchall()


async def test_only_https_endpoints_of_the_public_push_services_are_taken(
    server: CarewatchServer, database_url: str
) -> None:
    async with _signed_in(server) as admin:
        refused = {}
        for endpoint in REFUSED_ENDPOINTS:
            subscription, _, _ = _browser_subscription(endpoint)
            refused[endpoint] = await admin.post("/api/v1/me/push-subscriptions", json=subscription)
        accepted = []
        for endpoint in ACCEPTED_ENDPOINTS:
            subscription, _, _ = _browser_subscription(endpoint)
            accepted.append(await admin.post("/api/v1/me/push-subscriptions", json=subscription))
    taken = [endpoint for endpoint, reply in refused.items() if reply.status_code != 422]
    assert taken == [], f"taken: {taken}"
    for reply in refused.values():
        assert "push endpoint" in reply.json()["detail"]
    assert "public push service" in refused["https://10.0.0.5/push"].json()["detail"]
    assert "https://" in refused["http://fcm.googleapis.com/fcm/send/abc"].json()["detail"]
    assert [r.status_code for r in accepted] == [201] * len(ACCEPTED_ENDPOINTS)
    with psycopg.connect(database_url) as conn:
        stored = [
            json.loads(row[0])["endpoint"]
            for row in conn.execute(
                "SELECT address FROM user_channels WHERE kind = 'webpush' ORDER BY position DESC"
            )
        ]
    assert stored == ACCEPTED_ENDPOINTS


async def test_a_stored_endpoint_on_no_push_service_is_never_contacted(
    database_url: str, mqtt_url: str, smtp: tuple[str, Mailbox], webhooks: tuple[str, Hooks]
) -> None:
    (email_url, mailbox), (hook_url, hooks) = smtp, webhooks
    with silent_server() as (silent_url, connections):
        # As an old subscription, from before endpoints were checked, could be.
        inside, _, _ = _browser_subscription(f"{hook_url}/push/inside")
        tls, _, _ = _browser_subscription(silent_url.replace("http://", "https://") + "/push")
        async with running_server(
            database_url, mqtt_url, email_url=email_url, escalation_tick_s=0.1
        ) as server:
            async with _signed_in(server) as admin:
                homes = await make_two_homes(admin)
            add_person(
                database_url,
                "amy",
                "carer",
                channels=[
                    ("webpush", json.dumps(inside)),
                    ("webpush", json.dumps(tls)),
                    ("email", "amy@example.org"),
                ],
                carer_of=homes.edith.name,
            )
            with psycopg.connect(database_url) as conn:
                conn.execute(
                    "DELETE FROM resident_carers WHERE user_id ="
                    " (SELECT id FROM users WHERE username = %s)",
                    (homes.edith.carer,),
                )
            raise_no_movement(mqtt_url, homes.edith.hub)

            async def recorded() -> bool:
                return any(ok for _, _, ok, _ in _attempts(database_url))

            await wait_for(recorded, what="the carer reached by e-mail")
    attempts = _attempts(database_url)
    assert [(channel, ok) for _, channel, ok, _ in attempts][-1] == ("email", True)
    pushes = [error for _, channel, _, error in attempts if channel == "webpush"]
    assert len(pushes) == 4, "two subscriptions, two attempts each, before the e-mail"
    assert all(error.startswith("not sent: a push endpoint must") for error in pushes)
    assert hooks.raw == [], "the internal address was posted to"
    assert hooks.calls == []
    assert connections == [], "the server connected to a loopback push endpoint"
    assert mailbox.messages[0][0] == ["amy@example.org"]


async def test_no_reply_body_is_stored_and_no_redirect_followed(
    database_url: str, mqtt_url: str, smtp: tuple[str, Mailbox], webhooks: tuple[str, Hooks]
) -> None:
    (email_url, _), (hook_url, hooks) = smtp, webhooks
    with (
        answering_server(403, body=INTERNAL_REPLY) as (talker_url, talked),
        answering_server(307, headers={"Location": f"{hook_url}/stolen"}) as (mover_url, moved),
    ):
        talker, _, _ = _browser_subscription(f"{talker_url}/push")
        mover, _, _ = _browser_subscription(f"{mover_url}/push")
        async with running_server(
            database_url,
            mqtt_url,
            email_url=email_url,
            escalation_tick_s=0.1,
            # Stands in for an allowed push service that answers oddly.
            push_hosts=("http://127.0.0.1",),
        ) as server:
            async with _signed_in(server) as admin:
                homes = await make_two_homes(admin)
            add_person(
                database_url,
                "amy",
                "carer",
                channels=[
                    ("webpush", json.dumps(talker)),
                    ("webpush", json.dumps(mover)),
                    ("email", "amy@example.org"),
                ],
                carer_of=homes.edith.name,
            )
            raise_no_movement(mqtt_url, homes.edith.hub)

            async def recorded() -> bool:
                return any(ok for user, _, ok, _ in _attempts(database_url) if user == "amy")

            await wait_for(recorded, what="the carer reached by e-mail")
    errors = [error for user, channel, _, error in _attempts(database_url) if channel == "webpush"]
    assert talked, "the push endpoint that talks back was tried"
    assert moved, "the push endpoint that redirects was tried"
    assert hooks.calls == [], "the redirect was followed"
    assert hooks.raw == [], "the redirect was followed"
    assert set(errors) == {
        "push service answered 403 Forbidden",
        "push service answered 307 Temporary Redirect (redirects are not followed)",
    }


async def test_trails_name_who_was_told_and_only_admins_see_where(
    database_url: str, mqtt_url: str, smtp: tuple[str, Mailbox], webhooks: tuple[str, Hooks]
) -> None:
    (email_url, _), (hook_url, hooks) = smtp, webhooks
    with answering_server(410, body=INTERNAL_REPLY) as (push_url, _):
        subscription, _, _ = _browser_subscription(f"{push_url}/push/carer-phone")
        keys = subscription["keys"]
        async with running_server(
            database_url,
            mqtt_url,
            email_url=email_url,
            ack_timeout_s=1.0,
            escalation_tick_s=0.1,
            push_hosts=("http://127.0.0.1",),
        ) as server:
            async with _signed_in(server) as admin:
                homes = await make_two_homes(admin)
                edith = homes.edith
                created = await admin.post(
                    "/api/v1/users",
                    json={
                        "username": "bea",
                        "role": "carer",
                        "display_name": "Bea Second",
                        "password": PASSWORD,
                    },
                )
                assert created.status_code == 201, created.text
                ladder = await admin.put(
                    f"/api/v1/residents/{edith.resident_id}/carers",
                    json={"carers": [edith.carer, "bea"]},
                )
                assert ladder.status_code == 200, ladder.text
            secrets = {
                "the carer's e-mail": "first.carer@private.example",
                "the co-carer's webhook": f"{hook_url}/bea-private-hook",
                "the responder's webhook": f"{hook_url}/desk-private-hook",
                "the push endpoint": f"{push_url}/push/carer-phone",
                "the push key": keys["p256dh"],
                "the push secret": keys["auth"],
                "the push service's reply": INTERNAL_REPLY.decode(),
                "a receiver's host": "127.0.0.1",
            }
            channels = {
                edith.carer: [
                    ("webpush", json.dumps(subscription)),
                    ("email", secrets["the carer's e-mail"]),
                ],
                "bea": [("webhook", secrets["the co-carer's webhook"])],
                edith.responder: [("webhook", secrets["the responder's webhook"])],
            }
            with psycopg.connect(database_url) as conn:
                for username, rows in channels.items():
                    for position, (kind, address) in enumerate(rows):
                        conn.execute(
                            "INSERT INTO user_channels (user_id, position, kind, address)"
                            " SELECT id, %s, %s, %s FROM users WHERE username = %s",
                            (position, kind, address, username),
                        )
                conn.execute("UPDATE users SET on_duty = true WHERE role = 'responder'")
            raise_no_movement(mqtt_url, edith.hub)

            async def responders_recorded() -> bool:
                return any(u == edith.responder for u, _, _, _ in _attempts(database_url))

            await wait_for(responders_recorded, within=30, what="the ladder reaching the desk")
            assert hooks.to("/bea-private-hook")
            assert hooks.to("/desk-private-hook")

            async with _signed_in(server) as admin:
                (alert,) = (await admin.get("/api/v1/alerts")).json()
                path = f"/api/v1/alerts/{alert['id']}/history"
                audit = f"/api/v1/residents/{edith.resident_id}/audit"
                seen = {"admin": (await admin.get(path)).json()}
                audits = {"admin": (await admin.get(audit)).text}
                audits["admin csv"] = (await admin.get(audit, params={"format": "csv"})).text
            for who in (edith.carer, "bea", edith.resident_user, edith.responder):
                async with _signed_in(server, who) as client:
                    reply = await client.get(path)
                    assert reply.status_code == 200, reply.text
                    seen[who] = reply.json()
                    if who == edith.responder:
                        audits[who] = (await client.get(audit)).text
                        csv = await client.get(audit, params={"format": "csv"})
                        audits[f"{who} csv"] = csv.text

    for who, history in seen.items():
        if who == "admin":
            continue
        text = json.dumps(history)
        shown = [what for what, secret in secrets.items() if secret in text]
        assert shown == [], f"{who} sees {shown}"
        told = {(n["name"], n["role"]) for n in history["notifications"]}
        assert told == {("Carer of " + edith.name, "carer"), ("Bea Second", "carer")} | {
            (n["name"], "responder") for n in history["notifications"] if n["role"] == "responder"
        }
        assert any(n["role"] == "responder" for n in history["notifications"])
        assert all(n["user"] is None and n["address"] is None for n in history["notifications"])
        failed = [n["error"] for n in history["notifications"] if not n["ok"]]
        assert failed, "the carer's phone refused the push"
        assert set(failed) == {"refused by the receiver"}
    for who, trail in audits.items():
        if who.startswith("admin"):
            continue
        shown = [what for what, secret in secrets.items() if secret in trail]
        assert shown == [], f"{who}'s audit export shows {shown}"
        assert f"email to Carer of {edith.name} (carer)" in trail

    admin_view = json.dumps(seen["admin"])
    for what in ("the carer's e-mail", "the co-carer's webhook", "the push endpoint"):
        assert secrets[what] in admin_view, f"the admin does not see {what}"
        assert secrets[what] in audits["admin"]
        assert secrets[what] in audits["admin csv"]
    for what in ("the push key", "the push secret", "the push service's reply"):
        assert secrets[what] not in admin_view, f"even the admin sees {what}"
        assert secrets[what] not in audits["admin"]
    assert "push service answered 410 Gone" in admin_view

"""The authorisation matrix: every endpoint by every role, on their own resident and on another's.

Edith lives in the north service, Arthur in the south. Each role signs in as
Edith's carer, Edith herself, or the north desk's responder, and tries every
operation in the OpenAPI spec on Edith's record (their own) and on Arthur's
(someone else's). Refused means 403; anything else (200, 201, 404, 409, 422)
means the request got past the access check. A new endpoint fails this test
until it has a row here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from server.runtime import CarewatchServer
from tests.server.helpers import press_pendant, token, wait_for
from tests.server.people import Home, TwoHomes, bearer, make_two_homes

ROLES = ("admin", "responder", "carer", "resident")
ALL = frozenset(ROLES)
STAFF = frozenset({"admin", "responder", "carer"})
ADMIN = frozenset({"admin"})
PUBLIC = "public"
# Health systems only, with their own client-credentials tokens (test_fhir.py):
# no person's token opens the FHIR endpoint.
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rule:
    """Who may call an operation on their own resident, and whether it names a resident."""

    allowed: frozenset[str] | str
    # Whether the path names a resident or an alert, so the cross-resident attempt applies.
    per_resident: bool = False
    json: Any = None
    form: dict[str, str] | None = None
    params: dict[str, str] = field(default_factory=dict)


def _away() -> dict[str, str]:
    return {"until": (datetime.now(UTC) + timedelta(days=2)).isoformat()}


RULES: dict[tuple[str, str], Rule] = {
    ("POST", "/api/v1/auth/token"): Rule(PUBLIC, form={"username": "x", "password": "y"}),
    ("POST", "/api/v1/auth/session"): Rule(PUBLIC, form={"username": "x", "password": "y"}),
    ("GET", "/api/v1/auth/session"): Rule(PUBLIC),
    ("DELETE", "/api/v1/auth/session"): Rule(ALL),
    ("GET", "/api/v1/me"): Rule(ALL),
    ("PUT", "/api/v1/me/password"): Rule(
        ALL, json={"current_password": "not-it", "new_password": "a-long-new-password"}
    ),
    ("POST", "/api/v1/auth/reset"): Rule(
        PUBLIC, json={"token": "not-a-link-not-a-link-x", "new_password": "a-long-new-password"}
    ),
    ("PATCH", "/api/v1/users/{username}"): Rule(
        ADMIN, params={"username": "no-such-user"}, json={}
    ),
    ("POST", "/api/v1/users/{username}/reset-link"): Rule(
        ADMIN, params={"username": "no-such-user"}
    ),
    ("GET", "/api/v1/alerts"): Rule(ALL),
    ("GET", "/api/v1/alerts/stream"): Rule(ALL),
    ("GET", "/api/v1/alerts/recently-closed"): Rule(ALL),
    ("GET", "/api/v1/alerts/{alert_id}"): Rule(ALL, per_resident=True),
    ("GET", "/api/v1/alerts/{alert_id}/history"): Rule(ALL, per_resident=True),
    ("POST", "/api/v1/alerts/{alert_id}/notes"): Rule(
        STAFF, per_resident=True, json={"note": "called, no answer"}
    ),
    ("POST", "/api/v1/alerts/{alert_id}/ack"): Rule(STAFF, per_resident=True),
    ("POST", "/api/v1/alerts/{alert_id}/escalate"): Rule(STAFF, per_resident=True),
    ("POST", "/api/v1/alerts/{alert_id}/pass-on"): Rule(STAFF, per_resident=True),
    ("GET", "/api/v1/hubs/{hub}/sensors"): Rule(ADMIN, params={"hub": "no-such-hub"}),
    ("PUT", "/api/v1/hubs/{hub}/sensors"): Rule(
        ADMIN, params={"hub": "no-such-hub"}, json={"sensors": []}
    ),
    ("POST", "/api/v1/alerts/{alert_id}/resolve"): Rule(
        STAFF, per_resident=True, json={"outcome": "false_alarm"}
    ),
    ("GET", "/api/v1/reports/service"): Rule(frozenset({"admin", "responder"})),
    ("GET", "/api/v1/residents/{resident_id}/audit"): Rule(
        frozenset({"admin", "responder"}), per_resident=True
    ),
    ("GET", "/api/v1/push/key"): Rule(PUBLIC),
    ("GET", "/api/v1/vocabulary"): Rule(PUBLIC),
    ("POST", "/api/v1/me/push-subscriptions"): Rule(ALL, json={"endpoint": "not a url"}),
    ("GET", "/api/v1/dead-letters"): Rule(ADMIN),
    ("POST", "/api/v1/hubs"): Rule(ADMIN, json={"hub": "", "resident": ""}),
    ("POST", "/api/v1/hubs/import"): Rule(ADMIN, json={"homes": []}),
    ("GET", "/api/v1/hubs"): Rule(frozenset({"admin", "responder"})),
    ("POST", "/api/v1/hubs/{hub}/revoke"): Rule(ADMIN, params={"hub": "no-such-hub"}),
    ("GET", "/ack/{token}"): Rule(PUBLIC, params={"token": "not-a-link"}),
    ("POST", "/ack/{token}"): Rule(PUBLIC, params={"token": "not-a-link"}),
    # The voice provider's callbacks: its signature, then the call's own token, are the credential.
    ("POST", "/voice/{token}/status"): Rule(PUBLIC, params={"token": "not-a-call"}),
    ("POST", "/voice/{token}/key"): Rule(PUBLIC, params={"token": "not-a-call"}),
    ("GET", "/api/v1/me/reach"): Rule(ALL),
    ("PUT", "/api/v1/me/reach"): Rule(ALL, json={"channels": []}),
    ("GET", "/healthz"): Rule(PUBLIC),
    ("GET", "/readyz"): Rule(PUBLIC),
    ("GET", "/metrics"): Rule(PUBLIC),
    ("GET", "/api/v1/residents"): Rule(ALL),
    ("POST", "/api/v1/residents"): Rule(ADMIN, json={"name": ""}),
    ("GET", "/api/v1/residents/{resident_id}"): Rule(ALL, per_resident=True),
    ("PATCH", "/api/v1/residents/{resident_id}"): Rule(ADMIN, per_resident=True, json={}),
    ("DELETE", "/api/v1/residents/{resident_id}"): Rule(ADMIN, per_resident=True),
    ("PUT", "/api/v1/residents/{resident_id}/away"): Rule(
        frozenset({"admin", "carer", "resident"}), per_resident=True, json=_away()
    ),
    ("POST", "/api/v1/residents/{resident_id}/checkin"): Rule(
        frozenset({"resident"}), per_resident=True
    ),
    ("PUT", "/api/v1/residents/{resident_id}/choices"): Rule(
        frozenset({"admin", "resident"}),
        per_resident=True,
        json={"share_health_notes": True, "share_activity_with_carers": True},
    ),
    ("PUT", "/api/v1/residents/{resident_id}/carers"): Rule(
        ADMIN, per_resident=True, json={"carers": ["nobody-by-this-name"]}
    ),
    ("GET", "/api/v1/residents/{resident_id}/reads"): Rule(
        frozenset({"admin", "resident"}), per_resident=True
    ),
    ("GET", "/api/v1/residents/{resident_id}/timeline"): Rule(ALL, per_resident=True),
    ("GET", "/api/v1/residents/{resident_id}/past-alerts"): Rule(ALL, per_resident=True),
    ("GET", "/api/v1/residents/{resident_id}/record"): Rule(ALL, per_resident=True),
    ("PUT", "/api/v1/residents/{resident_id}/record"): Rule(
        frozenset({"admin", "responder"}), per_resident=True, json={"language": "English"}
    ),
    ("PUT", "/api/v1/residents/{resident_id}/record/contacts"): Rule(
        frozenset({"admin", "responder"}), per_resident=True, json={"contacts": []}
    ),
    ("POST", "/api/v1/residents/{resident_id}/record/key-safe"): Rule(
        frozenset({"admin", "responder"}), per_resident=True
    ),
    ("GET", "/api/v1/residents/{resident_id}/routine"): Rule(ALL, per_resident=True),
    ("GET", "/api/v1/residents/{resident_id}/plans"): Rule(ALL, per_resident=True),
    ("PUT", "/api/v1/residents/{resident_id}/plans/{kind}"): Rule(
        frozenset({"admin", "responder"}),
        per_resident=True,
        params={"kind": "fall"},
        json={"steps": ["Ring her daughter first"]},
    ),
    ("POST", "/api/v1/alerts/{alert_id}/steps"): Rule(
        STAFF, per_resident=True, json={"step": "call-resident"}
    ),
    ("GET", "/api/v1/shift"): Rule(frozenset({"admin", "responder"})),
    ("PUT", "/api/v1/me/duty"): Rule(frozenset({"responder"}), json={"on_duty": True}),
    ("GET", "/api/v1/plans"): Rule(ALL),
    ("GET", "/api/v1/users"): Rule(ADMIN),
    ("GET", "/api/v1/arc-accounts"): Rule(ADMIN),
    ("PUT", "/api/v1/arc-accounts/{service}"): Rule(
        ADMIN, params={"service": "nowhere"}, json={"account": "x"}
    ),
    ("DELETE", "/api/v1/arc-accounts/{service}"): Rule(ADMIN, params={"service": "nowhere"}),
    ("GET", "/api/v1/scaip-units"): Rule(ADMIN),
    ("PUT", "/api/v1/scaip-units/{unit}"): Rule(
        ADMIN, params={"unit": "999"}, json={"resident": "nobody"}
    ),
    ("DELETE", "/api/v1/scaip-units/{unit}"): Rule(ADMIN, params={"unit": "999"}),
    ("POST", "/api/v1/users"): Rule(ADMIN, json={"username": "", "password": "", "role": "x"}),
    ("GET", "/api/v1/residents/{resident_id}/health-sharing"): Rule(ALL, per_resident=True),
    ("PUT", "/api/v1/residents/{resident_id}/health-sharing"): Rule(
        frozenset({"admin", "resident"}), per_resident=True, json={"share_with_health": False}
    ),
    ("GET", "/fhir/metadata"): Rule(PUBLIC),
    ("POST", "/fhir/token"): Rule(PUBLIC, form={"grant_type": "client_credentials"}),
    ("GET", "/fhir/Patient"): Rule(NOBODY),
    ("GET", "/fhir/Patient/{resident_id}"): Rule(NOBODY),
    ("GET", "/fhir/Device"): Rule(NOBODY),
    ("GET", "/fhir/Flag"): Rule(NOBODY),
    ("GET", "/fhir/Flag/{flag_id}"): Rule(NOBODY, params={"flag_id": "x"}),
    ("GET", "/fhir/Observation"): Rule(NOBODY),
    ("GET", "/fhir/Communication"): Rule(NOBODY),
}


@dataclass
class World:
    server: CarewatchServer
    homes: TwoHomes
    tokens: dict[str, str]
    alerts: dict[int, str]


async def _pendant_alert(database_url: str, mqtt_url: str, home: Home) -> str:
    press_pendant(mqtt_url, home.hub)

    async def raised() -> str | None:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT id FROM alerts WHERE resident_id = %s", (home.resident_id,)
            ).fetchone()
        return str(row[0]) if row else None

    found: str = await wait_for(raised, what=f"the pendant alert of {home.name}")
    return found


@pytest.fixture
async def world(
    server: CarewatchServer, api: httpx.AsyncClient, database_url: str, mqtt_url: str
) -> World:
    homes = await make_two_homes(api)
    tokens = {"admin": api.headers["Authorization"].removeprefix("Bearer ")}
    for role, username in (
        ("responder", homes.edith.responder),
        ("carer", homes.edith.carer),
        ("resident", homes.edith.resident_user),
    ):
        tokens[role] = await bearer(api, username)
    alerts = {
        home.resident_id: await _pendant_alert(database_url, mqtt_url, home)
        for home in (homes.edith, homes.arthur)
    }
    return World(server, homes, tokens, alerts)


async def _call(
    client: httpx.AsyncClient, method: str, path: str, rule: Rule, home: Home, world: World
) -> int:
    url = path.format(
        resident_id=home.resident_id,
        alert_id=world.alerts[home.resident_id],
        **rule.params,
    )
    if path.endswith("/stream"):
        async with client.stream(method, url) as response:
            return response.status_code
    response = await client.request(method, url, json=rule.json, data=rule.form)
    assert response.status_code < 500, f"{method} {url}: {response.status_code} {response.text}"
    return response.status_code


async def _sign_in_again(world: World) -> None:
    async with httpx.AsyncClient(base_url=world.server.http_url, timeout=10) as client:
        world.tokens["admin"] = await token(client)
        for role, username in (
            ("responder", world.homes.edith.responder),
            ("carer", world.homes.edith.carer),
            ("resident", world.homes.edith.resident_user),
        ):
            world.tokens[role] = await bearer(client, username)


async def test_the_matrix(world: World, api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    operations = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    assert operations == set(RULES), (
        f"no rule for {sorted(operations - set(RULES))}; stale rules {sorted(set(RULES) - operations)}"
    )

    wrong: list[str] = []
    # Sign-out ends every role's token (they are signed in again after it), and erasure
    # removes the residents (and the resident's own account): both come last, in order.
    last = [("DELETE", "/api/v1/auth/session"), ("DELETE", "/api/v1/residents/{resident_id}")]
    ordered = sorted(RULES.items(), key=lambda item: last.index(item[0]) if item[0] in last else -1)
    for (method, path), rule in ordered:
        for role in ROLES:
            async with httpx.AsyncClient(base_url=world.server.http_url, timeout=10) as client:
                client.headers["Authorization"] = f"Bearer {world.tokens[role]}"
                own = await _call(client, method, path, rule, world.homes.edith, world)
                if rule.allowed == PUBLIC:
                    continue  # answers anyone (a wrong password is a 401, not a refusal)
                allowed = role in rule.allowed
                if allowed == (own in (401, 403)):
                    wrong.append(f"{role} {method} {path} on their own resident: {own}")
                if rule.per_resident:
                    other = await _call(client, method, path, rule, world.homes.arthur, world)
                    # Arthur is another service's resident: only an admin reaches him.
                    if (allowed and role == "admin") == (other in (401, 403)):
                        wrong.append(f"{role} {method} {path} on another resident: {other}")
            # Without credentials, everything but the public operations is refused.
            async with httpx.AsyncClient(base_url=world.server.http_url, timeout=10) as anonymous:
                if rule.allowed != PUBLIC:
                    status = await _call(anonymous, method, path, rule, world.homes.edith, world)
                    if status != 401:
                        wrong.append(f"anonymous {method} {path}: {status}")
        if (method, path) == ("DELETE", "/api/v1/auth/session"):
            await _sign_in_again(world)
    assert not wrong, "\n".join(wrong)


async def test_refused_reads_are_logged_with_who_and_what(world: World, database_url: str) -> None:
    arthur = world.homes.arthur.resident_id
    async with httpx.AsyncClient(base_url=world.server.http_url, timeout=10) as client:
        client.headers["Authorization"] = f"Bearer {world.tokens['carer']}"
        assert (await client.get(f"/api/v1/residents/{arthur}")).status_code == 403
        assert (
            await client.get(f"/api/v1/residents/{world.homes.edith.resident_id}")
        ).status_code == 200
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT username, role, resident_id, what, allowed FROM record_reads"
            " WHERE username = %s ORDER BY id",
            (world.homes.edith.carer,),
        ).fetchall()
    assert rows == [
        (world.homes.edith.carer, "carer", arthur, "record", False),
        (world.homes.edith.carer, "carer", world.homes.edith.resident_id, "record", True),
    ]


async def test_seeing_a_resident_on_a_list_is_logged_once_not_at_every_refresh(
    world: World, database_url: str
) -> None:
    edith = world.homes.edith.resident_id
    for role in ("carer", "responder", "resident"):
        async with httpx.AsyncClient(base_url=world.server.http_url, timeout=10) as client:
            client.headers["Authorization"] = f"Bearer {world.tokens[role]}"
            for _ in range(3):  # a console refreshing its queue
                listed = await client.get("/api/v1/alerts")
                assert listed.status_code == 200
                assert edith in {a["resident_id"] for a in listed.json()}
                assert (await client.get("/api/v1/residents")).status_code == 200
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT role, what FROM record_reads WHERE resident_id = %s"
            " AND what IN ('alert list', 'name on a list') ORDER BY id",
            (edith,),
        ).fetchall()
    # The resident's own look at their own alerts is not news to them.
    assert sorted(rows) == [
        ("carer", "alert list"),
        ("carer", "name on a list"),
        ("responder", "alert list"),
        ("responder", "name on a list"),
    ]


async def test_key_safe_and_health_notes_follow_role_and_consent(world: World) -> None:
    edith = world.homes.edith.resident_id
    seen: dict[str, dict[str, Any]] = {}
    for role in ROLES:
        async with httpx.AsyncClient(base_url=world.server.http_url, timeout=10) as client:
            client.headers["Authorization"] = f"Bearer {world.tokens[role]}"
            seen[role] = (await client.get(f"/api/v1/residents/{edith}")).json()
    assert seen["responder"]["access_info"].startswith("key safe")
    assert seen["carer"]["access_info"] is None
    assert seen["resident"]["access_info"] is None
    # Edith has not agreed to share her health notes: responders do not see them; she does.
    assert seen["responder"]["health_notes"] is None
    assert seen["resident"]["health_notes"] == "diabetic"

    async with httpx.AsyncClient(base_url=world.server.http_url, timeout=10) as client:
        client.headers["Authorization"] = f"Bearer {world.tokens['resident']}"
        agreed = await client.put(
            f"/api/v1/residents/{edith}/choices",
            json={"share_health_notes": True, "share_activity_with_carers": False},
        )
        assert agreed.status_code == 200, agreed.text
    async with httpx.AsyncClient(base_url=world.server.http_url, timeout=10) as client:
        client.headers["Authorization"] = f"Bearer {world.tokens['responder']}"
        assert (await client.get(f"/api/v1/residents/{edith}")).json()["health_notes"] == "diabetic"
    async with httpx.AsyncClient(base_url=world.server.http_url, timeout=10) as client:
        client.headers["Authorization"] = f"Bearer {world.tokens['carer']}"
        private = await client.get(f"/api/v1/residents/{edith}/timeline")
        assert private.status_code == 403
        assert "not agreed" in private.json()["detail"]


async def test_lists_hold_only_what_the_role_may_see(world: World) -> None:
    names = {world.homes.edith.name, world.homes.arthur.name}
    for role in ROLES:
        async with httpx.AsyncClient(base_url=world.server.http_url, timeout=10) as client:
            client.headers["Authorization"] = f"Bearer {world.tokens[role]}"
            residents = {r["name"] for r in (await client.get("/api/v1/residents")).json()} & names
            alerts = {a["resident"] for a in (await client.get("/api/v1/alerts")).json()} & names
        expected = names if role == "admin" else {world.homes.edith.name}
        assert residents == expected, role
        assert alerts == expected, role


async def test_recently_closed_holds_only_what_the_role_may_see_with_each_trail(
    world: World, api: httpx.AsyncClient
) -> None:
    for alert in world.alerts.values():
        closed = await api.post(
            f"/api/v1/alerts/{alert}/resolve",
            json={"outcome": "false_alarm", "note": "Pressed by mistake; spoke to her."},
        )
        assert closed.status_code == 200, closed.text
    names = {world.homes.edith.name, world.homes.arthur.name}
    for role in ROLES:
        async with httpx.AsyncClient(base_url=world.server.http_url, timeout=10) as client:
            client.headers["Authorization"] = f"Bearer {world.tokens[role]}"
            listed = (await client.get("/api/v1/alerts/recently-closed")).json()
        mine = [c for c in listed if c["alert"]["resident"] in names]
        expected = names if role == "admin" else {world.homes.edith.name}
        assert {c["alert"]["resident"] for c in mine} == expected, role
        for closed in mine:
            assert closed["alert"]["outcome"] == "false_alarm"
            last = closed["trail"][-1]
            assert (last["action"], last["note"]) == (
                "resolve",
                "Pressed by mistake; spoke to her.",
            )


async def test_service_figures_are_a_responders_own_services(world: World) -> None:
    # One emergency each in the north (Edith) and south (Arthur) services.
    counted: dict[str, int] = {}
    for role in ("admin", "responder"):
        async with httpx.AsyncClient(base_url=world.server.http_url, timeout=10) as client:
            client.headers["Authorization"] = f"Bearer {world.tokens[role]}"
            report = await client.get("/api/v1/reports/service")
            assert report.status_code == 200, report.text
            counted[role] = sum(s["alerts"] for s in report.json()["by_severity"])
    assert counted == {"admin": 2, "responder": 1}

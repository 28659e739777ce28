"""FHIR for health systems: client credentials, each resource validated, consent applied, reads logged."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.device import Device
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient

from edge.protocol import (
    HubState,
    HubStatus,
    Reading,
    ReadingKind,
    ReadingsBatch,
    SensorHealth,
    encode,
    readings_topic,
    status_topic,
)
from server.cli import main
from server.domain.identifiers import normalise_nhs_number
from server.runtime import CarewatchServer
from tests.server.helpers import Publisher, press_pendant, wait_for
from tests.server.people import bearer, make_two_homes
from tests.server.receivers import Hooks, webhook_server

MODELS: dict[str, Any] = {
    "Patient": Patient,
    "Device": Device,
    "Flag": Flag,
    "Observation": Observation,
    "Communication": Communication,
}


async def _carewatch(*argv: str) -> int:
    """The ``carewatch`` command, as an administrator runs it beside the server."""
    return await asyncio.to_thread(main, list(argv))


async def _register(name: str, service: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    assert await _carewatch("health-system", "add", name, "--service", service) == 0
    out = capsys.readouterr().out
    client_id = re.search(r"client_id:\s+(\S+)", out)
    secret = re.search(r"client_secret:\s+(\S+)", out)
    assert client_id, out
    assert secret, out
    return client_id[1], secret[1]


def _resources(response: httpx.Response, kind: str) -> list[dict[str, Any]]:
    """A search's resources, the bundle and each one validated against the FHIR models."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    bundle = Bundle.model_validate(body)
    assert bundle.type == "searchset"
    found = [entry["resource"] for entry in body.get("entry", [])]
    assert bundle.total == len(found)
    for resource in found:
        assert resource["resourceType"] == kind
        MODELS[kind].model_validate(resource)
        assert resource["meta"]["profile"] == [
            f"https://fhir.hl7.org.uk/StructureDefinition/UKCore-{kind}"
        ]
    return found


def _outcome(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    outcome = OperationOutcome.model_validate(response.json())
    assert outcome.issue[0].code == code


def _home_day(mqtt_url: str, hub: str) -> None:
    """Yesterday in the home (up, about, to bed), then a heartbeat naming two sensors."""
    now = datetime.now(UTC)
    start = now - timedelta(hours=30)
    readings = tuple(
        Reading(
            "kitchen-pir" if i % 2 else "lounge-pir",
            ReadingKind.MOTION,
            start + timedelta(minutes=10 * i),
            1.0,
        )
        for i in range(150)
    )
    publisher = Publisher(mqtt_url)
    try:
        publisher.publish(readings_topic(hub), encode(ReadingsBatch(hub, 1, now, readings)))
        sensors = (
            SensorHealth("kitchen-pir", "motion", room="kitchen", battery=81, link=64),
            SensorHealth("lounge-pir", "motion", room="lounge", battery=12, link=90),
        )
        status = HubStatus(
            hub, HubState.ONLINE, now, firmware="1.4.2", sensors=sensors, watermark=now
        )
        publisher.publish(status_topic(hub), encode(status))
    finally:
        publisher.close()


@pytest.fixture
def webhooks() -> Iterator[tuple[str, Hooks]]:
    with webhook_server() as found:
        yield found


async def test_a_health_system_reads_each_resource_of_a_consenting_resident(
    server: CarewatchServer,
    webhooks: tuple[str, Hooks],
    api: httpx.AsyncClient,
    mqtt_url: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CAREWATCH_DATABASE_URL", database_url)
    homes = await make_two_homes(api)
    edith, arthur = homes.edith, homes.arthur
    client_id, secret = await _register("Riverside GP", "north", capsys)
    fhir = httpx.AsyncClient(base_url=f"{server.http_url}/fhir", timeout=10)

    # The metadata is open; everything else needs a token.
    metadata = await fhir.get("/metadata")
    statement = CapabilityStatement.model_validate(metadata.json())
    assert statement.fhirVersion == "4.0.1"
    _outcome(await fhir.get(f"/Patient/{edith.resident_id}"), 401, "login")
    form = {"grant_type": "client_credentials", "client_id": client_id}
    wrong = await fhir.post("/token", data={**form, "client_secret": secret + "x"})
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    unknown = await fhir.post(
        "/token", data={**form, "client_id": "hs-nobody", "client_secret": secret}
    )
    assert unknown.json() == wrong.json()
    issued = await fhir.post(
        "/token", auth=(client_id, secret), data={"grant_type": "client_credentials"}
    )
    assert issued.status_code == 200, issued.text
    fhir.headers["Authorization"] = f"Bearer {issued.json()['access_token']}"
    _outcome(
        await fhir.get("/Patient/1", headers={"Authorization": "Bearer made-up"}), 401, "expired"
    )

    # Not shared yet: refused with the reason, left out of searches; another service's: not there.
    _outcome(await fhir.get(f"/Patient/{edith.resident_id}"), 403, "suppressed")
    assert _resources(await fhir.get("/Patient"), "Patient") == []
    _outcome(await fhir.get(f"/Patient/{arthur.resident_id}"), 404, "not-found")
    _outcome(await fhir.get("/Flag", params={"patient": edith.resident_id}), 403, "suppressed")

    # Edith says yes on her own page; only an admin may give her NHS number.
    edith_api = {"Authorization": f"Bearer {await bearer(api, edith.resident_user)}"}
    sharing = f"/api/v1/residents/{edith.resident_id}/health-sharing"
    said = await api.put(
        sharing, json={"share_with_health": True, "nhs_number": "9434765919"}, headers=edith_api
    )
    assert said.json() == {"share_with_health": True, "nhs_number": None}
    bad = await api.put(sharing, json={"share_with_health": True, "nhs_number": "9434765918"})
    assert bad.status_code == 422
    assert "not a valid NHS number" in bad.text
    given = await api.put(sharing, json={"share_with_health": True, "nhs_number": "943 476 5919"})
    assert given.json() == {"share_with_health": True, "nhs_number": "9434765919"}
    carer_api = {"Authorization": f"Bearer {await bearer(api, edith.carer)}"}
    refused = await api.put(sharing, json={"share_with_health": False}, headers=carer_api)
    assert refused.status_code == 403

    hook_url, hooks = webhooks
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO user_channels SELECT id, 0, 'webhook', %s FROM users WHERE username = %s",
            (f"{hook_url}/carer", edith.carer),
        )
    _home_day(mqtt_url, edith.hub)
    press_pendant(mqtt_url, edith.hub)

    async def alert_raised() -> bool:
        found = await fhir.get("/Flag", params={"patient": f"Patient/{edith.resident_id}"})
        return found.status_code == 200 and bool(found.json().get("entry"))

    await wait_for(alert_raised, what="the pendant press as an active Flag")

    patient = (await fhir.get(f"/Patient/{edith.resident_id}")).json()
    Patient.model_validate(patient)
    assert patient["identifier"][0] == {
        "use": "official",
        "system": "https://fhir.nhs.uk/Id/nhs-number",
        "value": "9434765919",
    }
    assert patient["name"][0]["text"] == edith.name
    by_nhs = await fhir.get(
        "/Patient", params={"identifier": "https://fhir.nhs.uk/Id/nhs-number|9434765919"}
    )
    assert [p["id"] for p in _resources(by_nhs, "Patient")] == [str(edith.resident_id)]

    async def devices() -> list[dict[str, Any]] | None:
        found = _resources(
            await fhir.get("/Device", params={"patient": edith.resident_id}), "Device"
        )
        return found if len(found) == 3 else None

    hub, *sensors = await wait_for(devices, what="the hub and its two sensors as Devices")
    assert hub["identifier"][0]["value"] == edith.hub
    assert hub["version"][0]["value"] == "1.4.2"
    assert {s["deviceName"][0]["name"] for s in sensors} == {"kitchen-pir", "lounge-pir"}
    assert all(s["parent"]["reference"] == f"Device/{hub['id']}" for s in sensors)

    flags = _resources(await fhir.get("/Flag", params={"patient": edith.resident_id}), "Flag")
    assert {f["status"] for f in flags} == {"active"}
    # The press, and what the heartbeat showed: a low battery, no front-door sensor.
    pendant = next(f for f in flags if f["code"]["text"].startswith("Pendant"))
    one = await fhir.get(f"/Flag/{pendant['id']}")
    assert Flag.model_validate(one.json()).id == pendant["id"]

    async def observations() -> list[dict[str, Any]] | None:
        found = _resources(
            await fhir.get("/Observation", params={"patient": edith.resident_id}), "Observation"
        )
        return found or None

    measures = await wait_for(observations, what="yesterday's daily measures as Observations")
    codes = {o["code"]["coding"][0]["code"] for o in measures}
    assert "movements" in codes
    assert all(o["category"][0]["coding"][0]["code"] == "activity" for o in measures)
    too_long = await fhir.get(
        "/Observation", params={"patient": edith.resident_id, "date": "ge2020-01-01"}
    )
    _outcome(too_long, 400, "too-costly")

    async def communications() -> list[dict[str, Any]] | None:
        found = _resources(
            await fhir.get("/Communication", params={"patient": edith.resident_id}),
            "Communication",
        )
        return found or None

    # The carer is told of the no-movement alert (the press goes to the responders).
    sent = await wait_for(communications, what="the carer's notification as a Communication")
    assert {c["about"][0]["reference"] for c in sent} <= {f"Flag/{f['id']}" for f in flags}
    assert {c["status"] for c in sent} == {"completed"}
    assert hooks.to("/carer")

    # Every read is in Edith's read log, under the system's name.
    reads = await api.get(f"/api/v1/residents/{edith.resident_id}/reads")
    logged = {(r["username"], r["what"]) for r in reads.json() if r["role"] == "health_system"}
    assert {
        ("Riverside GP", f"fhir {kind}")
        for kind in ("Patient", "Device", "Flag", "Observation", "Communication")
    } <= logged

    # She changes her mind: at once out of reach. Revoked: the token stops.
    await api.put(sharing, json={"share_with_health": False}, headers=edith_api)
    _outcome(await fhir.get(f"/Patient/{edith.resident_id}"), 403, "suppressed")
    assert await _carewatch("health-system", "revoke", "Riverside GP") == 0
    _outcome(await fhir.get("/Patient"), 401, "expired")
    await fhir.aclose()


def test_nhs_numbers_are_checked() -> None:
    assert normalise_nhs_number("943-476-5919") == "9434765919"
    for bad in ("9434765918", "943476591", "94347659190", "abcdefghij", "٩٤٣٤٧٦٥٩١٩"):
        with pytest.raises(ValueError, match="NHS number"):
            normalise_nhs_number(bad)

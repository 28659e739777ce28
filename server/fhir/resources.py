"""carewatch's records as FHIR R4 resources with UK Core profiles (pure: data in, resources out).

Each function builds the resource as FHIR JSON and validates it with the
``fhir.resources`` models before it leaves, so a mapping that drifts from the
specification fails here, not in a GP system. The models are ``R4B`` (the
maintained pydantic-2 release has no plain R4 package); Patient, Device, Flag,
Observation, Communication and OperationOutcome are the same in R4 (4.0.1)
and R4B for every element used here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.device import Device
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.resource import Resource

from server.domain.alerts import AlertStatus, title_of
from server.routine.measures import DayMeasures
from server.store.alerts import AlertRow
from server.store.escalation import Notification
from server.store.health import SharedResident
from server.store.people import HubRow

__all__ = [
    "FHIR_JSON",
    "capability_statement",
    "communication",
    "device_id",
    "devices",
    "flag",
    "observations",
    "operation_outcome",
    "patient",
    "searchset",
]

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
_UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"
# carewatch's own identifiers and codes: stable names, not addresses to fetch.
RESIDENT_ID = "urn:carewatch:resident"
HUB_ID = "urn:carewatch:hub"
SENSOR_ID = "urn:carewatch:sensor"
DAILY_MEASURE = "urn:carewatch:daily-measure"
_OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
_UCUM = "http://unitsofmeasure.org"
_LOINC = "http://loinc.org"


def _profile(name: str) -> dict[str, list[str]]:
    return {"profile": [_UK_CORE + name]}


def _json(model: Resource) -> dict[str, Any]:
    dumped: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


# --- resources ----------------------------------------------------------------


def patient(facts: SharedResident, service: str) -> dict[str, Any]:
    """The resident as a UK Core Patient: the service's id, the NHS number where known."""
    identifiers = [
        {"use": "secondary", "system": f"{RESIDENT_ID}:{service}", "value": str(facts.id)}
    ]
    if facts.nhs_number:
        identifiers.insert(0, {"use": "official", "system": NHS_NUMBER, "value": facts.nhs_number})
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(facts.id),
        "meta": _profile("Patient"),
        "identifier": identifiers,
        "active": True,
        "name": [{"use": "usual", "text": facts.name}],
    }
    if facts.address:
        resource["address"] = [{"use": "home", "text": facts.address}]
    return _json(Patient.model_validate(resource))


def device_id(hub: str, sensor: str | None = None) -> str:
    """A FHIR id for a hub or one of its sensors.

    Hub and sensor ids may hold ``_`` and ``:``, which FHIR ids may not; the
    real ids are in each Device's identifier.
    """
    name = hub if sensor is None else f"{hub}/{sensor}"
    digest = hashlib.sha256(name.encode()).hexdigest()[:20]
    return f"{'hub' if sensor is None else 'sensor'}-{digest}"


def devices(home: HubRow, patient_id: int) -> list[dict[str, Any]]:
    """The hub and each sensor its last heartbeat reported, as UK Core Devices.

    Sensors name the hub as their parent.
    """
    status = home.last_status or {}
    revoked = home.revoked_at is not None
    hub: dict[str, Any] = {
        "resourceType": "Device",
        "id": device_id(home.hub),
        "meta": _profile("Device"),
        "identifier": [{"system": HUB_ID, "value": home.hub}],
        "status": "inactive" if revoked else "active",
        "deviceName": [{"name": f"carewatch hub {home.hub}", "type": "user-friendly-name"}],
        "type": {"text": "Home telecare hub"},
        "patient": {"reference": f"Patient/{patient_id}"},
    }
    if status.get("firmware"):
        hub["version"] = [{"type": {"text": "firmware"}, "value": status["firmware"]}]
    if home.last_seen_at is not None:
        hub["note"] = [{"text": f"Last heard from at {home.last_seen_at.isoformat()}"}]
    found = [_json(Device.model_validate(hub))]
    for sensor in status.get("sensors") or ():
        name = str(sensor["sensor"])
        properties = [
            {
                "type": {"text": what},
                "valueQuantity": [
                    {"value": sensor[key], "unit": unit, "system": _UCUM, "code": unit}
                ],
            }
            for key, what, unit in (("battery", "battery", "%"), ("link", "link quality", "%"))
            if sensor.get(key) is not None
        ]
        resource: dict[str, Any] = {
            "resourceType": "Device",
            "id": device_id(home.hub, name),
            "meta": _profile("Device"),
            "identifier": [{"system": SENSOR_ID, "value": f"{home.hub}/{name}"}],
            "status": "inactive" if revoked else "active",
            "deviceName": [{"name": name, "type": "user-friendly-name"}],
            "patient": {"reference": f"Patient/{patient_id}"},
            "parent": {"reference": f"Device/{device_id(home.hub)}"},
        }
        if sensor.get("room"):
            resource["type"] = {"text": f"Sensor in the {sensor['room']}"}
        if properties:
            resource["property"] = properties
        found.append(_json(Device.model_validate(resource)))
    return found


def flag(alert: AlertRow) -> dict[str, Any]:
    """An alert as a UK Core Flag: active while it is being worked, inactive once closed."""
    closed = alert.status == AlertStatus.RESOLVED and alert.resolved_at is not None
    period: dict[str, str] = {"start": alert.raised_at.isoformat()}
    if closed and alert.resolved_at is not None:
        period["end"] = alert.resolved_at.isoformat()
    resource = {
        "resourceType": "Flag",
        "id": str(alert.id),
        "meta": _profile("Flag"),
        "status": "inactive" if closed else "active",
        "category": [
            {
                "coding": [{"system": _FLAG_CATEGORY, "code": "safety", "display": "Safety"}],
                "text": f"carewatch {alert.severity} alert",
            }
        ],
        "code": {"text": f"{title_of(alert.kind)}: {alert.reason}"},
        "subject": {"reference": f"Patient/{alert.resident_id}"},
        "period": period,
    }
    return _json(Flag.model_validate(resource))


# (code, words, how the day's value is given) for each daily measure shared.
_MEASURES: tuple[tuple[str, str], ...] = (
    ("wake-time", "Time got up"),
    ("bed-time", "Time went to bed"),
    ("night-toilet-visits", "Night-time toilet visits"),
    ("meals", "Meals prepared"),
    ("time-out", "Time out of the home"),
    ("movements", "Movements seen in the home"),
    ("sleep-duration", "Time in bed asleep"),
)


def _value(measure: str, day: DayMeasures) -> dict[str, Any] | None:
    """The FHIR value element of one measure on one day, or None if it is not known."""
    match measure:
        case "wake-time" if day.wake_time is not None:
            return {"valueTime": day.wake_time.isoformat(timespec="seconds")}
        case "bed-time" if day.bed_time is not None:
            return {"valueTime": day.bed_time.isoformat(timespec="seconds")}
        case "night-toilet-visits" if day.night_toilet_visits is not None:
            return {"valueInteger": day.night_toilet_visits}
        case "meals" if day.meals is not None:
            return {"valueInteger": day.meals}
        case "movements" if day.movements is not None:
            return {"valueInteger": day.movements}
        case "time-out" if day.time_out_min is not None:
            return {
                "valueQuantity": {
                    "value": day.time_out_min,
                    "unit": "min",
                    "system": _UCUM,
                    "code": "min",
                }
            }
        case "sleep-duration" if day.sleep_hours is not None:
            return {
                "valueQuantity": {
                    "value": round(day.sleep_hours, 2),
                    "unit": "h",
                    "system": _UCUM,
                    "code": "h",
                }
            }
    return None


def observations(
    patient_id: int, days: Iterable[DayMeasures], *, tz: ZoneInfo, today: date
) -> list[dict[str, Any]]:
    """Each known daily measure of each day as a UK Core Observation (today's preliminary)."""
    found = []
    for day in days:
        if not day.has_readings:
            continue
        start = datetime.combine(day.day, time(0), tz)
        end = datetime.combine(day.day + timedelta(days=1), time(0), tz)
        for code, words in _MEASURES:
            value = _value(code, day)
            if value is None:
                continue
            coding = [{"system": DAILY_MEASURE, "code": code, "display": words}]
            if code == "sleep-duration":
                coding.append({"system": _LOINC, "code": "93832-4", "display": "Sleep duration"})
            resource = {
                "resourceType": "Observation",
                "id": f"{patient_id}-{day.day:%Y%m%d}-{code}",
                "meta": _profile("Observation"),
                "status": "preliminary" if day.day >= today else "final",
                "category": [
                    {
                        "coding": [
                            {
                                "system": _OBSERVATION_CATEGORY,
                                "code": "activity",
                                "display": "Activity",
                            }
                        ]
                    }
                ],
                "code": {"coding": coding, "text": words},
                "subject": {"reference": f"Patient/{patient_id}"},
                "effectivePeriod": {"start": start.isoformat(), "end": end.isoformat()},
                "device": {"display": "carewatch home sensors"},
                **value,
            }
            found.append(_json(Observation.model_validate(resource)))
    return found


def communication(notice: Notification, kind: str, patient_id: int) -> dict[str, Any]:
    """A notification about an alert of ``kind`` as a UK Core Communication (sent, or tried)."""
    digest = hashlib.sha256(
        f"{notice.alert_id}/{notice.at.isoformat()}/{notice.channel}/{notice.name}".encode()
    ).hexdigest()[:24]
    who = notice.name or "a person since removed"
    resource: dict[str, Any] = {
        "resourceType": "Communication",
        "id": f"notice-{digest}",
        "meta": _profile("Communication"),
        "status": "completed" if notice.ok else "not-done",
        "subject": {"reference": f"Patient/{patient_id}"},
        "about": [{"reference": f"Flag/{notice.alert_id}"}],
        "topic": {"text": title_of(kind)},
        "medium": [{"text": notice.channel}],
        "sent": notice.at.isoformat(),
        "recipient": [{"display": f"{who} ({notice.role})" if notice.role else who}],
        "payload": [{"contentString": f"carewatch alert: {title_of(kind)}"}],
    }
    if not notice.ok:
        resource["statusReason"] = {"text": notice.error or "not delivered"}
    return _json(Communication.model_validate(resource))


def searchset(resources: Sequence[dict[str, Any]], url: str) -> dict[str, Any]:
    """A search result Bundle of the resources found."""
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": url}],
        "entry": [
            {
                "fullUrl": f"{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }
    return _json(Bundle.model_validate(bundle))


def operation_outcome(code: str, text: str, *, severity: str = "error") -> dict[str, Any]:
    """An error, as FHIR gives one: ``code`` from the issue-type codes (security, not-found …)."""
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": text}],
    }
    return _json(OperationOutcome.model_validate(outcome))


# What this server answers, for GET /fhir/metadata.
_INTERACTIONS: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]], ...] = (
    ("Patient", ("read", "search-type"), (("identifier", "token"),)),
    ("Device", ("search-type",), (("patient", "reference"),)),
    ("Flag", ("read", "search-type"), (("patient", "reference"), ("status", "token"))),
    ("Observation", ("search-type",), (("patient", "reference"), ("date", "date"))),
    ("Communication", ("search-type",), (("patient", "reference"),)),
)


def capability_statement(base_url: str, *, software_version: str) -> dict[str, Any]:
    """The server's CapabilityStatement: read-only, client-credentials tokens."""
    statement = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": datetime.now(UTC).date().isoformat(),
        "kind": "instance",
        "software": {"name": "carewatch", "version": software_version},
        "implementation": {"description": "carewatch telecare records", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "service": [{"text": "OAuth2 client credentials"}],
                    "description": f"POST {base_url}/token with grant_type=client_credentials",
                },
                "resource": [
                    {
                        "type": kind,
                        "profile": _UK_CORE + kind,
                        "interaction": [{"code": code} for code in codes],
                        "searchParam": [{"name": n, "type": t} for n, t in params],
                    }
                    for kind, codes, params in _INTERACTIONS
                ],
            }
        ],
    }
    return _json(CapabilityStatement.model_validate(statement))

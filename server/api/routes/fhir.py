"""A read-only FHIR R4 endpoint for health systems (``/fhir``), and residents' consent to it.

A health system (a GP system, a shared care record) is registered for one
service with ``carewatch health-system add`` and gets a client id and secret;
it trades them for a one-hour bearer token at ``POST /fhir/token``
(OAuth2 client credentials) and reads the residents of its service who said
yes to sharing with health. Every read goes in the resident's read log.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from importlib import metadata
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, field_validator

from server.api.deps import (
    CurrentUser,
    ResidentId,
    ServicesDep,
    bearer_token,
    resident_in_reach,
    viewer_of,
)
from server.domain.access import Role, may_change_choices
from server.domain.alerts import AlertStatus
from server.domain.identifiers import normalise_nhs_number
from server.fhir import resources as fhir
from server.fhir.credentials import secret_matches
from server.passwords import generate_token
from server.routine.activity import Activity
from server.routine.measures import daily_measures
from server.store import alerts as alerts_sql
from server.store import escalation as escalation_sql
from server.store import health as health_sql
from server.store import people
from server.store import residents as residents_sql
from server.store.health import HealthSystem, SharedResident
from server.store.pool import DbConn

__all__ = ["FhirProblem", "fhir_problem", "router", "sharing_router"]

router = APIRouter(prefix="/fhir", tags=["FHIR for health systems"])
sharing_router = APIRouter(prefix="/api/v1/residents", tags=["residents"])

TOKEN_LIFETIME = timedelta(hours=1)
# How far back an Observation search looks when no date is given, and at most.
_DEFAULT_DAYS = 7
_MAX_DAYS = 92
_basic = HTTPBasic(auto_error=False)


class FhirProblem(Exception):
    """An error to answer as an OperationOutcome."""

    def __init__(self, http_status: int, code: str, text: str) -> None:
        super().__init__(text)
        self.http_status = http_status
        self.code = code
        self.text = text


async def fhir_problem(request: Request, problem: Exception) -> JSONResponse:
    """Answer a :class:`FhirProblem` as FHIR does: an OperationOutcome."""
    assert isinstance(problem, FhirProblem)
    headers = {"WWW-Authenticate": "Bearer"} if problem.http_status == 401 else None
    return JSONResponse(
        fhir.operation_outcome(problem.code, problem.text),
        status_code=problem.http_status,
        media_type=fhir.FHIR_JSON,
        headers=headers,
    )


def _answer(resource: dict[str, Any]) -> JSONResponse:
    return JSONResponse(resource, media_type=fhir.FHIR_JSON)


# --- the token endpoint ---------------------------------------------------------


@router.post("/token", response_class=JSONResponse)
async def issue_token(
    services: ServicesDep,
    grant_type: Annotated[str, Form()],
    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
) -> JSONResponse:
    """OAuth2 client credentials (RFC 6749 §4.4): the secret in the form or HTTP Basic."""
    if grant_type != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "only client_credentials is offered")
    if basic is not None:
        client_id, client_secret = basic.username, basic.password
    if not client_id or not client_secret:
        return _oauth_error(401, "invalid_client", "give client_id and client_secret")
    async with services.pool.connection() as conn:
        system = await health_sql.system_by_client_id(conn, client_id)
        if not secret_matches(system.secret_hash if system else None, client_secret) or not system:
            return _oauth_error(401, "invalid_client", "unknown client or wrong secret")
        token = generate_token()
        await health_sql.issue_token(conn, system.id, token, lifetime=TOKEN_LIFETIME)
    return JSONResponse(
        {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": int(TOKEN_LIFETIME.total_seconds()),
            "scope": "system/*.read",
        },
        headers={"Cache-Control": "no-store"},
    )


def _oauth_error(code: int, error: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=code,
        headers={"Cache-Control": "no-store"},
    )


async def _system(request: Request, services: ServicesDep) -> HealthSystem:
    token = bearer_token(request)
    if token is None:
        raise FhirProblem(401, "login", "send a bearer token from POST /fhir/token")
    async with services.pool.connection() as conn:
        system = await health_sql.system_by_token(conn, token)
    if system is None:
        raise FhirProblem(401, "expired", "the token is unknown, expired or revoked")
    return system


System = Annotated[HealthSystem, Depends(_system)]


# --- resources ------------------------------------------------------------------


@router.get("/metadata")
async def capability_statement(request: Request) -> JSONResponse:
    """What this server offers (open to all, as FHIR expects)."""
    base = str(request.url_for("capability_statement")).removesuffix("/metadata")
    return _answer(fhir.capability_statement(base, software_version=metadata.version("carewatch")))


async def _shared(conn: DbConn, system: HealthSystem, resident_id: int) -> SharedResident:
    """The resident, if the system may read them; else the OperationOutcome why not."""
    found = await health_sql.shared_resident(conn, system.service, resident_id)
    if found is not None:
        return found
    sharing = await health_sql.sharing(conn, resident_id)
    if sharing is not None and sharing.service == system.service:
        raise FhirProblem(
            403, "suppressed", "the resident has not agreed to share their record with health"
        )
    raise FhirProblem(404, "not-found", f"no Patient/{resident_id} for this system")


def _patient_param(text: str) -> int:
    """``Patient/12`` or ``12``."""
    digits = text.removeprefix("Patient/")
    if not digits.isdigit() or not 0 < int(digits) < 2**63:
        raise FhirProblem(400, "value", f"patient={text!r}: give Patient/ID")
    return int(digits)


@router.get("/Patient/{resident_id}")
async def read_patient(services: ServicesDep, system: System, resident_id: int) -> JSONResponse:
    """One resident who shares with health."""
    async with services.pool.connection() as conn:
        resident = await _shared(conn, system, resident_id)
        await health_sql.log_read(conn, system, resident.id, "fhir Patient")
    return _answer(fhir.patient(resident, system.service))


@router.get("/Patient")
async def search_patients(
    request: Request,
    services: ServicesDep,
    system: System,
    identifier: Annotated[
        str | None, Query(description="SYSTEM|VALUE, e.g. the NHS number")
    ] = None,
) -> JSONResponse:
    """The residents of the system's service who share with health (or the one with that NHS number)."""
    nhs: str | None = None
    if identifier is not None:
        kind, _, value = identifier.rpartition("|")
        if kind not in ("", fhir.NHS_NUMBER):
            raise FhirProblem(400, "not-supported", f"search by {fhir.NHS_NUMBER}|NUMBER")
        nhs = value
    async with services.pool.connection() as conn:
        found = await health_sql.shared_residents(conn, system.service, nhs_number=nhs)
        for resident in found:
            await health_sql.log_read(conn, system, resident.id, "fhir Patient")
    return _answer(
        fhir.searchset([fhir.patient(r, system.service) for r in found], str(request.url))
    )


@router.get("/Device")
async def search_devices(
    request: Request, services: ServicesDep, system: System, patient: str
) -> JSONResponse:
    """The resident's hubs and their sensors."""
    async with services.pool.connection() as conn:
        resident = await _shared(conn, system, _patient_param(patient))
        hubs = await people.hubs_where(conn, "r.id = %s", (resident.id,))
        await health_sql.log_read(conn, system, resident.id, "fhir Device")
    found = [device for hub in hubs for device in fhir.devices(hub, resident.id)]
    return _answer(fhir.searchset(found, str(request.url)))


_OPEN = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.ESCALATED)


@router.get("/Flag")
async def search_flags(
    request: Request,
    services: ServicesDep,
    system: System,
    patient: str,
    flag_status: Annotated[str, Query(alias="status", pattern="^(active|inactive)$")] = "active",
) -> JSONResponse:
    """The resident's open alerts (``status=inactive``: those closed, newest first)."""
    statuses = _OPEN if flag_status == "active" else (AlertStatus.RESOLVED,)
    async with services.pool.connection() as conn:
        resident = await _shared(conn, system, _patient_param(patient))
        rows = await alerts_sql.list_alerts(
            conn, statuses=statuses, resident_id=resident.id, limit=200
        )
        await health_sql.log_read(conn, system, resident.id, "fhir Flag")
    return _answer(fhir.searchset([fhir.flag(r) for r in rows], str(request.url)))


@router.get("/Flag/{flag_id}")
async def read_flag(services: ServicesDep, system: System, flag_id: str) -> JSONResponse:
    """One alert, open or closed."""
    try:
        alert_id = uuid.UUID(flag_id)
    except ValueError:
        raise FhirProblem(404, "not-found", f"no Flag/{flag_id}") from None
    async with services.pool.connection() as conn:
        row = await alerts_sql.get_alert(conn, alert_id)
        if row is None:
            raise FhirProblem(404, "not-found", f"no Flag/{flag_id}")
        resident = await _shared(conn, system, row.resident_id)
        await health_sql.log_read(conn, system, resident.id, "fhir Flag")
    return _answer(fhir.flag(row))


def _day_bounds(dates: Sequence[str], today: date) -> tuple[date, date]:
    """The days a ``date=geYYYY-MM-DD&date=leYYYY-MM-DD`` search asks for (a week by default)."""
    first, last = today - timedelta(days=_DEFAULT_DAYS - 1), today
    for text in dates:
        prefix, day_text = (text[:2], text[2:]) if text[:2].isalpha() else ("eq", text)
        try:
            day = date.fromisoformat(day_text[:10])
        except ValueError:
            raise FhirProblem(400, "value", f"date={text!r}: give e.g. ge2026-11-01") from None
        match prefix:
            case "ge" | "gt":
                first = day + timedelta(days=prefix == "gt")
            case "le" | "lt":
                last = day - timedelta(days=prefix == "lt")
            case "eq":
                first = last = day
            case _:
                raise FhirProblem(400, "not-supported", f"date prefix {prefix!r}: use ge, le or eq")
    last = min(last, today)
    if (last - first).days >= _MAX_DAYS:
        raise FhirProblem(400, "too-costly", f"ask for at most {_MAX_DAYS} days at a time")
    return first, last


@router.get("/Observation")
async def search_observations(
    request: Request,
    services: ServicesDep,
    system: System,
    patient: str,
    date_: Annotated[list[str] | None, Query(alias="date")] = None,
) -> JSONResponse:
    """The resident's daily measures (getting up, night toilet visits, meals, time out, activity)."""
    async with services.pool.connection() as conn:
        resident = await _shared(conn, system, _patient_param(patient))
        zone = ZoneInfo(resident.timezone)
        now = datetime.now(UTC)
        today = now.astimezone(zone).date()
        first, last = _day_bounds(date_ or [], today)
        # From noon the day before: the night that ends on the first morning.
        since = datetime.combine(first - timedelta(days=1), time(12), zone)
        until = min(now, datetime.combine(last + timedelta(days=1), time(12), zone))
        rows = await residents_sql.activity(conn, resident.id, since, until)
        await health_sql.log_read(conn, system, resident.id, "fhir Observation")
    days = (
        daily_measures(
            [Activity(s, k, t, v) for s, k, t, v in rows],
            tz=zone,
            first_day=first,
            last_day=last,
            until=until,
        )
        if first <= last
        else []
    )
    found = fhir.observations(resident.id, days, tz=zone, today=today)
    return _answer(fhir.searchset(found, str(request.url)))


@router.get("/Communication")
async def search_communications(
    request: Request, services: ServicesDep, system: System, patient: str
) -> JSONResponse:
    """The notifications sent (or tried) about the resident's alerts, oldest first."""
    async with services.pool.connection() as conn:
        resident = await _shared(conn, system, _patient_param(patient))
        sent = await escalation_sql.notifications_for_resident(conn, resident.id)
        kinds = await health_sql.alert_kinds(conn, resident.id)
        await health_sql.log_read(conn, system, resident.id, "fhir Communication")
    found = [fhir.communication(n, kinds.get(n.alert_id, "unknown"), resident.id) for n in sent]
    return _answer(fhir.searchset(found, str(request.url)))


# --- the resident's consent -------------------------------------------------------


class HealthSharingIn(BaseModel):
    """The resident's yes or no to health systems reading their record; the NHS number (admins)."""

    share_with_health: bool
    nhs_number: str | None = None

    @field_validator("nhs_number")
    @classmethod
    def _valid(cls, value: str | None) -> str | None:
        return None if not value else normalise_nhs_number(value)


class HealthSharingOut(BaseModel):
    """The resident's choice and NHS number as stored."""

    share_with_health: bool
    nhs_number: str | None


@sharing_router.get("/{resident_id}/health-sharing")
async def get_health_sharing(
    services: ServicesDep, user: CurrentUser, resident_id: ResidentId
) -> HealthSharingOut:
    """Whether the resident shares their record with health systems."""
    await resident_in_reach(services, user, resident_id, "health sharing")
    async with services.pool.connection() as conn:
        found = await health_sql.sharing(conn, resident_id)
    assert found is not None  # resident_in_reach found them
    return HealthSharingOut(share_with_health=found.share_with_health, nhs_number=found.nhs_number)


@sharing_router.put("/{resident_id}/health-sharing")
async def set_health_sharing(
    services: ServicesDep, user: CurrentUser, resident_id: ResidentId, choice: HealthSharingIn
) -> HealthSharingOut:
    """The resident (or an admin on their behalf) says yes or no; only admins set the NHS number."""
    home = await resident_in_reach(services, user, resident_id, "health sharing (change)")
    viewer = viewer_of(user)
    if not may_change_choices(viewer, home):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this is the resident's own choice")
    async with services.pool.connection() as conn:
        await health_sql.set_share_with_health(conn, resident_id, choice.share_with_health)
        if viewer.role is Role.ADMIN and "nhs_number" in choice.model_fields_set:
            await health_sql.set_nhs_number(conn, resident_id, choice.nhs_number)
        found = await health_sql.sharing(conn, resident_id)
    assert found is not None
    return HealthSharingOut(share_with_health=found.share_with_health, nhs_number=found.nhs_number)

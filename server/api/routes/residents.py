"""Residents' records: what each role may see, the resident's own choices, and who looked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field, field_validator

from server.api.deps import (
    CurrentUser,
    ResidentId,
    Services,
    ServicesDep,
    log_list_reads,
    require_role,
    resident_in_reach,
    viewer_of,
)
from server.api.routes.alerts import Alert
from server.domain.access import (
    ResidentScope,
    Role,
    Viewer,
    may_change_choices,
    may_check_in,
    may_see_access_info,
    may_see_activity,
    may_see_health_notes,
    may_see_who_read,
    may_set_away,
)
from server.erasure import erase_resident
from server.routine import (
    Activity,
    DayMeasures,
    compare,
    daily_measures,
    rooms_in_order,
    timeline,
    usual_ranges,
)
from server.store import alerts as alerts_sql
from server.store import people
from server.store import residents as residents_sql

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/residents", tags=["residents"])

_ADMIN = require_role(Role.ADMIN)
_REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"description": "not one of this resident's carers or responders (logged)"},
    404: {"description": "no such resident"},
}


class ResidentLine(BaseModel):
    """A resident in a list."""

    id: int
    name: str
    service: str
    away_until: datetime | None
    active_alerts: int


class ContactOut(BaseModel):
    """Someone to call, in the order the escalation ladder tries them."""

    position: int
    username: str
    name: str
    role: Role
    reach: list[str] = Field(description="e-mail addresses; for responders and admins only")
    phone: str | None = Field(
        default=None, description="their phone: for the resident, responders and admins"
    )


class ResidentOut(BaseModel):
    """A resident's record; parts the viewer may not see are null."""

    id: int
    name: str
    timezone: str
    service: str
    address: str
    access_info: str | None = Field(description="key safe and entry: responders only")
    health_notes: str | None = Field(
        description="shared with responders only if the resident agreed"
    )
    share_health_notes: bool
    share_activity_with_carers: bool
    checkin_by: time | None
    last_checkin: datetime | None
    away_until: datetime | None
    contacts: list[ContactOut]
    hubs: list[str]


class NewResident(BaseModel):
    """A resident joining the service."""

    name: str = Field(min_length=1, max_length=200)
    timezone: str = "Europe/London"
    service: str = Field(default="default", min_length=1, max_length=100)
    address: str = Field(default="", max_length=500)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _zone_name(value)


class ProfileChange(BaseModel):
    """Fields of the record an admin changes; those left out stay as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = None
    service: str | None = Field(default=None, min_length=1, max_length=100)
    address: str | None = Field(default=None, max_length=500)
    access_info: str | None = Field(default=None, max_length=1_000)
    health_notes: str | None = Field(default=None, max_length=4_000)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else _zone_name(value)


class Away(BaseModel):
    """Away until then (inactivity is not judged; alarms still raise). Null: back home."""

    until: datetime | None

    @field_validator("until")
    @classmethod
    def _aware_and_ahead(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("give the time with its offset, e.g. 2026-12-24T18:00:00+00:00")
        now = datetime.now(UTC)
        if value <= now:
            raise ValueError("That time has already passed: choose a later day")
        if value > now + timedelta(days=90):
            raise ValueError(
                "Time away can be set for up to 90 days: choose an earlier day,"
                " and set it again nearer the time"
            )
        return value


class Choices(BaseModel):
    """The resident's consent and their daily "I'm OK" time (null: no check-in)."""

    share_health_notes: bool
    share_activity_with_carers: bool
    checkin_by: time | None = None

    @field_validator("checkin_by")
    @classmethod
    def _plain_time(cls, value: time | None) -> time | None:
        # A local wall-clock time: an offset would change meaning with the seasons.
        return None if value is None else value.replace(tzinfo=None, microsecond=0)


class CheckinOut(BaseModel):
    """The "I'm OK" was recorded."""

    at: datetime


class CarerLadder(BaseModel):
    """Carers' usernames in the order the escalation ladder tries them."""

    carers: list[str] = Field(max_length=20)


class ReadOut(BaseModel):
    """One look at the record."""

    at: datetime
    username: str
    role: str = Field(description="the reader's role, or health_system for a FHIR client")
    what: str
    allowed: bool
    name: str = Field(description="who looked, by their display name")


class SpanOut(BaseModel):
    """Where the resident was: one bar on the timeline."""

    room: str
    start: datetime
    end: datetime


class TimelineOut(BaseModel):
    """The last hours room by room, for a picture."""

    start: datetime
    end: datetime
    rooms: list[str]
    spans: list[SpanOut]


class UsualOut(BaseModel):
    """A measure's usual: inside ``low``..``high`` a day is not different."""

    median: float
    low: float
    high: float


class RoutineOut(BaseModel):
    """Today against the resident's usual days, and the days behind it."""

    as_usual: bool
    learning: bool
    differences: list[str]
    days: list[DayMeasures] = Field(description="oldest first, today (so far) last")
    usual: dict[str, UsualOut] = Field(
        default_factory=dict,
        description="each charted measure's usual band (wake_time in minutes after midnight);"
        " empty while the routine is still being learnt",
    )


def _zone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}; use a name like Europe/London") from None
    return value


async def _permitted(
    services: Services,
    user: people.User,
    resident_id: int,
    what: str,
    rule: Callable[[Viewer, ResidentScope], bool],
    refusal: str,
) -> ResidentScope:
    """The resident's scope if the user may see them and ``rule`` lets them do ``what``."""
    home = await resident_in_reach(services, user, resident_id, what)
    if not rule(viewer_of(user), home):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=refusal)
    return home


async def _record(services: Services, home: ResidentScope) -> residents_sql.ResidentRecord:
    async with services.pool.connection() as conn:
        found = await residents_sql.record(conn, home.resident_id)
    if found is None:  # removed between the check and now
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no resident {home.resident_id}")
    return found


@router.get("")
async def list_residents(services: ServicesDep, user: CurrentUser) -> list[ResidentLine]:
    """The residents you may see, by name."""
    viewer = viewer_of(user)
    async with services.pool.connection() as conn:
        found = await residents_sql.visible_residents(conn, viewer)
        await log_list_reads(conn, viewer, (r.id for r in found), "name on a list")
    return [ResidentLine(**asdict(r)) for r in found]


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[_ADMIN], responses={409: {}})
async def add_resident(services: ServicesDep, new: NewResident) -> ResidentLine:
    """Add a resident to a service."""
    async with services.pool.connection() as conn:
        made = await residents_sql.create_resident(
            conn, new.name, timezone=new.timezone, service=new.service, address=new.address
        )
    if made is None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"{new.name!r} is already a resident")
    return ResidentLine(
        id=made, name=new.name, service=new.service, away_until=None, active_alerts=0
    )


@router.get("/{resident_id}", responses=_REFUSED)
async def get_resident(
    services: ServicesDep, user: CurrentUser, resident_id: ResidentId
) -> ResidentOut:
    """A resident's record, as much of it as you may see (the read is logged)."""
    home = await resident_in_reach(services, user, resident_id, "record")
    return await _resident_out(services, user, home)


async def _resident_out(services: Services, user: people.User, home: ResidentScope) -> ResidentOut:
    """The record as it is now, as much of it as ``user`` may see (access already checked)."""
    found = await _record(services, home)
    # A change just made (consent, service) counts at once: the scope follows the record.
    home = replace(
        home,
        service=found.service,
        share_health_notes=found.share_health_notes,
        share_activity_with_carers=found.share_activity_with_carers,
    )
    viewer = viewer_of(user)
    # The key safe, and how to reach the carers: for the people who may have to go in or call.
    staff = may_see_access_info(viewer, home)
    async with services.pool.connection() as conn:
        checked_in = await residents_sql.last_checkin(conn, home.resident_id)
    return ResidentOut(
        id=found.id,
        name=found.name,
        timezone=found.timezone,
        service=found.service,
        address=found.address,
        access_info=found.access_info if staff else None,
        health_notes=found.health_notes if may_see_health_notes(viewer, home) else None,
        share_health_notes=found.share_health_notes,
        share_activity_with_carers=found.share_activity_with_carers,
        checkin_by=found.checkin_by,
        last_checkin=checked_in,
        away_until=found.away_until,
        contacts=[
            ContactOut(
                **{
                    **asdict(c),
                    "reach": c.reach if staff else [],
                    # The resident rings their own carers; other carers do not get their numbers.
                    "phone": c.phone if staff or viewer.role == Role.RESIDENT else None,
                }
            )
            for c in found.contacts
        ],
        hubs=found.hubs,
    )


@router.patch("/{resident_id}", dependencies=[_ADMIN], responses={**_REFUSED, 409: {}})
async def change_resident(
    services: ServicesDep, user: CurrentUser, resident_id: ResidentId, change: ProfileChange
) -> ResidentOut:
    """Change a resident's details (address, key safe, health notes, service, time zone)."""
    home = await resident_in_reach(services, user, resident_id, "record (change)")
    changes = change.model_dump(exclude_none=True)
    async with services.pool.connection() as conn:
        if "name" in changes and await residents_sql.name_taken(
            conn, changes["name"], other_than=resident_id
        ):
            raise HTTPException(
                status.HTTP_409_CONFLICT, detail=f"{changes['name']!r} is another resident"
            )
        await residents_sql.update_profile(conn, resident_id, changes)
    return await _resident_out(services, user, home)


class Erased(BaseModel):
    """What an erasure removed."""

    resident: str
    hubs: list[str]
    readings: int


@router.delete("/{resident_id}", dependencies=[_ADMIN], responses={404: {}})
async def erase(services: ServicesDep, resident_id: ResidentId) -> Erased:
    """Erase the resident and everything held about them (right to erasure); cannot be undone.

    Their hubs' broker accounts go first, then their readings, alarms, alerts and
    audit trail, check-ins, dead letters, record read log and their own account.
    """
    async with services.pool.connection() as conn:
        erased = await erase_resident(
            conn, resident_id, credentials_dir=services.settings.broker_credentials_dir
        )
    if erased is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no resident {resident_id}")
    # Ingest forgets the hubs now, not at its next look at the hubs.
    await services.hubs_changed()
    return Erased(resident=erased.resident, hubs=list(erased.hubs), readings=erased.readings)


@router.put("/{resident_id}/away", responses=_REFUSED)
async def set_away(
    services: ServicesDep, user: CurrentUser, resident_id: ResidentId, away: Away
) -> ResidentOut:
    """Away until a time: inactivity is not judged until then; pendants and alarms still raise."""
    home = await _permitted(
        services,
        user,
        resident_id,
        "away (change)",
        may_set_away,
        "the resident, their carers or an admin set time away",
    )
    async with services.pool.connection() as conn:
        await residents_sql.set_away(conn, resident_id, away.until)
    return await _resident_out(services, user, home)


@router.post("/{resident_id}/checkin", responses=_REFUSED)
async def check_in(services: ServicesDep, user: CurrentUser, resident_id: ResidentId) -> CheckinOut:
    """The resident's "I'm OK" for today."""
    await _permitted(
        services,
        user,
        resident_id,
        "check-in",
        may_check_in,
        "only the resident checks in for themselves",
    )
    async with services.pool.connection() as conn:
        at = await residents_sql.add_checkin(conn, resident_id, source="page")
    return CheckinOut(at=at)


@router.put("/{resident_id}/choices", responses=_REFUSED)
async def set_choices(
    services: ServicesDep, user: CurrentUser, resident_id: ResidentId, choices: Choices
) -> ResidentOut:
    """The resident's consent (health notes to responders, daily picture to carers) and check-in time."""
    home = await _permitted(
        services,
        user,
        resident_id,
        "choices (change)",
        may_change_choices,
        "these are the resident's own choices",
    )
    async with services.pool.connection() as conn:
        await residents_sql.set_choices(
            conn,
            resident_id,
            share_health_notes=choices.share_health_notes,
            share_activity_with_carers=choices.share_activity_with_carers,
            checkin_by=choices.checkin_by,
        )
    return await _resident_out(services, user, home)


@router.put("/{resident_id}/carers", dependencies=[_ADMIN], responses={**_REFUSED, 422: {}})
async def set_carers(
    services: ServicesDep, user: CurrentUser, resident_id: ResidentId, ladder: CarerLadder
) -> ResidentOut:
    """Set who is on the resident's escalation ladder, first to last."""
    home = await resident_in_reach(services, user, resident_id, "carers (change)")
    if len(set(ladder.carers)) != len(ladder.carers):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="a carer is listed twice")
    ids: list[int] = []
    async with services.pool.connection() as conn:
        for username in ladder.carers:
            found = await people.user_by_username(conn, username)
            if found is None or found.role is not Role.CARER:
                raise HTTPException(
                    status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"{username!r} is not a carer"
                )
            ids.append(found.id)
        async with conn.transaction():
            await residents_sql.set_carers(conn, resident_id, ids)
    return await _resident_out(services, user, home)


@router.get("/{resident_id}/reads", responses=_REFUSED)
async def who_read(
    services: ServicesDep,
    user: CurrentUser,
    resident_id: ResidentId,
    limit: Annotated[int, Query(ge=1, le=1_000)] = 100,
) -> list[ReadOut]:
    """Who looked at the record, newest first (refused attempts too)."""
    await _permitted(
        services,
        user,
        resident_id,
        "read log",
        may_see_who_read,
        "the read log is for the resident and admins",
    )
    async with services.pool.connection() as conn:
        found = await residents_sql.reads_of(conn, resident_id, limit=limit)
    return [ReadOut(**asdict(r)) for r in found]


@router.get("/{resident_id}/past-alerts", responses=_REFUSED)
async def past_alerts(
    services: ServicesDep,
    user: CurrentUser,
    resident_id: ResidentId,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> list[Alert]:
    """The resident's closed alerts with their outcomes, the most recent first (the read is logged)."""
    await resident_in_reach(services, user, resident_id, "past alerts")
    async with services.pool.connection() as conn:
        rows = await alerts_sql.past_for_resident(conn, resident_id, limit=limit)
    return [Alert.of(r) for r in rows]


async def _activity_in_reach(
    services: Services, user: people.User, resident_id: int, what: str
) -> residents_sql.ResidentRecord:
    home = await _permitted(
        services,
        user,
        resident_id,
        what,
        may_see_activity,
        "the resident has not agreed to share their daily activity with carers",
    )
    return await _record(services, home)


async def _activities(
    services: Services, resident_id: int, since: datetime, until: datetime
) -> list[Activity]:
    async with services.pool.connection() as conn:
        rows = await residents_sql.activity(conn, resident_id, since, until)
    return [Activity(sensor, kind, ts, value) for sensor, kind, ts, value in rows]


@router.get("/{resident_id}/timeline", responses=_REFUSED)
async def get_timeline(
    services: ServicesDep,
    user: CurrentUser,
    resident_id: ResidentId,
    hours: Annotated[int, Query(ge=1, le=72)] = 24,
) -> TimelineOut:
    """Where the resident was, room by room, over the last hours."""
    await _activity_in_reach(services, user, resident_id, "timeline")
    end = datetime.now(UTC)
    start = end - timedelta(hours=hours)
    # A bed entered before the window still counts: look a little further back.
    activities = await _activities(services, resident_id, start - timedelta(hours=12), end)
    async with services.pool.connection() as conn:
        heard = await residents_sql.hubs_heard_until(conn, resident_id)
    # What the home told us ends where its readings and heartbeats end: a hub that
    # went quiet leaves a gap, not a resident still in the chair.
    known = max([a.ts for a in activities[-1:]] + ([heard] if heard else []), default=start)
    spans = timeline(activities, start=start, end=min(end, max(known, start)))
    return TimelineOut(
        start=start,
        end=end,
        rooms=rooms_in_order(spans),
        spans=[SpanOut(room=s.room, start=s.start, end=s.end) for s in spans],
    )


@router.get("/{resident_id}/routine", responses=_REFUSED)
async def get_routine(
    services: ServicesDep,
    user: CurrentUser,
    resident_id: ResidentId,
    days: Annotated[int, Query(ge=7, le=60)] = 28,
) -> RoutineOut:
    """The routine measures day by day (oldest first, today last) and how today compares."""
    found = await _activity_in_reach(services, user, resident_id, "routine")
    zone = ZoneInfo(found.timezone)
    now_local = datetime.now(UTC).astimezone(zone)
    today = now_local.date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first - timedelta(days=1), time(12), zone)
    now = datetime.now(UTC)
    measures = daily_measures(
        await _activities(services, resident_id, since, now),
        tz=zone,
        first_day=first,
        last_day=today,
        until=now,
    )
    async with services.pool.connection() as conn:
        heard = await residents_sql.hubs_heard_until(conn, resident_id)
    midnight = datetime.combine(today, time(0), zone)
    verdict = compare(
        measures[-1],
        measures[:-1],
        now_local=now_local.time(),
        hub_heard_today=heard is not None and heard >= midnight,
    )
    return RoutineOut(
        as_usual=verdict.as_usual,
        learning=verdict.learning,
        differences=verdict.differences,
        days=measures,
        usual={
            name: UsualOut(median=u.median, low=max(0.0, u.low), high=u.high)
            for name, u in usual_ranges(measures[-1], measures[:-1]).items()
        },
    )

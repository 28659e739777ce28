"""The shift: who is on duty, hubs offline, going on or off duty, and the response plans."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from server.api.deps import CurrentUser, ServicesDep, require_role, viewer_of
from server.domain.access import Role
from server.domain.alerts import AlertKind
from server.domain.plans import plan_for
from server.store import people
from server.store import shift as shift_sql

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["shift"])


class Colleague(BaseModel):
    """A responder on duty."""

    username: str
    name: str
    phone: str | None = Field(description="their direct line, for colleagues to call")
    since: datetime | None = Field(description="when they last went on duty, if known")


class Shift(BaseModel):
    """The picture of the shift for the console's header."""

    on_duty: list[Colleague] = Field(description="the on-duty responders of your service")
    hubs_offline: int = Field(description="your residents' hubs offline now")
    you_on_duty: bool | None = Field(description="whether you are on duty; null if not a responder")


class Duty(BaseModel):
    """Going on or off duty."""

    on_duty: bool


class Step(BaseModel):
    """One step of a response plan."""

    id: str
    words: str


async def _shift(services: ServicesDep, user: people.User) -> Shift:
    viewer = viewer_of(user)
    async with services.pool.connection() as conn:
        colleagues = await shift_sql.on_duty(conn, viewer)
        offline = await shift_sql.hubs_offline(conn, viewer)
    return Shift(
        on_duty=[
            Colleague(username=c.username, name=c.name, phone=c.phone, since=c.since)
            for c in colleagues
        ],
        hubs_offline=offline,
        you_on_duty=(
            any(c.username == user.username for c in colleagues)
            if viewer.role is Role.RESPONDER
            else None
        ),
    )


@router.get("/shift", dependencies=[require_role(Role.ADMIN, Role.RESPONDER)])
async def shift(services: ServicesDep, user: CurrentUser) -> Shift:
    """Who is on duty in your service and how many of your residents' hubs are offline."""
    return await _shift(services, user)


@router.put("/me/duty", dependencies=[require_role(Role.RESPONDER)])
async def set_duty(services: ServicesDep, user: CurrentUser, duty: Duty) -> Shift:
    """Go on or off duty: only on-duty responders are notified of emergencies."""
    async with services.pool.connection() as conn:
        await shift_sql.set_on_duty(conn, user.id, on_duty=duty.on_duty)
    return await _shift(services, user)


@router.get("/plans")
async def plans(user: CurrentUser) -> dict[str, list[Step]]:
    """The response plan of every alert kind: the steps a call handler works through."""
    return {
        kind.value: [Step(id=s.id, words=s.words) for s in plan_for(kind)] for kind in AlertKind
    }

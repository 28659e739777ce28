"""Each resident's response plans: her own steps for a kind of alert, or the kind's default.

The checklist a call handler ticks on the console comes from here; changing it is
for responders and admins, and every change goes in the record's read log, as the
care record's changes do.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, field_validator

from server.api.deps import CurrentUser, ResidentId, Services, ServicesDep, viewer_of
from server.api.routes.care_record import PhoneOut, phone_out, record_in_reach
from server.domain.access import ResidentScope, may_edit_care_record
from server.domain.alerts import AlertKind
from server.domain.plans import MAX_OWN_STEPS, PLANS, checklist, own_steps, plan_for
from server.domain.record import Part, parts_shown
from server.store import care_record as record_sql
from server.store import people
from server.store import plans as plans_sql

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/residents", tags=["response plans"])

_REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"description": "not one of your residents, or not yours to change (logged)"},
    404: {"description": "no such resident"},
}


class PlanStep(BaseModel):
    """One step of the checklist; a rung that calls a contact carries the number to dial."""

    id: str = Field(description="what ticking it records (POST /api/v1/alerts/{id}/steps)")
    words: str
    phone: PhoneOut | None = Field(
        default=None, description="whom this step calls; withheld from carers"
    )


class ResidentPlan(BaseModel):
    """The resident's plan for one kind of alert, as the console shows it."""

    kind: AlertKind
    own: bool = Field(description="whether she has her own steps (false: the kind's default)")
    own_steps: list[str] = Field(description="her own steps as written; [] for the default")
    default_steps: list[str] = Field(description="the kind's default steps, for comparison")
    steps: list[PlanStep] = Field(description="the checklist: steps, then contacts in call order")


class PlanChange(BaseModel):
    """The resident's own steps for a kind; an empty list puts her back on the default plan."""

    steps: list[str] = Field(max_length=MAX_OWN_STEPS)

    @field_validator("steps")
    @classmethod
    def _steps(cls, value: list[str]) -> list[str]:
        return list(own_steps(value))


def _planned(kind: AlertKind) -> AlertKind:
    if kind not in PLANS:
        planned = ", ".join(k.value for k in PLANS)
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"{kind.value} alerts have no response plan; plans are for {planned}",
        )
    return kind


async def _plans_out(
    services: Services, user: people.User, home: ResidentScope, kinds: list[AlertKind]
) -> list[ResidentPlan]:
    phones = Part.CONTACT_PHONES in parts_shown(viewer_of(user).role, health_shared=False)
    async with services.pool.connection() as conn:
        owns = await plans_sql.own_plans(conn, home.resident_id)
        contacts = await record_sql.contacts(conn, home.resident_id)
    return [
        ResidentPlan(
            kind=kind,
            own=kind in owns,
            own_steps=list(owns.get(kind, ())),
            default_steps=[s.words for s in plan_for(kind)],
            steps=[
                PlanStep(id=s.id, words=s.words, phone=phone_out(s.phone) if phones else None)
                for s in checklist(kind, owns.get(kind, ()), contacts)
            ],
        )
        for kind in kinds
    ]


@router.get("/{resident_id}/plans", responses=_REFUSED)
async def resident_plans(
    services: ServicesDep, user: CurrentUser, resident_id: ResidentId
) -> list[ResidentPlan]:
    """Her response plan for every kind that has one, with her contacts as rungs (logged)."""
    home = await record_in_reach(services, user, resident_id, "response plans")
    return await _plans_out(services, user, home, list(PLANS))


@router.put("/{resident_id}/plans/{kind}", responses={**_REFUSED, 422: {}})
async def change_resident_plan(
    services: ServicesDep,
    user: CurrentUser,
    resident_id: ResidentId,
    kind: AlertKind,
    change: PlanChange,
) -> ResidentPlan:
    """Give her her own steps for ``kind`` (responders and admins); [] restores the default."""
    _planned(kind)
    home = await record_in_reach(
        services,
        user,
        resident_id,
        f"response plan (change: {kind.value}{', back to default' if not change.steps else ''})",
        may_edit_care_record,
        "responders and admins change the response plans",
    )
    async with services.pool.connection() as conn:
        await plans_sql.set_own_plan(conn, resident_id, kind, change.steps, by=user.username)
    (plan,) = await _plans_out(services, user, home, [kind])
    return plan

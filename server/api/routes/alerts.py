"""Alerts: list, acknowledge, resolve, and a live stream of changes."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from server.alerts.service import AlertNotFound, ResolutionRefused, StepNotInPlan
from server.api.deps import (
    CurrentUser,
    IdQuery,
    Services,
    ServicesDep,
    credential_of,
    log_list_reads,
    resident_in_reach,
    still_signed_in,
    viewer_of,
)
from server.domain.access import (
    Role,
    address_shown,
    failure_shown,
    may_act_on_alerts,
    may_see_contact_details,
)
from server.domain.alerts import AlertStatus, ConsoleState, IllegalTransition, Outcome, state_of
from server.store import alerts as alerts_sql
from server.store import escalation as escalation_sql
from server.store import people
from server.store.residents import visible_to

__all__ = ["Alert", "event_data", "router"]

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])

# A comment line now and then keeps proxies from closing an idle stream.
_KEEPALIVE_S = 15.0
# The last event of a stream whose token or session was signed out.
_SIGNED_OUT = "event: signed_out\ndata: {}\n\n"


class StatusFilter(StrEnum):
    """Which alerts to list; ``active`` is open, escalated and acknowledged together."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    ACTIVE = "active"


_STATUSES = {
    StatusFilter.OPEN: (AlertStatus.OPEN,),
    StatusFilter.ACKNOWLEDGED: (AlertStatus.ACKNOWLEDGED,),
    StatusFilter.ESCALATED: (AlertStatus.ESCALATED,),
    StatusFilter.RESOLVED: (AlertStatus.RESOLVED,),
    StatusFilter.ACTIVE: (AlertStatus.OPEN, AlertStatus.ESCALATED, AlertStatus.ACKNOWLEDGED),
}


class Alert(BaseModel):
    """An alert as carers and responders see it."""

    id: uuid.UUID
    resident: str
    resident_id: int
    hub: str | None
    kind: str
    severity: str
    status: str
    raised_at: datetime
    event_at: datetime = Field(description="when the condition began, in the home's event time")
    reason: str
    details: dict[str, Any]
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    outcome: str | None
    state: ConsoleState = Field(description="unanswered, in progress, needs review or closed")
    state_since: datetime = Field(description="when the alert entered its state, for its clock")

    @classmethod
    def of(cls, row: alerts_sql.AlertRow) -> Alert:
        """From the stored row."""
        cleared = row.details.get("cleared_at") if row.details.get("needs_review") else None
        state, since = state_of(
            AlertStatus(row.status),
            raised_at=row.raised_at,
            acknowledged_at=row.acknowledged_at,
            cleared_at=datetime.fromisoformat(cleared) if isinstance(cleared, str) else None,
            resolved_at=row.resolved_at,
        )
        return cls(
            id=row.id,
            resident=row.resident,
            resident_id=row.resident_id,
            hub=row.hub,
            kind=row.kind,
            severity=row.severity,
            status=row.status,
            raised_at=row.raised_at,
            event_at=row.event_at,
            reason=row.reason,
            details=row.details,
            acknowledged_at=row.acknowledged_at,
            acknowledged_by=row.acknowledged_by,
            resolved_at=row.resolved_at,
            resolved_by=row.resolved_by,
            outcome=row.outcome,
            state=state,
            state_since=since,
        )


class AuditEntry(BaseModel):
    """One change to an alert: who did what, when."""

    at: datetime
    actor: str
    action: str
    note: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, event: alerts_sql.AlertEvent) -> AuditEntry:
        """From the stored trail."""
        return cls(
            at=event.at,
            actor=event.actor,
            action=event.action,
            note=event.note,
            details=event.details,
        )


class Resolution(BaseModel):
    """How the alert ended."""

    outcome: Outcome
    note: str | None = Field(default=None, max_length=2_000)


class PlanStep(BaseModel):
    """A step of the alert's response plan, done or undone."""

    step: str = Field(min_length=1, max_length=64, description="the step's id, from /plans")
    done: bool = True


class Note(BaseModel):
    """A note for the alert's audit trail."""

    note: str = Field(min_length=1, max_length=2_000)


_REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"description": "not one of this resident's carers or responders"},
    404: {"description": "no such alert"},
}


async def _in_reach(
    services: Services, user: people.User, alert_id: uuid.UUID, *, act: bool
) -> alerts_sql.AlertRow:
    """The alert if the user may see it (and act on it, with ``act``); 404 or 403 otherwise."""
    async with services.pool.connection() as conn:
        row = await alerts_sql.get_alert(conn, alert_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no alert {alert_id}")
    home = await resident_in_reach(services, user, row.resident_id, f"alert {row.kind}")
    if act and not may_act_on_alerts(viewer_of(user), home):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="residents see their alerts; carers and responders act on them",
        )
    return row


@router.get("")
async def list_alerts(
    services: ServicesDep,
    user: CurrentUser,
    status: StatusFilter = StatusFilter.ACTIVE,
    resident_id: Annotated[int | None, IdQuery] = None,
) -> list[Alert]:
    """The alerts of the residents you may see: most severe first, then the longest waiting
    (resolved ones newest first)."""
    viewer = viewer_of(user)
    async with services.pool.connection() as conn:
        rows = await alerts_sql.list_alerts(
            conn, statuses=_STATUSES[status], visible=visible_to(viewer), resident_id=resident_id
        )
        await log_list_reads(conn, viewer, (r.resident_id for r in rows), "alert list")
    return [Alert.of(r) for r in rows]


class ClosedAlert(BaseModel):
    """A closed alert with its audit trail: who answered, what was done, how it ended."""

    alert: Alert
    trail: list[AuditEntry]


@router.get("/recently-closed")
async def recently_closed(
    services: ServicesDep,
    user: CurrentUser,
    hours: Annotated[int, Query(ge=1, le=72, description="closed within this many hours")] = 12,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[ClosedAlert]:
    """The alerts of your residents closed lately, the latest first, each with its trail."""
    viewer = viewer_of(user)
    since = datetime.now(UTC) - timedelta(hours=hours)
    async with services.pool.connection() as conn:
        rows = await alerts_sql.recently_closed(
            conn, visible=visible_to(viewer), since=since, limit=limit
        )
        trails = await alerts_sql.events_of(conn, [r.id for r in rows])
        await log_list_reads(conn, viewer, (r.resident_id for r in rows), "closed alerts")
    return [
        ClosedAlert(alert=Alert.of(r), trail=[AuditEntry.of(e) for e in trails[r.id]]) for r in rows
    ]


def event_data(row: alerts_sql.AlertRow) -> str:
    """An alert as a live stream's ``alert`` event carries it (the same as ``GET /alerts/{id}``)."""
    return Alert.of(row).model_dump_json()


@router.get("/stream", response_class=StreamingResponse)
async def stream_alerts(
    services: ServicesDep, user: CurrentUser, request: Request
) -> StreamingResponse:
    """Server-sent events: ``alert`` with the alert whenever one is raised or changes.

    ``reload`` means changes may have been missed: fetch the list again.
    """
    feed = services.feed
    # Filtered by the access rules and logged as reads by the feed, for every stream at once.
    subscription = feed.subscribe(viewer_of(user), credential=credential_of(request))

    async def events() -> AsyncIterator[str]:
        try:
            yield "retry: 2000\n\n"
            while not feed.closed and not await request.is_disconnected():
                try:
                    alert = await asyncio.wait_for(subscription.next(), _KEEPALIVE_S)
                except TimeoutError:
                    # Signed out elsewhere (another server process, an expired
                    # session): looked at once per keepalive, not per event.
                    if not await still_signed_in(services, request):
                        yield _SIGNED_OUT
                        return
                    yield ": keepalive\n\n"
                    continue
                if subscription.ended:
                    yield _SIGNED_OUT
                    return
                if feed.closed:
                    return
                if alert is None:
                    yield "event: reload\ndata: {}\n\n"
                else:
                    yield f"event: alert\ndata: {alert}\n\n"
        finally:
            feed.unsubscribe(subscription)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/{alert_id}", responses=_REFUSED)
async def get_alert(services: ServicesDep, user: CurrentUser, alert_id: uuid.UUID) -> Alert:
    """One alert."""
    return Alert.of(await _in_reach(services, user, alert_id, act=False))


@router.post("/{alert_id}/ack", responses={**_REFUSED, 409: {}})
async def acknowledge(services: ServicesDep, user: CurrentUser, alert_id: uuid.UUID) -> Alert:
    """Take the alert on: the clock on the console stops for it.

    A carer's acknowledgement of an emergency is recorded as "dealing with it"
    (in ``details.responding``) and leaves the alert with the responders.
    """
    await _in_reach(services, user, alert_id, act=True)
    with _as_http_errors():
        row = await services.alerts.acknowledge(
            alert_id, by=user.username, by_carer=user.role == Role.CARER
        )
    return Alert.of(row)


@router.post("/{alert_id}/escalate", responses={**_REFUSED, 409: {}})
async def escalate(services: ServicesDep, user: CurrentUser, alert_id: uuid.UUID) -> Alert:
    """Pass the alert to the on-duty responders now."""
    await _in_reach(services, user, alert_id, act=True)
    with _as_http_errors():
        row = await services.alerts.escalate(alert_id, by=user.username)
    return Alert.of(row)


@router.post("/{alert_id}/pass-on", responses={**_REFUSED, 409: {}})
async def pass_on(services: ServicesDep, user: CurrentUser, alert_id: uuid.UUID) -> Alert:
    """Hand an alert I took on to the next person on the resident's ladder, now.

    The next carer (or, after the last, the on-duty responders) is notified at
    once; the alert's trail says "Passed on by X to Y". 409 when it is not mine
    or nobody is after me on the ladder.
    """
    await _in_reach(services, user, alert_id, act=True)
    with _as_http_errors():
        row = await services.alerts.pass_on(alert_id, by=user.username)
    return Alert.of(row)


class NotificationAttempt(BaseModel):
    """One attempt to reach a person: who, by name and role; where, only for admins."""

    at: datetime
    name: str = Field(description="who was notified: their display name")
    role: Role | None = Field(
        description="carer, responder or admin; null once the account is gone"
    )
    user: str | None = Field(description="the account's username: admins only")
    rung: int
    press: int | None = Field(
        description="the press of the pendant a re-alert was for; null for a rung of the ladder"
    )
    channel: str
    address: str | None = Field(
        description="where it was sent (a push subscription's endpoint, never its keys): admins only"
    )
    attempt: int
    ok: bool
    error: str | None = Field(
        description="why it failed: word for word for admins, a plain reason for everyone else"
    )


class AlertHistory(BaseModel):
    """An alert's audit trail and every notification attempt."""

    events: list[AuditEntry]
    notifications: list[NotificationAttempt]


@router.get("/{alert_id}/history", responses=_REFUSED)
async def history(services: ServicesDep, user: CurrentUser, alert_id: uuid.UUID) -> AlertHistory:
    """Every change to the alert and every attempt to notify someone, oldest first.

    Residents, carers and responders see who was told and whether it worked;
    addresses, push subscriptions and the receivers' replies are for admins.
    """
    await _in_reach(services, user, alert_id, act=False)
    viewer = viewer_of(user)
    details = may_see_contact_details(viewer)
    async with services.pool.connection() as conn:
        events = await alerts_sql.events_for(conn, alert_id)
        attempts = await escalation_sql.notifications_for(conn, alert_id)
    return AlertHistory(
        events=[AuditEntry.of(e) for e in events],
        notifications=[
            NotificationAttempt(
                at=n.at,
                name=n.name or "a removed user",
                role=n.role,
                user=n.username if details else None,
                rung=n.rung + 1,
                press=n.press,
                channel=n.channel,
                address=address_shown(viewer, n.channel, n.address),
                attempt=n.attempt,
                ok=n.ok,
                error=failure_shown(viewer, n.error),
            )
            for n in attempts
        ],
    )


@router.post("/{alert_id}/resolve", responses={**_REFUSED, 409: {}, 422: {}})
async def resolve(
    services: ServicesDep, user: CurrentUser, alert_id: uuid.UUID, resolution: Resolution
) -> Alert:
    """Close the alert with its outcome; an emergency needs a note (422 without one)."""
    await _in_reach(services, user, alert_id, act=True)
    with _as_http_errors():
        row = await services.alerts.resolve(
            alert_id, by=user.username, outcome=resolution.outcome, note=resolution.note
        )
    return Alert.of(row)


@router.post("/{alert_id}/notes", responses=_REFUSED)
async def add_note(
    services: ServicesDep, user: CurrentUser, alert_id: uuid.UUID, note: Note
) -> Alert:
    """Add a note to the alert's audit trail."""
    await _in_reach(services, user, alert_id, act=True)
    with _as_http_errors():
        row = await services.alerts.add_note(alert_id, by=user.username, note=note.note)
    return Alert.of(row)


@router.post("/{alert_id}/steps", responses={**_REFUSED, 409: {}, 422: {}})
async def tick_step(
    services: ServicesDep, user: CurrentUser, alert_id: uuid.UUID, step: PlanStep
) -> Alert:
    """Tick a step of the alert's response plan (``details.steps_done``); on the trail."""
    await _in_reach(services, user, alert_id, act=True)
    with _as_http_errors():
        row = await services.alerts.tick_step(
            alert_id, by=user.username, step=step.step, done=step.done
        )
    return Alert.of(row)


@contextlib.contextmanager
def _as_http_errors() -> Any:
    try:
        yield
    except AlertNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    except IllegalTransition as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
    except (ResolutionRefused, StepNotInPlan) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None

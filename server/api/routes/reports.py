"""Service figures and audit exports for the service's managers."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from server.alerts.figures import AlertTiming, ServiceFigures, service_figures
from server.api.deps import (
    CurrentUser,
    ResidentId,
    ServicesDep,
    require_role,
    resident_in_reach,
    viewer_of,
)
from server.domain.access import Role
from server.store import alerts as alerts_sql

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["reports"])

_MANAGERS = require_role(Role.ADMIN, Role.RESPONDER)


def _cell(value: float | None) -> float | str:
    """A missing figure is an empty cell, not the word None."""
    return "" if value is None else value


@router.get("/reports/service", dependencies=[_MANAGERS], response_model=None)
async def service_report(
    services: ServicesDep,
    user: CurrentUser,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    format: Literal["json", "csv"] = "json",
) -> Response | ServiceFigures:
    """Per severity: event → alert → acknowledgement → resolution times, and the share
    acknowledged within 60 s and 180 s; per kind: the false-alarm rate. A responder's
    figures are their own service's; an admin's, every service's. As JSON or CSV."""
    since = datetime.now(UTC) - timedelta(days=days)
    async with services.pool.connection() as conn:
        rows = await alerts_sql.timings_since(conn, since, viewer_of(user))
    figures = service_figures([AlertTiming(*row) for row in rows])
    if format == "json":
        return figures
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "severity",
            "alerts",
            "event_to_alert_p50_s",
            "event_to_alert_p90_s",
            "alert_to_ack_p50_s",
            "alert_to_ack_p90_s",
            "ack_to_resolution_p50_s",
            "ack_to_resolution_p90_s",
            "acknowledged_within_60s",
            "acknowledged_within_180s",
        ]
    )
    for f in figures.by_severity:
        writer.writerow(
            [
                f.severity,
                f.alerts,
                *(
                    _cell(v)
                    for d in (
                        f.event_to_alert,
                        f.alert_to_acknowledgement,
                        f.acknowledgement_to_resolution,
                    )
                    for v in (d.p50_s, d.p90_s)
                ),
                _cell(f.acknowledged_within_60s),
                _cell(f.acknowledged_within_180s),
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="service-{days}-days.csv"'},
    )


@router.get(
    "/residents/{resident_id}/audit",
    dependencies=[_MANAGERS],
    response_model=None,
    responses={403: {}, 404: {}},
)
async def resident_audit(
    services: ServicesDep,
    user: CurrentUser,
    resident_id: ResidentId,
    format: Literal["json", "csv"] = "json",
) -> Response | list[alerts_sql.AlertEvent]:
    """Every change to every alert of one resident, oldest first, as JSON or CSV.

    Notifications say who was told by name and role; where they were sent, and
    why a delivery failed in the receiver's own words, are shown to admins only.
    """
    await resident_in_reach(services, user, resident_id, "alert audit")
    async with services.pool.connection() as conn:
        events = await alerts_sql.audit_for_resident(conn, resident_id, viewer_of(user))
    if format == "json":
        return events
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "alert_id", "kind", "actor", "action", "note"])
    for e in events:
        writer.writerow([e.at.isoformat(), e.alert_id, e.kind, e.actor, e.action, e.note or ""])
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="resident-{resident_id}-audit.csv"'},
    )

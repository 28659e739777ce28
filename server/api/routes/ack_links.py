"""One-tap acknowledge links from notifications: a page to confirm, a POST to acknowledge.

Opening the link only shows the alert (mail scanners and link previews open
links too); the person's tap on the button acknowledges it, once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from fastapi import APIRouter, status
from fastapi.responses import HTMLResponse

from server.alerts.links import LinkRefused, read_link
from server.alerts.service import AlertNotFound
from server.api.deps import ServicesDep
from server.domain.alerts import IllegalTransition, title_of
from server.store import alerts as alerts_sql

__all__ = ["router"]

router = APIRouter(prefix="/ack", tags=["one-tap acknowledge"], include_in_schema=True)


def _page(title: str, body: str, *, code: int = status.HTTP_200_OK) -> HTMLResponse:
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)} · carewatch</title>"
        "<link rel='stylesheet' href='/static/carewatch.css'></head>"
        f"<body><main class='ack-page'><h1>{escape(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=code, headers={"Cache-Control": "no-store"})


@router.get("/{token}", response_class=HTMLResponse)
async def confirm(services: ServicesDep, token: str) -> HTMLResponse:
    """Show the alert and a button to acknowledge it."""
    try:
        link = read_link(services.link_key, token, now=datetime.now(UTC))
    except LinkRefused as exc:
        return _page("Link not valid", f"<p>{escape(str(exc))}</p>", code=status.HTTP_410_GONE)
    async with services.pool.connection() as conn:
        alert = await alerts_sql.get_alert(conn, link.alert_id)
    if alert is None:
        return _page("Alert not found", "<p>This alert no longer exists.</p>", code=404)
    return _page(
        f"{alert.resident}: {title_of(alert.kind)}",
        f"<p>{escape(alert.reason)}</p><p>Status: <strong>{escape(alert.status)}</strong></p>"
        f"<form method='post'><button type='submit' class='primary'>"
        "I am dealing with this: acknowledge</button></form>",
    )


@router.post("/{token}", response_class=HTMLResponse)
async def acknowledge(services: ServicesDep, token: str) -> HTMLResponse:
    """Acknowledge the alert for the person the link was sent to; works once."""
    try:
        alert = await services.alerts.acknowledge_by_link(token)
    except LinkRefused as exc:
        return _page("Link not valid", f"<p>{escape(str(exc))}</p>", code=status.HTTP_410_GONE)
    except AlertNotFound:
        return _page("Alert not found", "<p>This alert no longer exists.</p>", code=404)
    except IllegalTransition:
        return _page(
            "Already taken on",
            "<p>Someone else has already acknowledged or closed this alert.</p>",
            code=status.HTTP_409_CONFLICT,
        )
    if alert.status != "acknowledged":
        # A carer's tap on an emergency: noted, but the alarm centre keeps working it.
        return _page(
            "Thank you",
            f"<p>We have noted that you are dealing with {escape(alert.resident)}'s alarm. "
            "The alarm receiving centre is handling it too until a responder closes it.</p>",
        )
    return _page(
        "Acknowledged",
        f"<p>Thank you, {escape(alert.acknowledged_by or '')}. {escape(alert.resident)}'s "
        "alert is yours; the others on the ladder will not be called.</p>",
    )

"""The voice provider's callbacks: a call's progress, and the key the carer pressed.

The provider is no user. Each callback must carry the provider's signature
(``X-Twilio-Signature``, server/alerts/voice_signature.py) over the URL it
was given and the fields it posts: a missing or wrong one is 403, logged,
and changes nothing. The URL signed is the public one the call was placed
with (``CAREWATCH_PUBLIC_URL``), not the one a reverse proxy forwards to.
Each call's URLs also carry a token made for that call alone (only its hash
is stored), a second check: an unknown token is 404. Pressing 1 acknowledges
the alert as the carer who was called, exactly as their one-tap link would.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status

from server.alerts.service import AlertNotFound
from server.alerts.voice import (
    ACCEPT_KEY,
    accepted_twiml,
    heard_twiml,
    not_accepted_twiml,
    responding_twiml,
    voice_account,
)
from server.alerts.voice_signature import SIGNATURE_HEADER, signature_matches
from server.api.deps import ServicesDep
from server.domain.access import Role
from server.domain.alerts import UNANSWERED, AlertStatus, IllegalTransition
from server.store import alerts as alerts_sql
from server.store import calls as calls_sql

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/voice", tags=["voice calls (the provider's callbacks)"])

_UNKNOWN: dict[int | str, dict[str, Any]] = {
    403: {"description": "not signed by the voice provider"},
    404: {"description": "no call has this token"},
}


def _xml(twiml: str) -> Response:
    return Response(twiml, media_type="application/xml", headers={"Cache-Control": "no-store"})


async def _signed_form(
    services: ServicesDep, request: Request, token: str, leaf: str
) -> dict[str, str]:
    """The callback's form fields, once its signature shows the provider sent them; else 403."""
    form = await request.form()
    fields = form.multi_items()
    settings = services.settings
    # Behind a reverse proxy request.url is the proxy's address for us; the
    # provider signed the public URL the call was placed with (server/alerts/calls.py).
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    url = f"{base}/voice/{token}/{leaf}"
    if request.url.query:
        url += f"?{request.url.query}"
    text = [(name, value) for name, value in fields if isinstance(value, str)]
    signed = (
        settings.voice_url is not None
        and len(text) == len(fields)
        and signature_matches(
            voice_account(settings.voice_url.get_secret_value()).auth_token,
            url,
            text,
            request.headers.get(SIGNATURE_HEADER),
        )
    )
    if not signed:
        client = request.client.host if request.client else "?"
        why = "no signature" if SIGNATURE_HEADER not in request.headers else "a wrong signature"
        log.warning("voice %s callback from %s refused: %s", leaf, client, why)
        raise HTTPException(403, detail="not signed by the voice provider")
    return dict(text)


@router.post("/{token}/status", status_code=status.HTTP_204_NO_CONTENT, responses=_UNKNOWN)
async def call_status(services: ServicesDep, token: str, request: Request) -> Response:
    """The provider's word on the call (form fields ``CallStatus``, ``CallSid``)."""
    form = await _signed_form(services, request, token, "status")
    call_status_ = form.get("CallStatus", "")[:40]
    provider_id = form.get("CallSid", "")[:64] or None
    async with services.pool.connection() as conn:
        call = await calls_sql.call_by_token(conn, token)
        if call is None:
            raise HTTPException(404, detail="no call has this token")
        if call_status_:
            await calls_sql.record_status(conn, call.id, call_status_, provider_id=provider_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{token}/key", responses=_UNKNOWN)
async def key_pressed(services: ServicesDep, token: str, request: Request) -> Response:
    """The key the carer pressed (form field ``Digits``): 1 accepts the alert.

    On an alert nobody has yet, 1 acknowledges it as the carer's. On one
    someone has taken on (a call about another press, or a colleague who got
    there first), 1 says the carer heard it: they were reached, and are not
    called again.
    """
    digits = (await _signed_form(services, request, token, "key")).get("Digits", "")
    async with services.pool.connection() as conn:
        call = await calls_sql.call_by_token(conn, token)
        alert = None if call is None else await alerts_sql.get_alert(conn, call.alert_id)
    if call is None:
        raise HTTPException(404, detail="no call has this token")
    if digits != ACCEPT_KEY or alert is None or alert.status == AlertStatus.RESOLVED:
        return _xml(not_accepted_twiml())
    holder = alert.acknowledged_by
    if alert.status in UNANSWERED:
        try:
            taken = await services.alerts.acknowledge(
                call.alert_id, by=call.username, by_carer=call.role is Role.CARER
            )
        except (AlertNotFound, IllegalTransition):
            # Closed between the look and the acknowledgement.
            return _xml(not_accepted_twiml())
        if taken.status in UNANSWERED:
            # A carer on an emergency: noted as responding; the alarm centre keeps it.
            async with services.pool.connection() as conn, conn.transaction():
                if await calls_sql.accept_call(conn, call.id):
                    await alerts_sql.add_event(
                        conn,
                        call.alert_id,
                        actor=call.username,
                        action="call_accepted",
                        note=f"Said on a voice call (pressed {ACCEPT_KEY}) they are responding.",
                    )
            return _xml(responding_twiml(call.resident))
        holder = taken.acknowledged_by
    taken_by_caller = holder in (None, call.username)
    note = (
        f"Accepted on a voice call by pressing {ACCEPT_KEY}."
        if taken_by_caller
        else f"Heard on a voice call (pressed {ACCEPT_KEY}); {holder} has it."
    )
    async with services.pool.connection() as conn, conn.transaction():
        if await calls_sql.accept_call(conn, call.id):
            await alerts_sql.add_event(
                conn, call.alert_id, actor=call.username, action="call_accepted", note=note
            )
    log.info("alert %s: %s", call.alert_id, note)
    if taken_by_caller:
        return _xml(accepted_twiml(call.resident))
    return _xml(heard_twiml(call.resident, holder=holder or "someone else"))

"""Placing a voice call to a carer and waiting for its outcome.

apprise sends messages; it places no calls. A call is one request to the
provider's Calls API (Twilio's, or a compatible provider's at another base
URL): the words as TwiML, where to send the key pressed, and where to report
the call's progress. Those callbacks (``server/api/routes/voice.py``) carry
a token made for this call alone and write what happened to the call's row;
the caller waits on that row, so the callback may reach any server process.

The attempt counts as delivered only when the carer pressed 1, which also
acknowledged the alert as theirs; every other ending is a failed attempt with
its reason, and the ladder's retry calls once more before moving on.

While it waits, the caller also sees the alert: when someone else takes it
or it is closed, a call still going is hung up (the provider's call resource
posted ``Status``) and the carer is not tried again. The acknowledgement
never waits for this: whoever acknowledged is done; the hang-up is this
attempt's work, bounded by its own request timeout, and a hang-up the
provider refuses is logged and put on the trail.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from typing import Protocol

import httpx

from server.alerts.notify import Delivery
from server.alerts.voice import (
    VoiceAccount,
    call_outcome,
    call_twiml,
    hang_up_reason,
    hang_up_status,
    outcome_error,
)
from server.domain.alerts import AlertStatus
from server.domain.contacts import Channel
from server.store import alerts as alerts_sql
from server.store import calls as calls_sql
from server.store.pool import Pool

__all__ = ["Caller", "VoiceCaller"]

log = logging.getLogger(__name__)


class Caller(Protocol):
    """Calls a person about an alert and says how the call ended."""

    async def call(
        self,
        channel: Channel,
        *,
        alert_id: uuid.UUID,
        user_id: int,
        words: str,
        alert_status: AlertStatus,
    ) -> Delivery:
        """One call; never raises for a call that did not reach the person.

        ``alert_status``: the alert's status when the call was decided on; a
        call still going when that changes to taken or closed is hung up.
        """
        ...


class VoiceCaller:
    """Voice calls through a Twilio-style Calls API.

    ``ring_s`` is how long the phone rings (the provider's ``Timeout``);
    ``listen_s`` how long after that the call may take to be heard and
    answered with a key. ``longest_s`` bounds one attempt.
    """

    def __init__(
        self,
        pool: Pool,
        account: VoiceAccount,
        *,
        public_url: str,
        ring_s: int = 30,
        listen_s: float = 60.0,
        poll_s: float = 0.25,
        request_timeout_s: float = 5.0,
    ) -> None:
        self._pool = pool
        self._account = account
        self._public_url = public_url.rstrip("/")
        self._ring_s = ring_s
        self._listen_s = listen_s
        self._poll_s = poll_s
        self._request_timeout_s = request_timeout_s

    @property
    def longest_s(self) -> float:
        """The longest one call attempt takes: request, outcome, and a hang-up at the end."""
        return self._request_timeout_s + self._ring_s + self._listen_s + self._request_timeout_s

    async def call(
        self,
        channel: Channel,
        *,
        alert_id: uuid.UUID,
        user_id: int,
        words: str,
        alert_status: AlertStatus,
    ) -> Delivery:
        """Request the call, then wait for the carer's key, the call's end, or the alert taken."""
        token = secrets.token_urlsafe(24)
        async with self._pool.connection() as conn:
            call_id = await calls_sql.add_call(
                conn, token, alert_id, user_id=user_id, number=channel.address
            )
        callback = f"{self._public_url}/voice/{token}"
        form: dict[str, str | list[str]] = {
            "To": channel.address,
            "From": self._account.caller_id,
            "Twiml": call_twiml(words, key_url=f"{callback}/key"),
            "StatusCallback": f"{callback}/status",
            "StatusCallbackMethod": "POST",
            "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
            "Timeout": str(self._ring_s),
        }
        refused, sid = await self._place(form)
        async with self._pool.connection() as conn:
            if refused is not None:
                await calls_sql.record_status(conn, call_id, "failed")
                return Delivery(False, refused)
            if sid is not None:
                # What a hang-up is addressed to, should it come before any callback.
                await calls_sql.record_provider_id(conn, call_id, sid)
        return await self._outcome(call_id, alert_status)

    async def _place(self, form: dict[str, str | list[str]]) -> tuple[str | None, str | None]:
        """Ask the provider to place the call: why it did not (or None), and the call's id."""
        try:
            response = await self._post(self._account.calls_url, form)
        except httpx.HTTPError as exc:
            why = f"the voice provider did not take the call: {type(exc).__name__}: {exc}"
            return why[:500], None
        refused = _refusal("the voice provider refused the call", response)
        if refused is not None:
            return refused, None
        sid = _json_field(response, "sid")
        return None, None if sid is None else sid[:64]

    async def _post(self, url: str, form: dict[str, str | list[str]]) -> httpx.Response:
        """One request to the provider's API, bounded by the request timeout."""
        auth = (self._account.account_sid, self._account.auth_token)
        async with httpx.AsyncClient(
            timeout=self._request_timeout_s, follow_redirects=False
        ) as client:
            return await client.post(url, data=form, auth=auth)

    async def _outcome(self, call_id: int, placed: AlertStatus) -> Delivery:
        """Wait on the call's row until the carer accepted, the call ended, or the alert was taken."""
        started = time.monotonic()
        waited = self._ring_s + self._listen_s
        while True:
            async with self._pool.connection() as conn:
                row = await calls_sql.call_state(conn, call_id)
            if row is None:
                return Delivery(False, "the call was removed while it was going on")
            outcome = call_outcome(row.status, accepted=row.accepted_at is not None)
            if outcome is None:
                reason = hang_up_reason(
                    placed, row.alert_status, holder=row.acknowledged_by, closer=row.resolved_by
                )
                if reason is not None:
                    await self._hang_up(row, reason)
                    return Delivery(False, f"hung up: {reason}", settled=True)
            if outcome is not None or time.monotonic() - started >= waited:
                error = outcome_error(outcome, waited_s=waited)
                if error is not None:
                    log.info("call %d about alert %s: %s", call_id, row.alert_id, error)
                return Delivery(error is None, error)
            await asyncio.sleep(self._poll_s)

    async def _hang_up(self, row: calls_sql.CallRow, reason: str) -> None:
        """End the call at the provider and say so on the trail; never raises."""
        try:
            # One bound for the hang-up, a second request included.
            why = await asyncio.wait_for(self._end_call(row), self._request_timeout_s)
        except TimeoutError:
            why = f"the voice provider did not answer within {self._request_timeout_s:g} s"
        except Exception as exc:
            # Whatever went wrong, the alert is taken: the carer is still not called again.
            log.exception("call %d: hanging up failed", row.id)
            why = f"{type(exc).__name__}: {exc}"
        if why is None:
            note = f"Hung up the call to {row.username} while it was still going: {reason}."
            log.info("call %d about alert %s hung up: %s", row.id, row.alert_id, reason)
        else:
            note = f"Could not hang up the call to {row.username} ({reason}): {why}"[:500]
            log.warning("call %d about alert %s: %s", row.id, row.alert_id, note)
        try:
            async with self._pool.connection() as conn:
                await alerts_sql.add_event(
                    conn,
                    row.alert_id,
                    actor="system",
                    action="call_hung_up",
                    note=note,
                    details={"call": row.id, "ended": why is None},
                )
        except Exception:
            # The trail line is worth having, not worth failing the attempt's record for.
            log.exception("call %d: the hang-up could not be put on the trail", row.id)

    async def _end_call(self, row: calls_sql.CallRow) -> str | None:
        """Post ``Status`` to the call's resource; why it was not ended, or None."""
        if row.provider_id is None:
            return "the provider never said the call's id"
        url = self._account.call_url(row.provider_id)
        status = hang_up_status(row.status)
        try:
            response = await self._post(url, {"Status": status})
            if status == "canceled" and _json_field(response, "status") == "in-progress":
                # Answered since its last callback: cancelling leaves an answered call alone.
                response = await self._post(url, {"Status": "completed"})
        except httpx.HTTPError as exc:
            return f"the voice provider did not answer: {type(exc).__name__}: {exc}"
        return _refusal("the voice provider refused the hang-up", response)


def _refusal(what: str, response: httpx.Response) -> str | None:
    """Why the provider refused a request, in its own words, or None."""
    if response.status_code < 300:
        return None
    # The provider's own message says what to fix (a wrong token, an unverified number).
    detail = response.text[:300].strip()
    return f"{what}: HTTP {response.status_code} {detail}"


def _json_field(response: httpx.Response, name: str) -> str | None:
    """A text field of the provider's JSON answer (a call's ``sid``, its ``status``), if given."""
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) and value else None

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
from server.alerts.voice import VoiceAccount, call_outcome, call_twiml, outcome_error
from server.domain.contacts import Channel
from server.store import calls as calls_sql
from server.store.pool import Pool

__all__ = ["Caller", "VoiceCaller"]

log = logging.getLogger(__name__)


class Caller(Protocol):
    """Calls a person about an alert and says how the call ended."""

    async def call(
        self, channel: Channel, *, alert_id: uuid.UUID, user_id: int, words: str
    ) -> Delivery:
        """One call; never raises for a call that did not reach the person."""
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
        """The longest one call attempt takes, request and outcome included."""
        return self._request_timeout_s + self._ring_s + self._listen_s

    async def call(
        self, channel: Channel, *, alert_id: uuid.UUID, user_id: int, words: str
    ) -> Delivery:
        """Request the call, then wait for the carer's key or the call's end."""
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
        refused = await self._request(form)
        if refused is not None:
            async with self._pool.connection() as conn:
                await calls_sql.record_status(conn, call_id, "failed")
            return Delivery(False, refused)
        return await self._outcome(call_id)

    async def _request(self, form: dict[str, str | list[str]]) -> str | None:
        """Ask the provider to place the call; why it did not, or None."""
        auth = (self._account.account_sid, self._account.auth_token)
        try:
            async with httpx.AsyncClient(
                timeout=self._request_timeout_s, follow_redirects=False
            ) as client:
                response = await client.post(self._account.calls_url, data=form, auth=auth)
        except httpx.HTTPError as exc:
            return f"the voice provider did not take the call: {type(exc).__name__}: {exc}"[:500]
        if response.status_code >= 300:
            # The provider's own message says what to fix (a wrong token, an unverified number).
            detail = response.text[:300].strip()
            return f"the voice provider refused the call: HTTP {response.status_code} {detail}"
        return None

    async def _outcome(self, call_id: int) -> Delivery:
        """Wait on the call's row until the carer accepted or the call ended."""
        started = time.monotonic()
        waited = self._ring_s + self._listen_s
        while True:
            async with self._pool.connection() as conn:
                row = await calls_sql.call_state(conn, call_id)
            if row is None:
                return Delivery(False, "the call was removed while it was going on")
            outcome = call_outcome(row.status, accepted=row.accepted_at is not None)
            if outcome is not None or time.monotonic() - started >= waited:
                error = outcome_error(outcome, waited_s=waited)
                if error is not None:
                    log.info("call %d about alert %s: %s", call_id, row.alert_id, error)
                return Delivery(error is None, error)
            await asyncio.sleep(self._poll_s)

"""A fake SMS gateway and voice provider: a real HTTP server playing the provider's part.

SMS arrive as apprise's form posts (``form://…/sms?:to={to}``, a generic HTTP SMS
gateway). Calls arrive as Twilio's Calls API requests (form fields ``To``,
``From``, ``Twiml``, ``StatusCallback``, ``Timeout``, HTTP Basic with the
account id and token), answered 201 with the call's ``sid``; the provider then
plays the call as its number's script says, calling the server's callbacks as
Twilio would: status ``ringing``, ``in-progress``, the key pressed to the
``<Gather action>`` URL, and the final status, each signed
(``X-Twilio-Signature``) with the account's token. A post of ``Status`` to the
call's resource (``…/Calls/{sid}.json``) ends it as Twilio's does:
``canceled`` ends a call that is queued or ringing and leaves an answered one
alone; ``completed`` ends either.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs
from xml.etree import ElementTree

import httpx

from server.alerts.voice_signature import SIGNATURE_HEADER, request_signature

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "fake-auth-token"
CALLER_ID = "+441632960999"

# What the phone at a number does when called: the carer presses 1, lets it ring
# out, answers and hangs up without a key (voicemail), or the line is busy;
# "ring": it rings for the whole Timeout unless hung up; "listen": answered,
# and the carer listens for the Timeout without pressing a key unless hung up.
Script = Literal["accept", "no-answer", "hang-up", "busy", "ring", "listen"]

_CALL_RESOURCE = re.compile(rf"^/2010-04-01/Accounts/{ACCOUNT}/Calls/(CA[0-9a-f]{{32}})\.json$")


@dataclass
class Call:
    """One call request the provider took, and what the server said after the key."""

    to: str
    caller_id: str
    twiml: str
    status_url: str
    key_url: str
    # How long the phone rings (the request's Timeout).
    ring_s: float = 30.0
    sid: str = field(default_factory=lambda: f"CA{uuid.uuid4().hex}")
    # As the provider sees it: queued, ringing, in-progress, then how it ended.
    state: str = "queued"
    after_key: str | None = None
    statuses_answered: list[int] = field(default_factory=list)
    # Each Status posted to the call's resource, and when (time.monotonic()).
    hang_ups: list[tuple[str, float]] = field(default_factory=list)
    ended: threading.Event = field(default_factory=threading.Event)

    @property
    def spoken(self) -> str:
        """Everything the call says before the key."""
        root = ElementTree.fromstring(self.twiml)
        return " ".join(say.text or "" for say in root.iter("Say"))


@dataclass
class Gateway:
    """What the fake provider received, and how it behaves."""

    base_url: str
    texts: list[dict[str, str]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    # The script for each number's successive calls; the last one repeats.
    scripts: dict[str, list[Script]] = field(default_factory=dict)
    # While down, every request is answered 503.
    down: bool = False
    refused: int = 0
    # The token callbacks are signed with: another one forges them.
    signing_token: str = AUTH_TOKEN
    # The provider is shutting down: calls still going report nothing more.
    closed: bool = False
    # A reverse proxy in front of the server: (public base, where it forwards to).
    # Callbacks are signed over the public URL and sent to the forwarded one.
    proxy: tuple[str, str] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def sms_url(self) -> str:
        """CAREWATCH_SMS_URL for this gateway."""
        return f"form://{self.base_url.split('://', 1)[1]}/sms?:to={{to}}"

    @property
    def voice_url(self) -> str:
        """CAREWATCH_VOICE_URL for this provider."""
        host = self.base_url.split("://", 1)[1]
        return f"http://{ACCOUNT}:{AUTH_TOKEN}@{host}?from=%2B{CALLER_ID[1:]}"

    def calls_to(self, number: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.to == number]

    def texts_to(self, number: str) -> list[dict[str, str]]:
        with self.lock:
            return [t for t in self.texts if t.get("to") == number]

    def forwarded(self, url: str) -> str:
        """Where the proxy (if any) sends a request for ``url``."""
        if self.proxy is not None and url.startswith(self.proxy[0]):
            return self.proxy[1].rstrip("/") + url[len(self.proxy[0]) :]
        return url

    def call_with_sid(self, sid: str) -> Call | None:
        with self.lock:
            return next((c for c in self.calls if c.sid == sid), None)

    def _script_for(self, number: str, nth: int) -> Script:
        scripts = self.scripts.get(number, ["no-answer"])
        return scripts[min(nth, len(scripts) - 1)]


def signed_post(
    client: httpx.Client,
    url: str,
    data: dict[str, str],
    *,
    token: str = AUTH_TOKEN,
    via: str | None = None,
) -> httpx.Response:
    """A callback as the provider sends it: the form, signed with the account's token.

    ``via``: where a reverse proxy forwards the request for ``url``.
    """
    signature = request_signature(token, url, data.items())
    return client.post(via or url, data=data, headers={SIGNATURE_HEADER: signature})


def _hang_up(call: Call, status: str) -> str:
    """The call's state after ``Status`` is posted to its resource, as Twilio does it."""
    if call.ended.is_set():
        return call.state
    if call.state in ("queued", "ringing"):
        call.state = "canceled"
    elif status == "completed":
        call.state = "completed"
    else:
        # canceled: an answered call is left alone.
        return call.state
    call.ended.set()
    return call.state


def _play(gateway: Gateway, call: Call, script: Script) -> None:
    """The call, as the provider would report it to the server."""
    with httpx.Client(timeout=30) as client:

        def status(word: str) -> None:
            going = word in ("ringing", "in-progress")
            with gateway.lock:
                if going and call.ended.is_set():
                    return  # hung up meanwhile: the phone neither rings nor answers
                call.state = word
                if not going:
                    call.ended.set()
            if gateway.closed:
                return
            data = {"CallSid": call.sid, "CallStatus": word, "AccountSid": ACCOUNT}
            try:
                answer = signed_post(
                    client,
                    call.status_url,
                    data,
                    token=gateway.signing_token,
                    via=gateway.forwarded(call.status_url),
                )
            except httpx.HTTPError:
                # As Twilio, a callback the server does not take is dropped (the test's
                # server may have stopped while a phone still rang).
                call.statuses_answered.append(0)
                return
            call.statuses_answered.append(answer.status_code)

        def hung_up_within(seconds: float) -> bool:
            """Wait as the phone rings or the carer listens; True if the server hung up."""
            if not call.ended.wait(seconds):
                return False
            status(call.state)
            return True

        time.sleep(0.05)
        status("ringing")
        if script == "busy":
            status("busy")
            return
        if script == "no-answer" or script == "ring":
            if script == "ring" and hung_up_within(call.ring_s):
                return
            status("no-answer")
            return
        status("in-progress")
        if script == "listen" and hung_up_within(call.ring_s):
            return
        if script == "accept" and not gateway.closed:
            data = {"CallSid": call.sid, "Digits": "1", "AccountSid": ACCOUNT}
            try:
                reply = signed_post(
                    client,
                    call.key_url,
                    data,
                    token=gateway.signing_token,
                    via=gateway.forwarded(call.key_url),
                )
            except httpx.HTTPError:
                return
            call.after_key = reply.text
        status("completed")


@contextmanager
def fake_gateway() -> Iterator[Gateway]:
    """The fake provider on localhost, until the block ends."""
    holder: list[Gateway] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            gateway = holder[0]
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if gateway.down:
                with gateway.lock:
                    gateway.refused += 1
                self._answer(503, {"message": "Service Unavailable"})
                return
            if self.path == "/sms":
                with gateway.lock:
                    gateway.texts.append(form)
                self._answer(200, {"status": "queued"})
                return
            resource = _CALL_RESOURCE.match(self.path)
            if self.path.startswith(f"/2010-04-01/Accounts/{ACCOUNT}/Calls"):
                expected = base64.b64encode(f"{ACCOUNT}:{AUTH_TOKEN}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    self._answer(401, {"message": "Authenticate", "code": 20003})
                    return
            if self.path == f"/2010-04-01/Accounts/{ACCOUNT}/Calls.json":
                gather = ElementTree.fromstring(form["Twiml"]).find("Gather")
                assert gather is not None
                call = Call(
                    to=form["To"],
                    caller_id=form["From"],
                    twiml=form["Twiml"],
                    status_url=form["StatusCallback"],
                    key_url=gather.attrib["action"],
                    ring_s=float(form.get("Timeout", "60")),
                )
                with gateway.lock:
                    nth = len([c for c in gateway.calls if c.to == call.to])
                    gateway.calls.append(call)
                script = gateway._script_for(call.to, nth)
                threading.Thread(target=_play, args=(gateway, call, script), daemon=True).start()
                self._answer(201, {"sid": call.sid, "status": "queued"})
                return
            if resource is not None:
                found = gateway.call_with_sid(resource[1])
                if found is None:
                    self._answer(
                        404, {"message": "The requested resource was not found", "code": 20404}
                    )
                    return
                if form.get("Status") not in ("canceled", "completed"):
                    self._answer(
                        400, {"message": "Status must be canceled or completed", "code": 21218}
                    )
                    return
                with gateway.lock:
                    found.hang_ups.append((form["Status"], time.monotonic()))
                    state = _hang_up(found, form["Status"])
                self._answer(200, {"sid": found.sid, "status": state})
                return
            self._answer(404, {"message": f"no such resource {self.path}"})

        def _answer(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder.append(Gateway(f"http://127.0.0.1:{server.server_address[1]}"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        holder[0].closed = True
        with holder[0].lock:
            for call in holder[0].calls:
                call.ended.set()
        server.shutdown()
        server.server_close()

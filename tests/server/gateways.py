"""A fake SMS gateway and voice provider: a real HTTP server playing the provider's part.

SMS arrive as apprise's form posts (``form://…/sms?:to={to}``, a generic HTTP SMS
gateway). Calls arrive as Twilio's Calls API requests (form fields ``To``,
``From``, ``Twiml``, ``StatusCallback``, HTTP Basic with the account id and
token); the provider then plays the call as its number's script says, calling
the server's callbacks as Twilio would: status ``ringing``, ``in-progress``,
the key pressed to the ``<Gather action>`` URL, and the final status.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs
from xml.etree import ElementTree

import httpx

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "fake-auth-token"
CALLER_ID = "+441632960999"

# What the phone at a number does when called: the carer presses 1, lets it ring
# out, answers and hangs up without a key (voicemail), or the line is busy.
Script = Literal["accept", "no-answer", "hang-up", "busy"]


@dataclass
class Call:
    """One call request the provider took, and what the server said after the key."""

    to: str
    caller_id: str
    twiml: str
    status_url: str
    key_url: str
    after_key: str | None = None
    statuses_answered: list[int] = field(default_factory=list)

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

    def _script_for(self, number: str, nth: int) -> Script:
        scripts = self.scripts.get(number, ["no-answer"])
        return scripts[min(nth, len(scripts) - 1)]


def _play(gateway: Gateway, call: Call, script: Script) -> None:
    """The call, as the provider would report it to the server."""
    with httpx.Client(timeout=30) as client:

        def status(word: str) -> None:
            answer = client.post(call.status_url, data={"CallSid": "CA1", "CallStatus": word})
            call.statuses_answered.append(answer.status_code)

        time.sleep(0.05)
        status("ringing")
        if script == "busy":
            status("busy")
            return
        if script == "no-answer":
            status("no-answer")
            return
        status("in-progress")
        if script == "accept":
            reply = client.post(call.key_url, data={"CallSid": "CA1", "Digits": "1"})
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
            if self.path == f"/2010-04-01/Accounts/{ACCOUNT}/Calls.json":
                expected = base64.b64encode(f"{ACCOUNT}:{AUTH_TOKEN}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    self._answer(401, {"message": "Authenticate", "code": 20003})
                    return
                gather = ElementTree.fromstring(form["Twiml"]).find("Gather")
                assert gather is not None
                call = Call(
                    to=form["To"],
                    caller_id=form["From"],
                    twiml=form["Twiml"],
                    status_url=form["StatusCallback"],
                    key_url=gather.attrib["action"],
                )
                with gateway.lock:
                    nth = len([c for c in gateway.calls if c.to == call.to])
                    gateway.calls.append(call)
                script = gateway._script_for(call.to, nth)
                threading.Thread(target=_play, args=(gateway, call, script), daemon=True).start()
                self._answer(201, {"sid": f"CA{nth}", "status": "queued"})
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
        server.shutdown()
        server.server_close()

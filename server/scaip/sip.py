"""The little of SIP that SCAIP needs, on aiosipua's messages: answer a MESSAGE, send one.

Pure: messages in, messages out, time passed in. aiosipua parses and writes
the wire format and owns the sockets (server/scaip/endpoint.py); what it does
not do for a MESSAGE (its user-agent server answers only calls) is here: the
final response to a unit's MESSAGE, kept to answer the unit's retransmissions
of it (RFC 3261 §17.2.2), and the MESSAGE that carries the SCAIP answer back
with its retransmission schedule over UDP (§17.1.2.2).

>>> from aiosipua import SipMessage
>>> raw = (b"MESSAGE sip:arc@127.0.0.1 SIP/2.0\\r\\n"
...     b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1\\r\\n"
...     b"From: <sip:4711@127.0.0.1:5061>;tag=u1\\r\\nTo: <sip:arc@127.0.0.1>\\r\\n"
...     b"Call-ID: c1\\r\\nCSeq: 7 MESSAGE\\r\\nContent-Length: 0\\r\\n\\r\\n")
>>> request = SipMessage.parse(raw)
>>> response = answer(request, 200, "OK", tag="s1")
>>> print(bytes(response).decode().splitlines()[0])
SIP/2.0 200 OK
>>> response.headers.get_first("to"), response.headers.get_first("cseq")
('<sip:arc@127.0.0.1>;tag=s1', '7 MESSAGE')
>>> [round(d, 1) for d in retransmit_delays()][:6]
[0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from aiosipua import SipRequest, SipResponse, generate_branch, generate_call_id, generate_tag

__all__ = [
    "ANSWERED_KEPT_S",
    "Answered",
    "TransactionKey",
    "answer",
    "message_to",
    "retransmit_delays",
    "transaction_key",
]

# RFC 3261's timers: T1 (a round trip), T2 (the longest gap), 64·T1 (how long a
# transaction lives: Timer J on the server side, Timer F on the client side).
T1: Final = 0.5
T2: Final = 4.0
ANSWERED_KEPT_S: Final = 64 * T1

# (Via branch, sent-by, method): a retransmission carries the same (§17.2.3).
TransactionKey = tuple[str, str, str]


def transaction_key(request: SipRequest) -> TransactionKey | None:
    """The server transaction a request belongs to, or None without a Via branch."""
    vias = request.via
    if not vias or not vias[0].branch:
        return None
    top = vias[0]
    return (top.branch or "", f"{top.host}:{top.port}", request.method.upper())


def answer(
    request: SipRequest,
    status: int,
    reason: str,
    *,
    tag: str | None = None,
    headers: dict[str, str] | None = None,
    user_agent: str = "carewatch",
) -> SipResponse:
    """The response to ``request`` (§8.2.6): its Vias, From, To with our tag, Call-ID, CSeq."""
    response = SipResponse(status_code=status, reason_phrase=reason)
    for via in request.headers.get("via"):
        response.headers.append("Via", via)
    for name in ("from", "call-id", "cseq"):
        value = request.headers.get_first(name)
        if value is not None:
            response.headers.set_single(name, value)
    to = request.headers.get_first("to") or ""
    if ";tag=" not in to and status > 100:
        to = f"{to};tag={tag or generate_tag()}"
    response.headers.set_single("To", to)
    response.headers.set_single("Server", user_agent)
    for name, value in (headers or {}).items():
        response.headers.set_single(name, value)
    response.headers.set_single("Content-Length", "0")
    return response


def message_to(
    request: SipRequest,
    body: bytes,
    *,
    transport: str,
    local: tuple[str, int],
    content_type: str = "application/scaip+xml",
    user_agent: str = "carewatch",
) -> SipRequest:
    """A new MESSAGE back to the sender of ``request`` (outside any dialog), carrying ``body``.

    Addressed to the request's From (the unit), from the request's To (us), with
    the request's Call-ID.
    """
    sender = request.from_addr
    target = request.headers.get_first("from") or ""
    uri = f"sip:{local[0]}"
    if sender is not None:
        user = f"{sender.uri.user}@" if sender.uri.user else ""
        port = f":{sender.uri.port}" if sender.uri.port else ""
        uri = f"{sender.uri.scheme}:{user}{sender.uri.host}{port}"
        target = f"<{uri}>"
    ours = request.headers.get_first("to") or f"<sip:{local[0]}>"
    ours = ours.split(";tag=")[0]
    message = SipRequest(method="MESSAGE", uri=uri)
    message.headers.append(
        "Via", f"SIP/2.0/{transport.upper()} {local[0]}:{local[1]};branch={generate_branch()};rport"
    )
    message.headers.set_single("Max-Forwards", "70")
    message.headers.set_single("From", f"{ours};tag={generate_tag()}")
    message.headers.set_single("To", target)
    # The request's Call-ID: the answer is tied to the alarm it answers (a unit, and a
    # trace, match them by it as well as by <ref>; RFC 3428 asks no new one).
    message.headers.set_single("Call-ID", request.call_id or generate_call_id(local[0]))
    message.headers.set_single("CSeq", "1 MESSAGE")
    message.headers.set_single("User-Agent", user_agent)
    message.headers.set_single("Content-Type", content_type)
    message.body = body
    message.headers.set_single("Content-Length", str(len(body)))
    return message


def retransmit_delays() -> Iterator[float]:
    """Gaps between sendings of a non-INVITE request over UDP until Timer F (§17.1.2.2)."""
    delay, total = T1, 0.0
    while total + delay < ANSWERED_KEPT_S:
        yield delay
        total += delay
        delay = min(2 * delay, T2)


@dataclass(slots=True)
class Answered:
    """Server transactions answered, kept for ``ANSWERED_KEPT_S`` to answer retransmissions."""

    kept_s: float = ANSWERED_KEPT_S
    _final: dict[TransactionKey, tuple[float, SipResponse | None]] = field(default_factory=dict)

    def seen(self, key: TransactionKey, now: float) -> tuple[bool, SipResponse | None]:
        """(known, its final response if sent); an unknown key is now in progress."""
        self._expire(now)
        entry = self._final.get(key)
        if entry is None:
            self._final[key] = (now, None)
            return False, None
        return True, entry[1]

    def done(self, key: TransactionKey, response: SipResponse, now: float) -> None:
        """The transaction's final response was sent."""
        self._final[key] = (now, response)

    def forget(self, key: TransactionKey) -> None:
        """Not answered after all (it failed before its answer): a retransmission is new."""
        self._final.pop(key, None)

    def __len__(self) -> int:
        return len(self._final)

    def _expire(self, now: float) -> None:
        # Insertion order is time order: drop from the front while old.
        while self._final:
            key, (at, _) = next(iter(self._final.items()))
            if now - at < self.kept_s:
                break
            del self._final[key]

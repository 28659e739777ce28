"""SIA DC-09 frames: an alert's event or a link test out, the receiver's answer back.

Pure: bytes in, bytes out, the time passed in. Framing, CRC-16, padding, AES
and the timestamp are the ``siadc09`` library's (DC-09-2026 primitives); here
only what carewatch says in them and how an answer is read.

>>> from datetime import UTC, datetime
>>> from server.domain.alerts import AlertKind
>>> from server.domain.arc import EVENT_CODES, ArcAccount, ReceiverPath
>>> north = ArcAccount(service="north", account="0A12", primary=ReceiverPath("arc", 5000))
>>> t = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
>>> frame = event_frame(north, seq=7, code=EVENT_CODES[AlertKind.PENDANT], resident_id=42, now=t)
>>> frame
b'\\n4D51003D"SIA-DCS"0007L0#0A12[#0A12|Nid42/ri1/QA1]_06:00:00,12-02-2026\\r'
>>> ack = b'\\nA7C40012"ACK"0007L0#0A12[]\\r'
>>> read_reply(ack, sent=frame, key=None)
Reply(outcome=<Outcome.ACK: 'ack'>, seq=7, detail='ACK')
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from siadc09 import message as dc09_message
from siadc09.account import Account as Dc09Account
from siadc09.util import crc
from siadc09.xdata import Data

from server.domain.arc import ArcAccount, EventCode, EventFormat, Outcome

__all__ = ["Reply", "event_frame", "null_frame", "read_reply"]

# siadc09 logs every parse at DEBUG on its own logger, set to DEBUG: keep it quiet.
logging.getLogger("siadc09").setLevel(logging.WARNING)
logging.getLogger("siadc09.message").setLevel(logging.WARNING)
logging.getLogger("siadc09.siadcs").setLevel(logging.WARNING)


class _Frame(dc09_message.Message):  # type: ignore[misc]
    """siadc09's message, with the account written as the ARC issued it.

    siadc09 keeps the account as a number, so "0A12" would go out as "A12";
    receivers (pysiaalarm among them) match the account's digits as text.
    """

    def __init__(self, account: ArcAccount, kind: str, seq: int, data: bytes | None) -> None:
        super().__init__(
            _dc09_account(account),
            config={
                "idtoken": kind,
                "seqno": seq,
                "data": None if data is None else Data(data),
            },
        )
        self._account_text = account.account.upper()

    def pack_header(self, encrypted: bool = False) -> bytes:
        """siadc09's header with the account's own digits after ``#``."""
        header: bytes = super().pack_header(encrypted)
        cut = header.rindex(b"#")
        return header[:cut] + b"#" + self._account_text.encode("ascii")


def _dc09_account(account: ArcAccount) -> Dc09Account:
    """siadc09's account context: numbers, and the key."""
    return Dc09Account(
        acct=int(account.account, 16),
        pref=int(account.prefix, 16) if account.prefix != "0" else None,
        rcvr=int(account.receiver, 16) if account.receiver else None,
        key=account.key,
    )


def _data(account: ArcAccount, code: EventCode, resident_id: int) -> bytes:
    """The event's data block, without brackets, in the account's format."""
    acct = account.account.upper()
    if account.event_format is EventFormat.ADM_CID:
        # Q=1 a new event, group 00, the zone: Contact ID has no room for the resident.
        return f"#{acct}|1{code.cid} 00 {code.zone:03d}".encode("ascii")
    # The SIA "id" (user) field carries the resident, "ri" and the code's address the zone.
    return f"#{acct}|Nid{resident_id}/ri{code.zone}/{code.sia}{code.zone}".encode("ascii")


def event_frame(
    account: ArcAccount, *, seq: int, code: EventCode, resident_id: int, now: datetime
) -> bytes:
    """One event, encrypted if the account has a key, stamped with ``now`` (the sending time)."""
    frame = _Frame(account, account.event_format.value, seq, _data(account, code, resident_id))
    encoded: bytes = frame.encode(timestamp=now.replace(microsecond=0))
    return encoded


def null_frame(account: ArcAccount, *, seq: int, now: datetime) -> bytes:
    """The link test a receiver expects on its supervision interval."""
    frame = _Frame(account, "NULL", seq, None)
    encoded: bytes = frame.encode(timestamp=now.replace(microsecond=0))
    return encoded


@dataclass(slots=True, frozen=True)
class Reply:
    """What the receiver answered, in carewatch's words for the trail."""

    outcome: Outcome
    seq: int | None
    detail: str


def _token(frame: bytes) -> str | None:
    """The ID token of a well-formed frame (CRC and length right), else None."""
    if len(frame) < 12 or frame[:1] != b"\n" or frame[-1:] != b"\r":
        return None
    body = frame[9:-1]
    try:
        if int(frame[1:5], 16) != crc(body) or int(frame[5:9], 16) != len(body):
            return None
    except ValueError:
        return None
    end = body.find(b'"', 1)
    if body[:1] != b'"' or end < 0:
        return None
    return body[1:end].lstrip(b"*").decode("ascii", "replace")


def _seq(frame: bytes) -> int | None:
    """The sequence number after the ID token, if there are four digits."""
    body = frame[9:-1]
    start = body.find(b'"', 1) + 1
    digits = body[start : start + 4]
    return int(digits) if digits.isdigit() else None


def read_reply(reply: bytes, *, sent: bytes, key: bytes | None) -> Reply:
    """Read the receiver's answer to ``sent``: ACK only if it is for that message's sequence.

    NAK and DUH are read from the header alone: receivers send a NAK without
    an account (and pysiaalarm's has none), which is still a NAK.
    """
    kind = _token(reply)
    if kind is None:
        return Reply(Outcome.FAILED, None, f"not a DC-09 answer: {reply[:60]!r}")
    seq = _seq(reply)
    if kind == "NAK":
        return Reply(Outcome.NAK, seq, "NAK: the receiver rejected the message")
    if kind == "DUH":
        return Reply(Outcome.DUH, seq, "DUH: the receiver cannot handle this message")
    if kind != "ACK":
        return Reply(Outcome.FAILED, seq, f"unexpected answer {kind}")
    try:
        parsed = dc09_message.parse_frame(reply, keys=key)
    except (TypeError, ValueError, RuntimeError) as exc:
        return Reply(Outcome.FAILED, seq, f"unreadable ACK: {exc}")
    if not isinstance(parsed, dc09_message.AckMessage) or parsed.seq != _seq(sent):
        return Reply(Outcome.FAILED, seq, f"ACK for another message (sequence {parsed.seq})")
    return Reply(Outcome.ACK, seq, "ACK")

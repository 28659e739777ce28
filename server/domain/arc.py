"""Forwarding alerts to an alarm receiving centre (ARC): what is sent, where, and when to retry.

Pure: no sockets, no clock. The forwarder (server/arc/) asks these questions
and does the I/O. The event codes are the table an ARC configures its side
from (docs/interoperability.md shows it).

>>> north = ArcAccount(service="north", account="1A2B", primary=ReceiverPath("arc.example", 5000))
>>> forwards(north, AlertKind.PENDANT, Severity.EMERGENCY), forwards(north, AlertKind.NO_MOVEMENT, Severity.URGENT)
(True, False)
>>> EVENT_CODES[AlertKind.PENDANT]
EventCode(sia='QA', cid='101', zone=1)
>>> policy = RetryPolicy(first_s=1.0, max_s=30.0)
>>> [policy.delay_s(n) for n in (1, 2, 3, 10)]
[1.0, 2.0, 4.0, 30.0]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from server.domain.alerts import AlertKind, Severity

__all__ = [
    "EVENT_CODES",
    "AfterRound",
    "ArcAccount",
    "EventCode",
    "EventFormat",
    "Outcome",
    "ReceiverPath",
    "RetryPolicy",
    "Verdict",
    "after_round",
    "forwards",
    "key_bytes",
    "path_down_for",
]


class EventFormat(StrEnum):
    """The DC-09 message token the receiver expects the event in."""

    SIA_DCS = "SIA-DCS"
    ADM_CID = "ADM-CID"


@dataclass(slots=True, frozen=True)
class EventCode:
    """How one alert kind is said to an ARC: a SIA DC-03 code, a Contact ID (DC-05) code, a zone."""

    sia: str
    cid: str
    # The point that fired, fixed per kind, so an ARC can tell a pendant from a smoke alarm
    # even where it shows only the zone.
    zone: int


# One entry per kind an ARC may be sent; kinds not here (advisories, technical
# alerts about carewatch's own devices) are never forwarded.
EVENT_CODES: dict[AlertKind, EventCode] = {
    # The person asked for help: "personal emergency" (CID 101, SIA QA).
    AlertKind.PENDANT: EventCode("QA", "101", 1),
    AlertKind.PULL_CORD: EventCode("QA", "101", 2),
    # A detector decided for them: "medical" (CID 100, SIA MA).
    AlertKind.FALL: EventCode("MA", "100", 3),
    AlertKind.SMOKE: EventCode("FA", "111", 4),
    AlertKind.CO: EventCode("GA", "162", 5),
    AlertKind.FLOOD: EventCode("WA", "154", 6),
    # Urgent kinds, sent only where the service chose them.
    AlertKind.NO_MOVEMENT: EventCode("MA", "100", 10),
    AlertKind.NOT_UP: EventCode("MA", "100", 11),
    AlertKind.DOOR_AT_NIGHT: EventCode("UA", "150", 12),
    AlertKind.OUT_OF_BED: EventCode("UA", "150", 13),
    AlertKind.CHECKIN_MISSED: EventCode("UA", "102", 15),
    # Zone 14 is kept for a cold home, should it become urgent: advisories are never sent.
}


@dataclass(slots=True, frozen=True)
class ReceiverPath:
    """One way to the ARC's receiver: a host and TCP port."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(slots=True, frozen=True)
class ArcAccount:
    """A service's account at its ARC and the receiver paths, primary first."""

    service: str
    # Hexadecimal, 3 to 16 digits, as the ARC issued it.
    account: str
    primary: ReceiverPath
    backup: ReceiverPath | None = None
    # The receiver number (Rrcvr) and line prefix (Lpref) the ARC assigned, hexadecimal.
    receiver: str | None = None
    prefix: str = "0"
    # AES key as the ARC's receiver holds it; None sends in clear.
    key: bytes | None = field(default=None, repr=False)
    event_format: EventFormat = EventFormat.SIA_DCS
    # Urgent alert kinds this service forwards besides every emergency.
    urgent_kinds: frozenset[AlertKind] = frozenset()
    # How often the receiver expects a link test ("null" message); 0 for never.
    supervision_s: float = 0.0

    @property
    def paths(self) -> tuple[ReceiverPath, ...]:
        """Primary, then backup if there is one."""
        return (self.primary,) if self.backup is None else (self.primary, self.backup)


def forwards(account: ArcAccount, kind: AlertKind, severity: Severity) -> bool:
    """Whether an alert of ``kind`` goes to this service's ARC: every emergency, chosen urgents."""
    if kind not in EVENT_CODES:
        return False
    if severity is Severity.EMERGENCY:
        return True
    return severity is Severity.URGENT and kind in account.urgent_kinds


class Outcome(StrEnum):
    """What one attempt on one path came to."""

    # The receiver has the event.
    ACK = "ack"
    # The receiver rejected the frame (bad CRC, timestamp outside its window):
    # DC-09 says send it again, with a fresh timestamp.
    NAK = "nak"
    # The receiver cannot handle this message (unknown account or code): the
    # same frame to the same receiver will never be accepted.
    DUH = "duh"
    # No connection, no answer in time, or an answer that is not DC-09.
    FAILED = "failed"


@dataclass(slots=True, frozen=True)
class RetryPolicy:
    """Rounds over all paths, doubling the wait after each failed round up to ``max_s``."""

    first_s: float = 1.0
    max_s: float = 30.0

    def delay_s(self, rounds_failed: int) -> float:
        """Seconds before the next round after ``rounds_failed`` rounds have failed."""
        return min(self.max_s, self.first_s * 2.0 ** max(0, rounds_failed - 1))


def path_down_for(first_failure: datetime | None, *, now: datetime) -> timedelta:
    """How long every path has failed: zero while one answers.

    >>> from datetime import UTC
    >>> t = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    >>> path_down_for(t, now=t + timedelta(seconds=45)).total_seconds(), path_down_for(None, now=t)
    (45.0, datetime.timedelta(0))
    """
    return timedelta(0) if first_failure is None else now - first_failure


def key_bytes(text: str) -> bytes:
    """The AES key from how an installer types it: the characters themselves, or ``hex:`` digits.

    Most receivers and panels (and pysiaalarm) take a 16, 24 or 32 character
    key and use its characters as the key's bytes; ``hex:`` gives the bytes.

    >>> key_bytes("ABCDEF0123456789"), len(key_bytes("hex:" + "00" * 16))
    (b'ABCDEF0123456789', 16)
    >>> key_bytes("short")
    Traceback (most recent call last):
    ...
    ValueError: an AES key is 16, 24 or 32 characters (or hex: and 32, 48 or 64 hex digits)
    """
    key = bytes.fromhex(text[4:]) if text.startswith("hex:") else text.encode("ascii")
    if len(key) not in (16, 24, 32):
        raise ValueError(
            "an AES key is 16, 24 or 32 characters (or hex: and 32, 48 or 64 hex digits)"
        )
    return key


class Verdict(StrEnum):
    """Where a delivery stands after one round over the paths."""

    DELIVERED = "delivered"
    # Every path answered DUH: sending the same event again would change nothing.
    REFUSED = "refused"
    RETRY = "retry"


@dataclass(slots=True, frozen=True)
class AfterRound:
    """What to do after a round: the verdict, when to try again, whether to raise the technical alert."""

    verdict: Verdict
    retry_in_s: float = 0.0
    report: bool = False
    # Since when every path has failed (kept across rounds), for the outbox.
    failing_since: datetime | None = None


def after_round(
    outcomes: tuple[Outcome, ...],
    *,
    rounds: int,
    failing_since: datetime | None,
    started: datetime,
    now: datetime,
    reported: bool,
    retry: RetryPolicy,
    down_limit: timedelta,
) -> AfterRound:
    """Decide after round number ``rounds`` (1 for the first) with one outcome per path tried.

    >>> from datetime import UTC
    >>> t = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    >>> limit, policy = timedelta(seconds=60), RetryPolicy(first_s=1.0, max_s=30.0)
    >>> ask = dict(started=t, reported=False, retry=policy, down_limit=limit)
    >>> after_round((Outcome.FAILED, Outcome.ACK), rounds=1, failing_since=None, now=t, **ask).verdict
    <Verdict.DELIVERED: 'delivered'>
    >>> after_round((Outcome.DUH, Outcome.DUH), rounds=1, failing_since=None, now=t, **ask)
    AfterRound(verdict=<Verdict.REFUSED: 'refused'>, retry_in_s=0.0, report=True, failing_since=None)
    >>> after_round((Outcome.FAILED, Outcome.NAK), rounds=3, failing_since=t, now=t + timedelta(seconds=5), **ask)
    AfterRound(verdict=<Verdict.RETRY: 'retry'>, retry_in_s=4.0, report=False, failing_since=datetime.datetime(2026, 12, 2, 6, 0, tzinfo=datetime.timezone.utc))
    >>> after_round((Outcome.FAILED,), rounds=9, failing_since=t, now=t + timedelta(seconds=61), **ask).report
    True
    """
    if Outcome.ACK in outcomes:
        return AfterRound(Verdict.DELIVERED)
    if outcomes and all(o is Outcome.DUH for o in outcomes):
        return AfterRound(Verdict.REFUSED, report=not reported)
    since = failing_since or started
    late = path_down_for(since, now=now) >= down_limit
    return AfterRound(
        Verdict.RETRY,
        retry_in_s=retry.delay_s(rounds),
        report=late and not reported,
        failing_since=since,
    )

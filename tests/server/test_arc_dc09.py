"""The DC-09 codec, read by an independent implementation (pysiaalarm's parser), without sockets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pysiaalarm.account import SIAAccount
from pysiaalarm.event import SIAEvent

from server.arc.dc09 import event_frame, null_frame, read_reply
from server.domain.alerts import AlertKind, Severity
from server.domain.arc import (
    EVENT_CODES,
    AfterRound,
    ArcAccount,
    EventCode,
    EventFormat,
    Outcome,
    ReceiverPath,
    RetryPolicy,
    Verdict,
    after_round,
    forwards,
    key_bytes,
)

KEY = "ABCDEF0123456789"
PATH = ReceiverPath("arc.example", 5000)


def _account(**changes: object) -> ArcAccount:
    fields: dict[str, object] = {"service": "north", "account": "0A12", "primary": PATH}
    fields.update(changes)
    return ArcAccount(**fields)  # type: ignore[arg-type]


def _heard(frame: bytes, *, key: str | None = None) -> SIAEvent:
    """What pysiaalarm's receiver makes of a frame."""
    accounts = {"0A12": SIAAccount("0A12", key)}
    event = SIAEvent.from_line(frame.decode("ascii").strip(), accounts)
    assert isinstance(event, SIAEvent)
    return event


def _now() -> datetime:
    return datetime.now(UTC)


def test_a_pendant_event_is_read_with_its_account_code_zone_and_resident() -> None:
    frame = event_frame(
        _account(), seq=12, code=EVENT_CODES[AlertKind.PENDANT], resident_id=42, now=_now()
    )
    event = _heard(frame)
    assert event.valid_message  # the CRC and length as pysiaalarm computes them
    assert (event.account, event.code, event.ri, event.id, event.sequence) == (
        "0A12",
        "QA",
        "1",
        "42",
        "0012",
    )
    assert event.response is not None
    assert event.response.value == "ACK"


@pytest.mark.parametrize("kind", sorted(EVENT_CODES, key=str))
def test_every_forwarded_kind_has_a_code_the_receiver_knows(kind: AlertKind) -> None:
    frame = event_frame(_account(), seq=1, code=EVENT_CODES[kind], resident_id=7, now=_now())
    event = _heard(frame)
    assert event.code == EVENT_CODES[kind].sia
    assert event.sia_code is not None, f"{kind}: {event.code} is not a SIA code"


def test_an_encrypted_event_is_decrypted_with_the_receivers_key() -> None:
    account = _account(key=key_bytes(KEY))
    frame = event_frame(
        account, seq=3, code=EVENT_CODES[AlertKind.SMOKE], resident_id=9, now=_now()
    )
    assert b'"*SIA-DCS"' in frame
    assert b"FA" not in frame
    event = _heard(frame, key=KEY)
    assert (event.encrypted, event.code, event.ri) == (True, "FA", "4")
    # Its answer is encrypted too, and read back with the same key.
    assert read_reply(event.create_response(), sent=frame, key=account.key).outcome is Outcome.ACK


def test_contact_id_carries_the_event_code_and_zone() -> None:
    account = _account(event_format=EventFormat.ADM_CID)
    frame = event_frame(
        account, seq=5, code=EVENT_CODES[AlertKind.PENDANT], resident_id=1, now=_now()
    )
    assert b'"ADM-CID"' in frame
    assert b"|1101 00 001]" in frame
    event = _heard(frame)
    # pysiaalarm maps Contact ID 101 (personal emergency) to SIA QA.
    assert (event.code, event.event_type, event.ri) == ("QA", "101", "001")


def test_a_null_message_is_a_link_test() -> None:
    frame = null_frame(_account(), seq=9, now=_now())
    event = _heard(frame)
    assert event.code == "RP"  # pysiaalarm's word for a link test
    assert read_reply(event.create_response(), sent=frame, key=None).outcome is Outcome.ACK


def test_an_old_timestamp_is_answered_nak() -> None:
    stale = _now() - timedelta(minutes=5)
    frame = event_frame(
        _account(), seq=4, code=EVENT_CODES[AlertKind.FALL], resident_id=1, now=stale
    )
    reply = read_reply(_heard(frame).create_response(), sent=frame, key=None)
    assert reply.outcome is Outcome.NAK


def test_a_code_the_receiver_does_not_know_is_answered_duh() -> None:
    frame = event_frame(
        _account(), seq=4, code=EventCode("QQ", "999", 1), resident_id=1, now=_now()
    )
    reply = read_reply(_heard(frame).create_response(), sent=frame, key=None)
    assert reply.outcome is Outcome.DUH


def test_an_ack_for_another_message_is_not_taken_for_ours() -> None:
    ours = event_frame(
        _account(), seq=4, code=EVENT_CODES[AlertKind.FALL], resident_id=1, now=_now()
    )
    other = event_frame(
        _account(), seq=5, code=EVENT_CODES[AlertKind.FALL], resident_id=1, now=_now()
    )
    reply = read_reply(_heard(other).create_response(), sent=ours, key=None)
    assert reply.outcome is Outcome.FAILED


@pytest.mark.parametrize(
    "answer",
    [b"", b"HTTP/1.1 400 Bad Request\r", b'\n0000000F"ACK"0004L0#0A12[]\r', b"\n\r"],
    ids=["nothing", "not dc09", "bad crc", "empty frame"],
)
def test_an_answer_that_is_not_dc09_is_a_failure(answer: bytes) -> None:
    sent = event_frame(
        _account(), seq=4, code=EVENT_CODES[AlertKind.FALL], resident_id=1, now=_now()
    )
    assert read_reply(answer, sent=sent, key=None).outcome is Outcome.FAILED


def test_urgent_kinds_go_only_where_the_service_chose_them() -> None:
    chosen = _account(urgent_kinds=frozenset({AlertKind.NO_MOVEMENT}))
    assert forwards(chosen, AlertKind.NO_MOVEMENT, Severity.URGENT)
    assert not forwards(_account(), AlertKind.NO_MOVEMENT, Severity.URGENT)
    # Advisories and carewatch's own technical alerts never go, whatever is chosen.
    assert not forwards(chosen, AlertKind.BATTERY_LOW, Severity.ADVISORY)
    assert not forwards(chosen, AlertKind.ARC_UNREACHABLE, Severity.TECHNICAL)


def test_a_round_that_mixes_answers_is_retried_and_reported_only_once_past_the_limit() -> None:
    t = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    policy, limit = RetryPolicy(first_s=1.0, max_s=8.0), timedelta(seconds=30)

    def decide(
        outcomes: tuple[Outcome, ...], rounds: int, now: datetime, *, reported: bool
    ) -> AfterRound:
        return after_round(
            outcomes,
            rounds=rounds,
            failing_since=None if rounds == 1 else t,
            started=t,
            now=now,
            reported=reported,
            retry=policy,
            down_limit=limit,
        )

    # One receiver refusing and the other down is not a refusal: the down one may come back.
    mixed = decide((Outcome.DUH, Outcome.FAILED), 1, t, reported=False)
    assert (mixed.verdict, mixed.retry_in_s, mixed.failing_since) == (Verdict.RETRY, 1.0, t)
    later = t + timedelta(seconds=31)
    first = decide((Outcome.FAILED,), 6, later, reported=False)
    again = decide((Outcome.FAILED,), 7, later, reported=True)
    assert (first.report, first.retry_in_s) == (True, 8.0)
    assert again.report is False

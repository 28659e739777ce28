"""SCAIP's codec and the SIP answers' bookkeeping, pure (no sockets, no database)."""

from __future__ import annotations

import pytest
from aiosipua import SipMessage, SipRequest

from edge.protocol import AlarmKind
from server.domain.scaip import StatusNumber, alarm_for
from server.scaip.message import MAX_BODY_BYTES, ScaipError, parse_request
from server.scaip.sip import Answered, message_to, transaction_key


def test_a_full_request_is_read_with_its_codes_padded() -> None:
    body = (
        b"<mrq><ref>Z9</ref><cid>+4612345</cid><dty>5</dty><mty>ME</mty><stc>9</stc>"
        b"<did>fd-1</did><dte>Bedroom fall</dte><lte>bedroom</lte></mrq>"
    )
    request = parse_request(body)
    assert (request.unit, request.device, request.status) == ("+4612345", "0005", "0009")
    assert (request.device_id, request.device_text, request.location_text) == (
        "fd-1",
        "Bedroom fall",
        "bedroom",
    )
    assert alarm_for(request.device, request.status) is AlarmKind.FALL


@pytest.mark.parametrize(
    ("body", "number"),
    [
        (b"not xml", StatusNumber.INVALID_FORMAT),
        (b'<!DOCTYPE mrq [<!ENTITY x "y">]><mrq>&x;</mrq>', StatusNumber.INVALID_FORMAT),
        (b"<mrq><ref>r</ref><cid>1</cid></mrq>", StatusNumber.MANDATORY_TAG_MISSING),
        (b"<mrq><ref>r</ref><cid>abc</cid><dty>3</dty></mrq>", StatusNumber.WRONG_DATA_CONTENT),
        (
            b"<mrq><ref>r</ref><cid>1</cid><dty>3</dty><mty>XX</mty></mrq>",
            StatusNumber.WRONG_DATA_CONTENT,
        ),
        (b"<mrq>" + b" " * MAX_BODY_BYTES + b"</mrq>", StatusNumber.MESSAGE_TOO_LONG),
    ],
    ids=["not-xml", "entities", "no-dty", "bad-cid", "bad-mty", "too-long"],
)
def test_what_is_not_a_scaip_request_is_refused_with_its_status_number(
    body: bytes, number: StatusNumber
) -> None:
    with pytest.raises(ScaipError) as refused:
        parse_request(body)
    assert refused.value.number is number
    assert refused.value.reason


def test_statuses_that_are_no_alarm_raise_nothing_and_tests_raise_a_test() -> None:
    assert alarm_for("0003", "0016") is None  # battery low: a report
    assert alarm_for("0003", "0102") is AlarmKind.TEST
    assert alarm_for("0004", None) is AlarmKind.PULL_CORD
    assert alarm_for("0026", "0009") is AlarmKind.CO
    assert alarm_for("0033", "0009") is AlarmKind.FLOOD


def _request() -> SipRequest:
    message = SipMessage.parse(
        b"MESSAGE sip:arc@127.0.0.1:5060 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-9\r\n"
        b"From: <sip:4711@127.0.0.1:5071>;tag=u\r\nTo: <sip:arc@127.0.0.1:5060>\r\n"
        b"Call-ID: call-1\r\nCSeq: 3 MESSAGE\r\nContent-Length: 0\r\n\r\n"
    )
    assert isinstance(message, SipRequest)
    return message


def test_the_answer_goes_back_to_the_unit_in_the_requests_call() -> None:
    back = message_to(_request(), b"<mrs/>", transport="udp", local=("127.0.0.1", 5060))
    assert back.uri == "sip:4711@127.0.0.1:5071"
    assert back.call_id == "call-1"
    assert back.headers.get_first("to") == "<sip:4711@127.0.0.1:5071>"
    assert back.headers.get_first("content-type") == "application/scaip+xml"
    assert back.body == b"<mrs/>"


def test_a_retransmission_is_known_and_answered_alike_until_the_transaction_ends() -> None:
    answered = Answered(kept_s=32.0)
    key = transaction_key(_request())
    assert key is not None
    assert answered.seen(key, 0.0) == (False, None)
    assert answered.seen(key, 0.1) == (True, None)  # still being handled: ignored
    final = SipMessage.parse(b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n")
    answered.done(key, final, 0.2)  # type: ignore[arg-type]
    assert answered.seen(key, 1.0) == (True, final)
    assert answered.seen(key, 40.0) == (False, None)  # Timer J ran out: a new transaction

"""SCAIP bodies: a unit's request (``<mrq>``) read, the receiver's answer (``<mrs>``) written.

Pure: bytes in, a frozen value or a :class:`ScaipError` with a reason fit for
a dead letter out. The tags are SS 91100's three-letter ones.

>>> body = b'''<?xml version="1.0" encoding="UTF-8"?>
... <mrq><ref>a1b2</ref><cid>4711</cid><dty>3</dty><mty>ME</mty><stc>0010</stc></mrq>'''
>>> request = parse_request(body)
>>> request.unit, request.device, request.status, request.message_type
('4711', '0003', '0010', <MessageType.MESSAGE: 'ME'>)
>>> response_body("a1b2", StatusNumber.OK)
b'<?xml version="1.0" encoding="UTF-8"?><mrs><ref>a1b2</ref><snu>0</snu></mrs>'
>>> parse_request(b"<mrq><cid>4711</cid></mrq>")
Traceback (most recent call last):
...
server.scaip.message.ScaipError: the SCAIP message lacks its mandatory <ref>, <dty>
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Final
from xml.sax.saxutils import escape

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException

from server.domain.scaip import MessageType, StatusNumber

__all__ = ["MAX_BODY_BYTES", "ScaipError", "ScaipRequest", "parse_request", "response_body"]

# A SCAIP request is a few hundred bytes; far more is not one.
MAX_BODY_BYTES: Final = 8 * 1024

# SS 91100's patterns for the tags carewatch reads (the schema's, a little wider
# for the controller id: some units write it as an E.164 number with its "+").
_PATTERNS: Final = {
    "ref": re.compile(r"[0-9a-zA-Z]{1,16}"),
    "cid": re.compile(r"\+?[0-9]{1,16}"),
    "dty": re.compile(r"[0-9]{1,4}"),
    "stc": re.compile(r"[0-9]{1,4}"),
    "dco": re.compile(r"[0-9]{1,3}"),
    "lco": re.compile(r"[0-9]{1,3}"),
    "pri": re.compile(r"[0-9]"),
    "ver": re.compile(r"[0-9]{2}\.[0-9]{2}"),
}
_TEXTS: Final = {"did": 8, "dte": 32, "stt": 32, "lte": 32, "crd": 256, "ite": 128}
_MANDATORY: Final = ("ref", "cid", "dty")


class ScaipError(ValueError):
    """A body that is not a SCAIP request; ``number`` is the answer's ``snu``."""

    def __init__(self, reason: str, number: StatusNumber, *, ref: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.number = number
        # The request's reference when it could be read, to answer it by.
        self.ref = ref


@dataclass(slots=True, frozen=True)
class ScaipRequest:
    """One message from a unit: an alarm, a reset, information or a heartbeat."""

    ref: str
    unit: str
    device: str
    message_type: MessageType = MessageType.MESSAGE
    status: str | None = None
    device_id: str | None = None
    component: str | None = None
    device_text: str | None = None
    status_text: str | None = None
    location_text: str | None = None
    priority: str | None = None


def parse_request(body: bytes) -> ScaipRequest:
    """Read an ``<mrq>``; raises :class:`ScaipError` saying what is wrong."""
    if len(body) > MAX_BODY_BYTES:
        raise ScaipError(
            f"the body is {len(body)} bytes; a SCAIP message is at most {MAX_BODY_BYTES}",
            StatusNumber.MESSAGE_TOO_LONG,
        )
    try:
        # SCAIP has no document type: defusedxml refuses DTDs and entities outright.
        root = DefusedET.fromstring(body, forbid_dtd=True)
    except ET.ParseError as exc:
        raise ScaipError(f"the body is not XML ({exc})", StatusNumber.INVALID_FORMAT) from None
    except DefusedXmlException as exc:
        raise ScaipError(
            f"the body declares a DTD or entities ({type(exc).__name__})",
            StatusNumber.INVALID_FORMAT,
        ) from None
    if root.tag != "mrq":
        raise ScaipError(
            f"the body's root element is <{root.tag}>, not SCAIP's <mrq>",
            StatusNumber.INVALID_FORMAT,
        )
    values: dict[str, str] = {}
    for child in root:
        text = (child.text or "").strip()
        if text and isinstance(child.tag, str):
            values.setdefault(child.tag, text)
    ref = values.get("ref")
    ref = ref if ref is not None and _PATTERNS["ref"].fullmatch(ref) else None
    missing = [tag for tag in _MANDATORY if tag not in values]
    if missing:
        raise ScaipError(
            "the SCAIP message lacks its mandatory " + ", ".join(f"<{t}>" for t in missing),
            StatusNumber.MANDATORY_TAG_MISSING,
            ref=ref,
        )
    for tag, pattern in _PATTERNS.items():
        if tag in values and not pattern.fullmatch(values[tag]):
            raise ScaipError(
                f"<{tag}>{values[tag][:40]}</{tag}> is not of SCAIP's form",
                StatusNumber.WRONG_DATA_CONTENT,
                ref=ref,
            )
    for tag, longest in _TEXTS.items():
        if len(values.get(tag, "")) > longest:
            raise ScaipError(
                f"<{tag}> is longer than SCAIP's {longest} characters",
                StatusNumber.WRONG_DATA_CONTENT,
                ref=ref,
            )
    try:
        message_type = MessageType(values.get("mty", MessageType.MESSAGE))
    except ValueError:
        raise ScaipError(
            f"<mty>{values['mty'][:10]}</mty> is none of ME, RE, IN, PI",
            StatusNumber.WRONG_DATA_CONTENT,
            ref=ref,
        ) from None
    assert ref is not None  # mandatory, and its pattern checked
    status = values.get("stc")
    return ScaipRequest(
        ref=ref,
        unit=values["cid"],
        device=values["dty"].zfill(4),
        message_type=message_type,
        status=status.zfill(4) if status is not None else None,
        device_id=values.get("did"),
        component=values.get("dco"),
        device_text=values.get("dte"),
        status_text=values.get("stt"),
        location_text=values.get("lte"),
        priority=values.get("pri"),
    )


def response_body(ref: str | None, number: StatusNumber, text: str | None = None) -> bytes:
    """The receiver's ``<mrs>`` for a request: its reference, the status number and words."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?><mrs>']
    if ref is not None:
        parts.append(f"<ref>{escape(ref)}</ref>")
    parts.append(f"<snu>{number.value}</snu>")
    if text:
        parts.append(f"<ste>{escape(text[:128])}</ste>")
    parts.append("</mrs>")
    return "".join(parts).encode()

"""Voice calls to carers: the provider account, what the call says, and what its outcome means. Pure.

A call reads the alert out and asks the carer to press 1 to accept it. Only
a 1 counts: a call that rang out, was busy, failed, or was answered without
the key (an answering machine picks up too) did not reach anyone, so the
ladder calls again and then moves on (``server/alerts/calls.py`` places the
calls, ``server/api/routes/voice.py`` hears the provider's callbacks).

The provider speaks Twilio's Calls API (Twilio itself, or a compatible one
such as SignalWire's), configured by one URL:

>>> account = voice_account("https://AC123:s3cret@api.twilio.com?from=%2B441632960999")
>>> (account.api_base, account.account_sid, account.caller_id)
('https://api.twilio.com', 'AC123', '+441632960999')
>>> account.calls_url
'https://api.twilio.com/2010-04-01/Accounts/AC123/Calls.json'

>>> call_outcome("no-answer", accepted=False)
<CallOutcome.NO_ANSWER: 'no-answer'>
>>> call_outcome("in-progress", accepted=True)
<CallOutcome.ACCEPTED: 'accepted'>
>>> call_outcome("ringing", accepted=False) is None
True

A call still going when someone else takes the alert is hung up:

>>> reason = hang_up_reason(AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, holder="ben", closer=None)
>>> reason
'ben took the alert'
>>> (account.call_url("CA42"), hang_up_status("ringing"), hang_up_status("in-progress"))
('https://api.twilio.com/2010-04-01/Accounts/AC123/Calls/CA42.json', 'canceled', 'completed')
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.etree import ElementTree

from server.domain.alerts import UNANSWERED, AlertStatus

__all__ = [
    "ACCEPT_KEY",
    "CallOutcome",
    "VoiceAccount",
    "accepted_twiml",
    "call_outcome",
    "call_twiml",
    "hang_up_reason",
    "hang_up_status",
    "heard_twiml",
    "not_accepted_twiml",
    "outcome_error",
    "responding_twiml",
    "voice_account",
]

# The key that accepts the alert.
ACCEPT_KEY = "1"

# What the provider reports while the call is still going.
_GOING = frozenset({"requested", "queued", "initiated", "ringing", "in-progress"})


class CallOutcome(StrEnum):
    """How one call ended, for the alert's trail."""

    ACCEPTED = "accepted"
    # Answered (perhaps by voicemail), but 1 was not pressed.
    NOT_ACCEPTED = "not-accepted"
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(slots=True, frozen=True)
class VoiceAccount:
    """Where calls are requested and with what: the API's base, the account, the number shown."""

    api_base: str
    account_sid: str
    auth_token: str
    caller_id: str

    @property
    def calls_url(self) -> str:
        """The Calls resource a call is requested from."""
        return f"{self.api_base}/2010-04-01/Accounts/{self.account_sid}/Calls.json"

    def call_url(self, call_sid: str) -> str:
        """One call's resource, which hangs it up when posted ``Status``."""
        sid = quote(call_sid, safe="")
        return f"{self.api_base}/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json"


def voice_account(url: str) -> VoiceAccount:
    """Read ``CAREWATCH_VOICE_URL``: ``https://SID:TOKEN@host[:port][/base]?from=NUMBER``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            "CAREWATCH_VOICE_URL must be https://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=NUMBER"
        )
    if not parts.username or not parts.password:
        raise ValueError("CAREWATCH_VOICE_URL must carry the account id and token (SID:TOKEN@)")
    caller = parse_qs(parts.query).get("from", [""])[0]
    if not caller:
        raise ValueError("CAREWATCH_VOICE_URL must say which number calls come from (?from=+44...)")
    host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    return VoiceAccount(
        api_base=f"{parts.scheme}://{host}{parts.path.rstrip('/')}",
        account_sid=unquote(parts.username),
        auth_token=unquote(parts.password),
        caller_id=caller,
    )


def call_outcome(status: str, *, accepted: bool) -> CallOutcome | None:
    """The outcome of a call from the provider's last status, or None while it is still going.

    ``accepted``: the carer pressed 1, whatever the call did after.
    """
    if accepted:
        return CallOutcome.ACCEPTED
    if status in _GOING:
        return None
    if status == "completed":
        return CallOutcome.NOT_ACCEPTED
    try:
        return CallOutcome(status)
    except ValueError:
        return CallOutcome.FAILED


def hang_up_reason(
    placed: AlertStatus, now: AlertStatus, *, holder: str | None, closer: str | None
) -> str | None:
    """Why a call placed while the alert was ``placed`` should be hung up now, or None.

    Someone took the alert or closed it after the call was placed. A call
    placed on an alert someone already has (about another press) rings on
    unless the alert is closed.

    >>> hang_up_reason(AlertStatus.ACKNOWLEDGED, AlertStatus.ACKNOWLEDGED, holder="desk",
    ...                closer=None) is None
    True
    >>> hang_up_reason(AlertStatus.ESCALATED, AlertStatus.RESOLVED, holder=None, closer="desk")
    'desk closed the alert'
    >>> hang_up_reason(AlertStatus.OPEN, AlertStatus.RESOLVED, holder=None, closer="system")
    'the alert cleared by itself'
    """
    if now is AlertStatus.RESOLVED and placed is not AlertStatus.RESOLVED:
        if closer in (None, "system"):
            return "the alert cleared by itself"
        return f"{closer} closed the alert"
    if placed in UNANSWERED and now is AlertStatus.ACKNOWLEDGED:
        return f"{holder or 'someone'} took the alert"
    return None


def hang_up_status(status: str) -> str:
    """The ``Status`` that ends a call last reported as ``status``.

    Twilio's ``canceled`` ends a call that is queued or ringing and leaves one
    already answered alone; ``completed`` ends an answered one.
    """
    return "completed" if status == "in-progress" else "canceled"


def outcome_error(outcome: CallOutcome | None, *, waited_s: float) -> str | None:
    """The trail's words for a call that did not reach the carer (None: it did).

    >>> outcome_error(CallOutcome.NOT_ACCEPTED, waited_s=90)
    'answered, but 1 was not pressed (perhaps voicemail)'
    >>> outcome_error(None, waited_s=90)
    'no outcome from the voice provider within 90 s'
    """
    match outcome:
        case CallOutcome.ACCEPTED:
            return None
        case CallOutcome.NOT_ACCEPTED:
            return f"answered, but {ACCEPT_KEY} was not pressed (perhaps voicemail)"
        case CallOutcome.NO_ANSWER:
            return "no answer"
        case CallOutcome.BUSY:
            return "the line was busy"
        case CallOutcome.CANCELED:
            return "the call was cancelled before it was answered"
        case CallOutcome.FAILED:
            return "the call could not be connected (a wrong or unreachable number)"
        case None:
            return f"no outcome from the voice provider within {waited_s:g} s"


def _twiml(build: ElementTree.Element) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>' + ElementTree.tostring(
        build, encoding="unicode"
    )


def call_twiml(words: str, *, key_url: str, wait_for_key_s: int = 8) -> str:
    """What the call says: the alert, twice, and how to accept it; the key goes to ``key_url``.

    >>> print(call_twiml("Urgent alert for Mrs Clarke & co.", key_url="https://x/voice/t/key"))
    <?xml version="1.0" encoding="UTF-8"?><Response><Gather action="https://x/voice/t/key" method="POST" numDigits="1" timeout="8"><Say language="en-GB">This is carewatch. Urgent alert for Mrs Clarke &amp; co. Press 1 to accept this alert and deal with it.</Say><Say language="en-GB">Again: Urgent alert for Mrs Clarke &amp; co. Press 1 to accept this alert and deal with it.</Say></Gather><Say language="en-GB">No key was pressed. We will call again, or call someone else. Goodbye.</Say></Response>
    """
    prompt = f"Press {ACCEPT_KEY} to accept this alert and deal with it."
    response = ElementTree.Element("Response")
    gather = ElementTree.SubElement(
        response,
        "Gather",
        action=key_url,
        method="POST",
        numDigits="1",
        timeout=str(wait_for_key_s),
    )
    for intro in ("This is carewatch.", "Again:"):
        ElementTree.SubElement(gather, "Say", language="en-GB").text = f"{intro} {words} {prompt}"
    ElementTree.SubElement(
        response, "Say", language="en-GB"
    ).text = "No key was pressed. We will call again, or call someone else. Goodbye."
    return _twiml(response)


def accepted_twiml(resident: str) -> str:
    """What the carer hears after pressing 1."""
    response = ElementTree.Element("Response")
    ElementTree.SubElement(
        response, "Say", language="en-GB"
    ).text = (
        f"Thank you. {resident}'s alert is yours; nobody else on the list will be called. Goodbye."
    )
    return _twiml(response)


def responding_twiml(resident: str) -> str:
    """What a carer hears after pressing 1 on an emergency, which the alarm centre keeps."""
    response = ElementTree.Element("Response")
    ElementTree.SubElement(response, "Say", language="en-GB").text = (
        f"Thank you. We have noted that you are going to {resident}. "
        "The alarm receiving centre is handling the alarm too. Goodbye."
    )
    return _twiml(response)


def heard_twiml(resident: str, *, holder: str) -> str:
    """What the carer hears after pressing 1 on an alert someone else has taken on."""
    response = ElementTree.Element("Response")
    ElementTree.SubElement(
        response, "Say", language="en-GB"
    ).text = f"Thank you. {holder} is dealing with {resident}'s alert. Goodbye."
    return _twiml(response)


def not_accepted_twiml() -> str:
    """What the carer hears after pressing another key, or when the alert was already taken."""
    response = ElementTree.Element("Response")
    ElementTree.SubElement(
        response, "Say", language="en-GB"
    ).text = f"The alert was not accepted. Press {ACCEPT_KEY} to accept it next time. Goodbye."
    return _twiml(response)

"""Pure parts of reaching carers by SMS and voice: numbers, gateway settings, calls' outcomes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from xml.etree import ElementTree

import apprise
import pytest
from pydantic import SecretStr, ValidationError

from server.alerts.addresses import checked_address
from server.alerts.escalation import EscalationPolicy
from server.alerts.ladder import ladder
from server.alerts.notify import apprise_url
from server.alerts.voice import CallOutcome, call_outcome, call_twiml, outcome_error, voice_account
from server.domain.alerts import Severity
from server.domain.contacts import Channel, Contact, QuietHours
from server.settings import ServerSettings


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("07400 123456", "+447400123456"),
        ("+44 7400 123456", "+447400123456"),
        ("0044 7400 123456", "+447400123456"),
        ("+1 (202) 555-0143", "+12025550143"),
    ],
)
def test_a_number_is_stored_in_e164_however_it_was_typed(typed: str, stored: str) -> None:
    assert checked_address("sms", typed, region="GB") == stored


@pytest.mark.parametrize("typed", ["", "12345", "call me", "+44 7400 12345678901"])
def test_a_number_that_cannot_be_dialled_is_refused_with_how_to_write_it(typed: str) -> None:
    with pytest.raises(ValueError, match="country code"):
        checked_address("voice", typed, region="GB")


def test_the_sms_gateway_url_gets_the_number_and_apprise_can_use_it() -> None:
    url = apprise_url(
        Channel("sms", "+447400123456"),
        email_url=None,
        sms_url="twilio://AC0123456789abcdef0123456789abcdef:tok@+441632960000/{to}",
    )
    plugin = apprise.Apprise.instantiate(url)
    assert type(plugin).__name__ == "NotifyTwilio"
    assert plugin is not None
    assert "%2B447400123456" in str(plugin.url())  # type: ignore[no-untyped-call]
    with pytest.raises(ValueError, match="CAREWATCH_SMS_URL"):
        apprise_url(Channel("sms", "+447400123456"), email_url=None)


def _settings(**values: object) -> ServerSettings:
    return ServerSettings.model_validate(values)


def test_settings_refuse_an_sms_url_without_the_number_and_a_voice_url_without_a_caller() -> None:
    with pytest.raises(ValidationError, match=r"\{to\}"):
        _settings(sms_url=SecretStr("twilio://AC1:tok@+441632960000"))
    with pytest.raises(ValidationError, match=r"from="):
        _settings(voice_url=SecretStr("https://AC1:tok@api.twilio.com"))
    with pytest.raises(ValidationError, match="SID:TOKEN"):
        _settings(voice_url=SecretStr("https://api.twilio.com?from=%2B441632960000"))
    ok = _settings(voice_url=SecretStr("https://AC1:tok@api.twilio.com?from=%2B441632960000"))
    assert ok.voice_url is not None


def test_a_compatible_provider_at_another_base_url_keeps_its_path() -> None:
    account = voice_account("https://PT1:tok@example.signalwire.com/api/laml?from=%2B15550100")
    assert account.calls_url == (
        "https://example.signalwire.com/api/laml/2010-04-01/Accounts/PT1/Calls.json"
    )


@pytest.mark.parametrize(
    ("status", "accepted", "outcome"),
    [
        ("queued", False, None),
        ("ringing", False, None),
        ("in-progress", False, None),
        ("in-progress", True, CallOutcome.ACCEPTED),
        ("completed", True, CallOutcome.ACCEPTED),
        ("completed", False, CallOutcome.NOT_ACCEPTED),
        ("no-answer", False, CallOutcome.NO_ANSWER),
        ("busy", False, CallOutcome.BUSY),
        ("failed", False, CallOutcome.FAILED),
        ("something-new", False, CallOutcome.FAILED),
    ],
)
def test_only_a_1_counts_as_reaching_the_carer(
    status: str, accepted: bool, outcome: CallOutcome | None
) -> None:
    assert call_outcome(status, accepted=accepted) == outcome
    if outcome is not None:
        assert (outcome_error(outcome, waited_s=60) is None) == (outcome is CallOutcome.ACCEPTED)


def test_the_call_reads_the_alert_and_sends_the_key_to_the_calls_own_url() -> None:
    twiml = call_twiml(
        "An urgent alert for Mr <Bell>.", key_url="https://c.example.org/voice/T/key"
    )
    root = ElementTree.fromstring(twiml)
    gather = root.find("Gather")
    assert gather is not None
    assert gather.attrib["action"] == "https://c.example.org/voice/T/key"
    assert gather.attrib["numDigits"] == "1"
    said = [say.text or "" for say in gather.iter("Say")]
    assert all("Mr <Bell>" in words and "Press 1" in words for words in said)


def test_a_voice_channel_gets_the_calls_time_in_the_lease() -> None:
    policy = EscalationPolicy(send_timeout_s=5.0, call_timeout_s=100.0, attempts_per_channel=2)
    voice_then_sms = Contact(1, "Amy", (Channel("voice", "+1"), Channel("sms", "+1")))
    assert policy.send_budget([voice_then_sms]) == timedelta(seconds=2 * 100 + 0.5 + 2 * 5 + 0.5)


def test_away_and_quiet_hours_on_the_ladder() -> None:
    now = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)
    quiet = Contact(1, "Amy", (), quiet=QuietHours(time(22, 0), time(7, 0)))
    back = Contact(2, "Ben", (), away_until=now - timedelta(minutes=1))
    away = Contact(3, "Cat", (), away_until=now + timedelta(hours=1))
    desk = Contact(9, "Desk", ())
    rungs = ladder(
        Severity.URGENT,
        carers=[quiet, back, away],
        responders=[desk],
        installers=[],
        ack_timeout=timedelta(minutes=5),
        now=now,
    )
    # Quiet hours hold no urgent alert; Ben is back; Cat is away until midnight.
    assert [[c.name for c in r.contacts] for r in rungs] == [["Amy"], ["Ben"], ["Desk"]]
    everyone_away = ladder(
        Severity.URGENT,
        carers=[away],
        responders=[desk],
        installers=[],
        ack_timeout=timedelta(minutes=5),
        now=now,
    )
    assert [[c.name for c in r.contacts] for r in everyone_away] == [["Desk"]]


def test_an_empty_gateway_setting_means_none() -> None:
    # docker-compose passes unset variables as empty strings.
    settings = _settings(sms_url="", voice_url="")
    assert settings.sms_url is None
    assert settings.voice_url is None

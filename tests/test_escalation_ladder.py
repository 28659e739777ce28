"""Escalation ladders, deadlines, one-tap links and service figures: pure, with time passed in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from server.alerts.figures import AlertTiming, service_figures
from server.alerts.ladder import deadline_after, ladder
from server.alerts.links import LinkRefused, make_link, read_link
from server.domain.alerts import Severity
from server.domain.contacts import Channel, Contact

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
AMY = Contact(1, "Amy", (Channel("email", "amy@example.org"),))
BEN = Contact(2, "Ben", (Channel("webhook", "http://ben.example.org/hook"),))
DESK = Contact(8, "Desk A", ())
NIGHT = Contact(9, "Desk B", ())
INSTALLER = Contact(10, "Installer", ())
FIVE_MIN = timedelta(minutes=5)


def _ladder(severity: Severity, carers: list[Contact] | None = None) -> list[list[str]]:
    rungs = ladder(
        severity,
        carers=[AMY, BEN] if carers is None else carers,
        responders=[DESK, NIGHT],
        installers=[INSTALLER],
        ack_timeout=FIVE_MIN,
    )
    return [[c.name for c in r.contacts] for r in rungs]


def test_an_emergency_goes_to_every_responder_at_once() -> None:
    assert _ladder(Severity.EMERGENCY) == [["Desk A", "Desk B"]]


def test_an_urgent_alert_climbs_the_carers_in_order_then_the_responders() -> None:
    assert _ladder(Severity.URGENT) == [["Amy"], ["Ben"], ["Desk A", "Desk B"]]
    rungs = ladder(
        Severity.URGENT, carers=[AMY], responders=[DESK], installers=[], ack_timeout=FIVE_MIN
    )
    assert [r.escalates for r in rungs] == [False, True]


def test_an_urgent_alert_without_carers_goes_to_the_responders() -> None:
    assert _ladder(Severity.URGENT, carers=[]) == [["Desk A", "Desk B"]]


def test_advisories_stay_in_the_app_and_technical_alerts_go_to_installers() -> None:
    (advisory,) = ladder(
        Severity.ADVISORY, carers=[AMY], responders=[DESK], installers=[], ack_timeout=FIVE_MIN
    )
    assert advisory.notify is False
    assert _ladder(Severity.TECHNICAL) == [["Installer"]]


def test_each_rung_waits_its_timeout_unless_nobody_could_be_reached() -> None:
    rungs = ladder(
        Severity.URGENT, carers=[AMY, BEN], responders=[DESK], installers=[], ack_timeout=FIVE_MIN
    )
    assert deadline_after(rungs, 0, NOW, reached=True) == NOW + FIVE_MIN
    assert deadline_after(rungs, 0, NOW, reached=False) == NOW
    assert deadline_after(rungs, 2, NOW, reached=True) is None


def test_a_link_works_until_it_expires_and_only_with_the_servers_key() -> None:
    key = b"k" * 32
    alert = uuid.uuid4()
    token = make_link(key, alert, user_id=4, expires_at=NOW + FIVE_MIN, nonce="abc")
    assert read_link(key, token, now=NOW).alert_id == alert
    with pytest.raises(LinkRefused, match="expired"):
        read_link(key, token, now=NOW + FIVE_MIN)
    with pytest.raises(LinkRefused, match="not valid"):
        read_link(b"x" * 32, token, now=NOW)
    tampered = make_link(key, uuid.uuid4(), user_id=4, expires_at=NOW + FIVE_MIN, nonce="abc")
    forged = tampered.split(".")[0] + "." + token.split(".")[1]
    with pytest.raises(LinkRefused):
        read_link(key, forged, now=NOW)
    with pytest.raises(LinkRefused):
        read_link(key, "garbage", now=NOW)


def _timing(
    severity: str, ack_after_s: float | None, outcome: str | None = "resolved_ok", kind: str = "x"
) -> AlertTiming:
    raised = NOW + timedelta(seconds=2)
    acked = None if ack_after_s is None else raised + timedelta(seconds=ack_after_s)
    resolved = None if acked is None else acked + timedelta(minutes=10)
    return AlertTiming(severity, kind, NOW, raised, acked, resolved, outcome)


def test_service_figures_count_unanswered_alerts_against_the_targets() -> None:
    alerts = [
        _timing("emergency", 30),
        _timing("emergency", 90),
        _timing("emergency", 200),
        _timing("emergency", None, outcome=None),  # nobody has answered yet
        _timing("urgent", None, outcome="self_cleared"),  # cleared itself: not counted
        _timing("urgent", 10, outcome="false_alarm", kind="no_movement"),
        _timing("urgent", 20, kind="no_movement"),
    ]
    report = service_figures(alerts)
    emergency, urgent = report.by_severity
    assert emergency.severity == "emergency"
    assert emergency.acknowledged_within_60s == 0.25
    assert emergency.acknowledged_within_180s == 0.5
    assert emergency.event_to_alert.p50_s == 2.0
    assert emergency.alert_to_acknowledgement.p50_s == 90.0
    assert urgent.alerts == 3
    assert urgent.acknowledged_within_60s == 1.0
    assert report.false_alarm_rate == {"no_movement": 0.5, "x": 0.0}

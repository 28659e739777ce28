"""A hub's clock judged against the server's: readings ahead are split off, alarms never dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from edge.protocol import (
    Alarm,
    AlarmKind,
    HubState,
    HubStatus,
    Message,
    Reading,
    ReadingKind,
    ReadingsBatch,
    alarm_topic,
    encode,
    parse_message,
    readings_topic,
    status_topic,
)
from server.ingest.triage import CLOCK_TOLERANCE, Accepted, triage
from server.metrics import dead_letter_category
from server.store.dead_letters import DeadLetter

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _motion(ts: datetime, sensor: str = "kitchen-pir") -> Reading:
    return Reading(sensor, ReadingKind.MOTION, ts, 1.0)


def _accepted(topic: str, message: Message) -> Accepted:
    outcome = triage(topic, encode(message), received_at=NOW, is_provisioned=lambda hub: True)
    assert isinstance(outcome, Accepted)
    return outcome


def test_a_reading_stamped_ahead_is_split_off_and_the_rest_go_on() -> None:
    ahead = _motion(NOW + timedelta(hours=23), "hall-pir")
    batch = ReadingsBatch(
        "hub-1", 42, NOW, (_motion(NOW - timedelta(minutes=2)), ahead, _motion(NOW))
    )
    outcome = _accepted(readings_topic("hub-1"), batch)
    assert outcome.message == ReadingsBatch(
        "hub-1", 42, NOW, (_motion(NOW - timedelta(minutes=2)), _motion(NOW))
    )
    refused = outcome.refused
    assert isinstance(refused, DeadLetter)
    assert refused.hub == "hub-1"
    assert refused.topic == readings_topic("hub-1")
    assert (
        refused.reason == "1 reading of batch 42 refused for the hub's clock, stamped in the future"
        " (over 5 min ahead of the server's time 2026-11-24T12:00:00.000Z) or before 2000:"
        " readings[1] hall-pir at 2026-11-25T11:00:00.000Z, 23 h 0 min ahead."
        " Check the hub's clock; the batch's other 2 readings went on."
    )
    # The dead letter keeps exactly what was refused.
    assert parse_message(readings_topic("hub-1"), refused.payload) == ReadingsBatch(
        "hub-1", 42, NOW, (ahead,)
    )
    assert dead_letter_category(refused.reason) == "future_timestamp"


def test_within_the_tolerance_is_on_time() -> None:
    batch = ReadingsBatch("hub-1", 1, NOW, (_motion(NOW + CLOCK_TOLERANCE),))
    outcome = _accepted(readings_topic("hub-1"), batch)
    assert outcome == Accepted(batch)


def test_a_clock_never_set_and_a_whole_batch_ahead() -> None:
    unset = datetime(1970, 1, 1, 0, 3, tzinfo=UTC)
    batch = ReadingsBatch(
        "hub-1", 9, NOW + timedelta(days=3), (_motion(unset), _motion(NOW + timedelta(days=3)))
    )
    outcome = _accepted(readings_topic("hub-1"), batch)
    # Nothing left, but the batch still goes on: its seq de-duplicates a redelivery.
    assert outcome.message == ReadingsBatch("hub-1", 9, NOW, ())
    assert outcome.refused is not None
    assert "readings[0] kitchen-pir at 1970-01-01T00:03:00.000Z, before 2000" in (
        outcome.refused.reason
    )
    assert "readings[1] kitchen-pir at 2026-11-27T12:00:00.000Z, 3 d 0 h ahead" in (
        outcome.refused.reason
    )
    assert "the batch's other 0 readings went on" in outcome.refused.reason
    assert outcome.note is not None
    assert "sent_at 2026-11-27T12:00:00.000Z" in outcome.note


def test_many_readings_ahead_are_counted_not_all_named() -> None:
    ahead = tuple(_motion(NOW + timedelta(hours=2, seconds=i)) for i in range(40))
    outcome = _accepted(readings_topic("hub-1"), ReadingsBatch("hub-1", 3, NOW, ahead))
    assert outcome.refused is not None
    assert outcome.refused.reason.startswith("40 readings of batch 3")
    assert "; and 35 more." in outcome.refused.reason
    assert len(outcome.refused.reason) < 1_000


@pytest.mark.parametrize(
    "ts", [NOW + timedelta(hours=23), NOW + timedelta(days=3), datetime(1970, 1, 1, tzinfo=UTC)]
)
def test_an_alarm_with_a_wrong_clock_is_raised_as_of_now(ts: datetime) -> None:
    alarm = Alarm("hub-1", "a-1", "pendant", AlarmKind.PENDANT, ts)
    outcome = _accepted(alarm_topic("hub-1"), alarm)
    assert outcome.message == Alarm("hub-1", "a-1", "pendant", AlarmKind.PENDANT, NOW)
    assert outcome.refused is None
    assert outcome.note is not None
    assert "raised at the server's time 2026-11-24T12:00:00.000Z" in outcome.note
    assert "check the hub's clock" in outcome.note


def test_an_alarm_on_time_or_late_is_left_alone() -> None:
    for ts in (NOW - timedelta(hours=5), NOW + timedelta(minutes=1)):
        alarm = Alarm("hub-1", "a-1", "pull-cord", AlarmKind.PULL_CORD, ts)
        assert _accepted(alarm_topic("hub-1"), alarm) == Accepted(alarm)


def test_a_status_ahead_is_taken_at_the_receive_time() -> None:
    ahead = NOW + timedelta(hours=23)
    status = HubStatus("hub-1", HubState.ONLINE, ahead, watermark=ahead)
    outcome = _accepted(status_topic("hub-1"), status)
    assert outcome.message == HubStatus("hub-1", HubState.ONLINE, NOW, watermark=NOW)
    assert outcome.note is not None
    assert "check the hub's clock" in outcome.note
    # A watermark held back by a backlog is the hub's to say; only one ahead is clamped.
    behind = HubStatus("hub-1", HubState.ONLINE, ahead, watermark=NOW - timedelta(hours=1))
    assert _accepted(status_topic("hub-1"), behind).message == HubStatus(
        "hub-1", HubState.ONLINE, NOW, watermark=NOW - timedelta(hours=1)
    )

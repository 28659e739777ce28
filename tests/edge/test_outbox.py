"""The outbox keeps readings on disk until the broker acknowledges them, alarms until the server confirms."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from edge.agent.outbox import KeptAlarm, Outbox
from edge.protocol import Alarm, AlarmKind, Reading, ReadingKind

T0 = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


def _readings(n: int, start: datetime = T0) -> list[Reading]:
    return [
        Reading("kitchen-pir", ReadingKind.MOTION, start + timedelta(seconds=30 * i), 1.0)
        for i in range(n)
    ]


def test_batches_hold_the_oldest_readings_in_order(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.sqlite3", hub="hub-1")
    box.add_readings(_readings(7))
    first = box.assign_batch(max_readings=5, sent_at=T0)
    second = box.assign_batch(max_readings=5, sent_at=T0)
    assert first is not None
    assert second is not None
    assert [r.ts for r in first.readings] == [r.ts for r in _readings(5)]
    assert len(second.readings) == 2
    assert second.seq == first.seq + 1
    assert box.assign_batch(max_readings=5, sent_at=T0) is None


def test_a_batch_survives_a_restart_with_the_same_seq_and_readings(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    box = Outbox(path, hub="hub-1")
    box.add_readings(_readings(3))
    batch = box.assign_batch(max_readings=10, sent_at=T0)
    box.close()  # the hub loses power before the PUBACK

    reopened = Outbox(path, hub="hub-1")
    assert reopened.pending_batches() == [batch]
    assert reopened.depth() == 3


def test_seq_never_goes_back_even_when_the_outbox_empties(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    box = Outbox(path, hub="hub-1", first_seq=1000)
    box.add_readings(_readings(1))
    batch = box.assign_batch(max_readings=10, sent_at=T0)
    assert batch is not None
    assert batch.seq == 1000
    box.batch_acknowledged(batch.seq)
    box.close()

    reopened = Outbox(path, hub="hub-1", first_seq=1)
    reopened.add_readings(_readings(1))
    again = reopened.assign_batch(max_readings=10, sent_at=T0)
    assert again is not None
    assert again.seq == 1001


def test_acknowledged_batches_and_confirmed_alarms_leave_the_outbox(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.sqlite3", hub="hub-1")
    box.add_readings(_readings(4))
    alarm = Alarm("hub-1", "a-1", "pendant", AlarmKind.PENDANT, T0)
    box.add_alarm(alarm)
    batch = box.assign_batch(max_readings=2, sent_at=T0)
    assert batch is not None
    assert box.depth() == 5
    assert box.oldest_reading() == T0

    box.batch_acknowledged(batch.seq)
    assert box.depth() == 3
    assert box.oldest_reading() == T0 + timedelta(seconds=60)
    assert box.pending_alarms() == [alarm]
    # The broker's PUBACK is not enough: Mosquitto acknowledges before it saves.
    box.alarm_acknowledged(alarm.id, at=T0)
    assert box.kept_alarms() == [KeptAlarm(alarm, T0)]
    assert box.depth() == 3
    assert box.alarm_confirmed(alarm.id)
    assert box.pending_alarms() == []
    assert not box.alarm_confirmed(alarm.id)
    assert box.unbatched() == 2


def test_an_alarm_keeps_the_time_of_its_first_puback_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    box = Outbox(path, hub="hub-1")
    alarm = Alarm("hub-1", "a-1", "pendant", AlarmKind.PENDANT, T0)
    box.add_alarm(alarm)
    box.alarm_acknowledged(alarm.id, at=T0 + timedelta(seconds=1))
    box.alarm_acknowledged(alarm.id, at=T0 + timedelta(seconds=40))  # a re-send's PUBACK
    box.close()

    reopened = Outbox(path, hub="hub-1")
    assert reopened.kept_alarms() == [KeptAlarm(alarm, T0 + timedelta(seconds=1))]


def test_an_outbox_from_before_confirmations_opens_with_its_alarms_unacknowledged(
    tmp_path: Path,
) -> None:
    path = tmp_path / "outbox.sqlite3"
    # The alarms table as the previous version made it, with an alarm waiting.
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE alarms (id TEXT PRIMARY KEY, sensor TEXT NOT NULL,"
            " kind TEXT NOT NULL, ts TEXT NOT NULL)"
        )
        old.execute(
            "INSERT INTO alarms VALUES ('a-1', 'pull-cord', 'pull_cord', '2026-11-24T07:00:00.000Z')"
        )
    old.close()

    box = Outbox(path, hub="hub-1")
    alarm = Alarm("hub-1", "a-1", "pull-cord", AlarmKind.PULL_CORD, T0)
    assert box.kept_alarms() == [KeptAlarm(alarm, None)]
    box.alarm_acknowledged("a-1", at=T0)
    box.close()
    assert Outbox(path, hub="hub-1").kept_alarms() == [KeptAlarm(alarm, T0)]


def test_an_alarm_is_kept_once_however_often_it_is_added(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.sqlite3", hub="hub-1")
    alarm = Alarm("hub-1", "a-1", "pendant", AlarmKind.PENDANT, T0)
    box.add_alarm(alarm)
    box.add_alarm(alarm)
    assert box.pending_alarms() == [alarm]


def test_a_full_outbox_sheds_the_oldest_readings_never_alarms_and_counts_them(
    tmp_path: Path,
) -> None:
    box = Outbox(tmp_path / "outbox.sqlite3", hub="hub-1", max_readings=5)
    alarm = Alarm("hub-1", "a-1", "pendant", AlarmKind.PENDANT, T0)
    box.add_alarm(alarm)
    box.add_readings(_readings(4))
    batch = box.assign_batch(max_readings=2, sent_at=T0)  # in flight: kept
    assert batch is not None
    box.add_readings(_readings(4, start=T0 + timedelta(hours=1)))
    assert box.depth() == 5 + 1
    assert box.shed() == 3
    kept = [r.ts for r in batch.readings]
    assert kept == [T0, T0 + timedelta(seconds=30)]
    assert box.pending_alarms() == [alarm]
    rest = box.assign_batch(max_readings=10, sent_at=T0)
    assert rest is not None
    # The oldest unbatched readings went; the newest stayed.
    assert [r.ts for r in rest.readings] == [
        T0 + timedelta(hours=1, seconds=30 * i) for i in range(1, 4)
    ]

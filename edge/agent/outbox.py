"""The hub's durable outbox: readings wait here until the broker has them, alarms until the server has.

SQLite in WAL mode with full sync, so a reading the agent has accepted survives
a power cut. Readings are grouped into numbered batches *before* they are
published, and the grouping is stored: after a restart the same batch goes out
again with the same ``seq``, which is what lets the server de-duplicate it.
A batch leaves the outbox when the broker acknowledges it (PUBACK). An alarm
stays after its PUBACK, marked as with the broker, until the server confirms
it has stored it (``alarm_ack``): Mosquitto acknowledges before it saves, so a
broker killed in that moment loses a message the hub believes delivered.

>>> from datetime import UTC, datetime
>>> from edge.protocol import Reading, ReadingKind
>>> box = Outbox(":memory:", hub="hub-1")
>>> t = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
>>> box.add_readings([Reading("kitchen-pir", ReadingKind.MOTION, t, 1.0)])
>>> batch = box.assign_batch(max_readings=100, sent_at=t)
>>> batch.seq, len(batch.readings), box.depth()
(1, 1, 1)
>>> box.batch_acknowledged(batch.seq)
>>> box.depth()
0
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from edge.protocol import (
    Alarm,
    AlarmKind,
    Reading,
    ReadingKind,
    ReadingsBatch,
    format_timestamp,
    parse_timestamp,
)

__all__ = ["KeptAlarm", "Outbox"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS readings (
    id INTEGER PRIMARY KEY,
    sensor TEXT NOT NULL,
    kind TEXT NOT NULL,
    ts TEXT NOT NULL,
    value REAL NOT NULL,
    batch INTEGER
);
CREATE INDEX IF NOT EXISTS readings_by_batch ON readings (batch, id);
CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY, sent_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS config (id INTEGER PRIMARY KEY CHECK (id = 1), payload BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS alarms (
    id TEXT PRIMARY KEY,
    sensor TEXT NOT NULL,
    kind TEXT NOT NULL,
    ts TEXT NOT NULL,
    acknowledged_at TEXT
);
"""


@dataclass(slots=True, frozen=True)
class KeptAlarm:
    """An alarm the server has not confirmed; ``acknowledged_at``: the broker's first PUBACK, if any."""

    alarm: Alarm
    acknowledged_at: datetime | None


class Outbox:
    """Readings and alarms not yet acknowledged by the broker, for one hub."""

    def __init__(
        self,
        path: Path | str,
        *,
        hub: str,
        first_seq: int = 1,
        max_readings: int | None = None,
    ) -> None:
        self.hub = hub
        # A bound on disk: past it the oldest readings not yet in a batch are
        # dropped (and counted); alarms never are.
        self.max_readings = max_readings
        # A hub re-installed with an empty outbox must not reuse old numbers, or
        # the server would discard its batches as duplicates: the agent starts a
        # new outbox's numbering from the wall clock.
        self._first_seq = first_seq
        # The agent owns the outbox from one thread at a time; the check only
        # stops sqlite from refusing a hand-over between threads.
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed reading is on disk before the driver is told so.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._migrate()

    def close(self) -> None:
        """Close the database; everything committed stays on disk."""
        self._db.close()

    def add_readings(self, readings: Iterable[Reading]) -> None:
        """Keep readings until they are batched, published and acknowledged."""
        rows = [(r.sensor, r.kind.value, format_timestamp(r.ts), r.value) for r in readings]
        if not rows:
            return
        with self._transaction():
            self._db.executemany(
                "INSERT INTO readings (sensor, kind, ts, value) VALUES (?, ?, ?, ?)", rows
            )
            if self.max_readings is not None:
                self._shed_beyond(self.max_readings)

    def add_alarm(self, alarm: Alarm) -> None:
        """Keep an alarm until the broker acknowledges it."""
        with self._transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO alarms (id, sensor, kind, ts) VALUES (?, ?, ?, ?)",
                (alarm.id, alarm.sensor, alarm.kind.value, format_timestamp(alarm.ts)),
            )

    def unbatched(self) -> int:
        """How many readings wait for a batch."""
        (count,) = self._db.execute("SELECT count(*) FROM readings WHERE batch IS NULL").fetchone()
        return int(count)

    def assign_batch(self, *, max_readings: int, sent_at: datetime) -> ReadingsBatch | None:
        """Put the oldest unbatched readings into the next numbered batch, durably."""
        with self._transaction():
            ids = [
                row[0]
                for row in self._db.execute(
                    "SELECT id FROM readings WHERE batch IS NULL ORDER BY id LIMIT ?",
                    (max_readings,),
                )
            ]
            if not ids:
                return None
            seq = self._next_seq()
            self._db.execute(
                "INSERT INTO batches (seq, sent_at) VALUES (?, ?)", (seq, format_timestamp(sent_at))
            )
            self._db.execute(
                "UPDATE readings SET batch = ? WHERE batch IS NULL AND id <= ?", (seq, ids[-1])
            )
        return self._batch(seq, sent_at)

    def pending_batches(self) -> list[ReadingsBatch]:
        """Batches published (or about to be) and not yet acknowledged, oldest first."""
        rows = self._db.execute("SELECT seq, sent_at FROM batches ORDER BY seq").fetchall()
        return [self._batch(seq, parse_timestamp(sent_at)) for seq, sent_at in rows]

    def batch_acknowledged(self, seq: int) -> None:
        """The broker has the batch: forget it."""
        with self._transaction():
            self._db.execute("DELETE FROM readings WHERE batch = ?", (seq,))
            self._db.execute("DELETE FROM batches WHERE seq = ?", (seq,))

    def pending_alarms(self) -> list[Alarm]:
        """Alarms the server has not confirmed, oldest first."""
        return [kept.alarm for kept in self.kept_alarms()]

    def kept_alarms(self) -> list[KeptAlarm]:
        """Alarms the server has not confirmed, oldest first, with when the broker first had each."""
        rows = self._db.execute(
            "SELECT id, sensor, kind, ts, acknowledged_at FROM alarms ORDER BY ts, id"
        ).fetchall()
        return [
            KeptAlarm(
                Alarm(self.hub, alarm_id, sensor, AlarmKind(kind), parse_timestamp(ts)),
                None if acknowledged_at is None else parse_timestamp(acknowledged_at),
            )
            for alarm_id, sensor, kind, ts, acknowledged_at in rows
        ]

    def alarm_acknowledged(self, alarm_id: str, *, at: datetime) -> None:
        """The broker has the alarm (PUBACK): keep it, marked with when it first had it."""
        with self._transaction():
            self._db.execute(
                "UPDATE alarms SET acknowledged_at = ? WHERE id = ? AND acknowledged_at IS NULL",
                (format_timestamp(at), alarm_id),
            )

    def alarm_confirmed(self, alarm_id: str) -> bool:
        """The server has stored the alarm: forget it. False if it was not kept (any more)."""
        with self._transaction():
            cursor = self._db.execute("DELETE FROM alarms WHERE id = ?", (alarm_id,))
        return cursor.rowcount > 0

    def depth(self) -> int:
        """Readings not yet acknowledged and alarms not yet confirmed."""
        (readings,) = self._db.execute("SELECT count(*) FROM readings").fetchone()
        (alarms,) = self._db.execute("SELECT count(*) FROM alarms").fetchone()
        return int(readings) + int(alarms)

    def oldest_reading(self) -> datetime | None:
        """The event time of the oldest reading not yet acknowledged."""
        (ts,) = self._db.execute("SELECT min(ts) FROM readings").fetchone()
        return None if ts is None else parse_timestamp(ts)

    def save_config(self, payload: bytes) -> None:
        """Keep the server's config, so the hub starts with it even before it connects."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO config (id, payload) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET payload = excluded.payload",
                (payload,),
            )

    def saved_config(self) -> bytes | None:
        """The server's config as last received, if any."""
        row = self._db.execute("SELECT payload FROM config WHERE id = 1").fetchone()
        return None if row is None else bytes(row[0])

    def shed(self) -> int:
        """Readings dropped because the outbox was full, since it was made."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'shed'").fetchone()
        return 0 if row is None else int(row[0])

    def _shed_beyond(self, limit: int) -> None:
        # count(*) reads the whole table, and this runs on every write: first a
        # cheap upper bound from the ids. (One min() or max() per statement, or
        # SQLite scans instead of looking the rowid up.)
        (low,) = self._db.execute("SELECT min(id) FROM readings").fetchone()
        (high,) = self._db.execute("SELECT max(id) FROM readings").fetchone()
        if low is None or high - low + 1 <= limit:
            return
        (count,) = self._db.execute("SELECT count(*) FROM readings").fetchone()
        excess = int(count) - limit
        if excess <= 0:
            return
        cursor = self._db.execute(
            "DELETE FROM readings WHERE id IN"
            " (SELECT id FROM readings WHERE batch IS NULL ORDER BY id LIMIT ?)",
            (excess,),
        )
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES ('shed', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = value + excluded.value",
            (cursor.rowcount,),
        )

    def _migrate(self) -> None:
        # Outboxes made before alarms waited for the server's confirmation have
        # no acknowledged_at: every alarm in them is still unacknowledged (the
        # old agent deleted an alarm at its PUBACK), which NULL says.
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(alarms)")}
        if "acknowledged_at" not in columns:
            with self._transaction():
                self._db.execute("ALTER TABLE alarms ADD COLUMN acknowledged_at TEXT")

    def _batch(self, seq: int, sent_at: datetime) -> ReadingsBatch:
        rows = self._db.execute(
            "SELECT sensor, kind, ts, value FROM readings WHERE batch = ? ORDER BY id", (seq,)
        )
        readings = tuple(
            Reading(sensor, ReadingKind(kind), parse_timestamp(ts), value)
            for sensor, kind, ts, value in rows
        )
        return ReadingsBatch(hub=self.hub, seq=seq, sent_at=sent_at, readings=readings)

    def _next_seq(self) -> int:
        # seq survives restarts and never goes back, even when the outbox empties.
        row = self._db.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()
        seq = self._first_seq if row is None else int(row[0])
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES ('next_seq', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (seq + 1,),
        )
        return seq

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")

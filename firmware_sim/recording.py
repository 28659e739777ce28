"""The recording format: homes' streams and their ground truth on disk (docs/recording-format.md).

A recording is a directory::

    trial.json          what was recorded: format, start, end, homes (id, time zone, sensors)
    homes/<home>.jsonl  one home's stream, one JSON object per line, in event-time order
    labels.jsonl        ground truth, one incident per line (absent for real homes)

The simulator writes it and the evaluation reads it; recordings of real homes
converted to it evaluate the same way. The format is versioned
(``carewatch-recording/1``); a reader refuses a version it does not know.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from edge.protocol import (
    AlarmKind,
    ProtocolError,
    Reading,
    ReadingKind,
    SensorHealth,
    format_timestamp,
    parse_timestamp,
)
from firmware_sim.incidents import IncidentLabel

__all__ = [
    "FORMAT",
    "HomeEntry",
    "Record",
    "RecordedAlarm",
    "RecordedReading",
    "RecordedStatus",
    "Recording",
    "RecordingError",
    "StreamWriter",
    "format_epoch",
    "label_line",
    "read_labels",
    "read_recording",
    "read_stream",
]

FORMAT = "carewatch-recording/1"


class RecordingError(ValueError):
    """A recording that cannot be read, with the file and line."""


def format_epoch(ts: float) -> str:
    """Epoch seconds as the wire contract's RFC 3339 UTC with milliseconds.

    >>> format_epoch(1795510800.125)
    '2026-11-24T09:00:00.125Z'
    """
    seconds, ms = divmod(round(ts * 1000), 1000)
    minute, second = divmod(seconds, 60)
    prefix = _minutes.get(minute)
    if prefix is None:
        if len(_minutes) > 200_000:
            _minutes.clear()
        y, mo, d, h, mi = time.gmtime(seconds)[:5]
        prefix = _minutes[minute] = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:"
    return f"{prefix}{second:02d}.{ms:03d}Z"


# Formatting the date and hour is the slow part, and a minute often has several readings.
_minutes: dict[int, str] = {}


@dataclass(slots=True, frozen=True)
class RecordedReading:
    """A reading, and when the server got it (later than its event time after an outage)."""

    reading: Reading
    received: datetime


@dataclass(slots=True, frozen=True)
class RecordedAlarm:
    """An alarm as the hub sent it."""

    sensor: str
    kind: AlarmKind
    ts: datetime
    received: datetime


@dataclass(slots=True, frozen=True)
class RecordedStatus:
    """The hub came online (or sent a heartbeat), or went offline, at ``ts``."""

    ts: datetime
    online: bool
    sensors: tuple[SensorHealth, ...] = ()


Record = RecordedReading | RecordedAlarm | RecordedStatus


@dataclass(slots=True, frozen=True)
class HomeEntry:
    """One home of a recording."""

    home: str
    timezone: str
    stream: Path
    persona: str | None
    sensors: tuple[SensorHealth, ...]


@dataclass(slots=True, frozen=True)
class Recording:
    """A recording's manifest."""

    path: Path
    start: datetime
    end: datetime
    homes: tuple[HomeEntry, ...]
    labels: Path | None
    meta: dict[str, Any]


class StreamWriter:
    """Writes one home's stream. Times are epoch seconds; lines are built by hand for speed."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._lines: list[str] = []
        self.lines = 0

    def reading(
        self, ts: float, sensor: str, kind: str, value: float, received: float | None = None
    ) -> None:
        """A reading; ``received`` only when the server got it later (after an outage)."""
        late = "" if received is None else f',"received":"{format_epoch(received)}"'
        self._lines.append(
            f'{{"type":"reading","ts":"{format_epoch(ts)}","sensor":"{sensor}",'
            f'"kind":"{kind}","value":{value}{late}}}\n'
        )

    def alarm(self, ts: float, sensor: str, kind: str, received: float | None = None) -> None:
        """An alarm."""
        late = "" if received is None else f',"received":"{format_epoch(received)}"'
        self._lines.append(
            f'{{"type":"alarm","ts":"{format_epoch(ts)}","sensor":"{sensor}","kind":"{kind}"{late}}}\n'
        )

    def status(
        self, ts: float, online: bool, sensors: Sequence[tuple[str, float | None, float]] = ()
    ) -> None:
        """A heartbeat (``online``, with the sensors' battery and link) or the hub going offline."""
        health = ",".join(
            f'{{"sensor":"{s}","battery":{"null" if b is None else b},"link":{round(q)}}}'
            for s, b, q in sensors
        )
        state = "online" if online else "offline"
        self._lines.append(
            f'{{"type":"status","ts":"{format_epoch(ts)}","status":"{state}","sensors":[{health}]}}\n'
        )

    def flush(self) -> None:
        """Write what is buffered (a day's lines at a time is the fast way)."""
        self.lines += len(self._lines)
        self._out.write("".join(self._lines))
        self._lines.clear()


def label_line(label: IncidentLabel) -> str:
    """One line of labels.jsonl."""
    return json.dumps(
        {
            "home": label.home,
            "kind": label.kind,
            "start": format_timestamp(label.start),
            "end": None if label.end is None else format_timestamp(label.end),
            "detail": label.detail,
        }
    )


def _fail(path: Path, line: int, why: str) -> RecordingError:
    return RecordingError(f"{path}, line {line}: {why}")


def read_stream(path: Path) -> Iterator[Record]:
    """A home's stream, record by record; a bad line is a :class:`RecordingError`."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                yield _record(item)
            except (ValueError, KeyError, TypeError, ProtocolError) as exc:
                raise _fail(path, number, str(exc) or type(exc).__name__) from None


def _record(item: dict[str, Any]) -> Record:
    kind = item["type"]
    ts = parse_timestamp(item["ts"])
    received = parse_timestamp(item["received"]) if item.get("received") else ts
    if kind == "reading":
        reading = Reading(item["sensor"], ReadingKind(item["kind"]), ts, float(item["value"]))
        return RecordedReading(reading, received)
    if kind == "alarm":
        return RecordedAlarm(item["sensor"], AlarmKind(item["kind"]), ts, received)
    if kind == "status":
        sensors = tuple(
            SensorHealth(
                s["sensor"], s.get("kind", ""), s.get("room"), s.get("battery"), s.get("link")
            )
            for s in item.get("sensors", ())
        )
        return RecordedStatus(ts, item["status"] == "online", sensors)
    raise ValueError(f"unknown record type {kind!r} (reading, alarm or status)")


def read_labels(path: Path) -> list[IncidentLabel]:
    """Every label of a recording."""
    labels: list[IncidentLabel] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                end = item.get("end")
                labels.append(
                    IncidentLabel(
                        item["kind"],
                        item["home"],
                        parse_timestamp(item["start"]),
                        None if end is None else parse_timestamp(end),
                        item.get("detail", ""),
                    )
                )
            except (ValueError, KeyError, TypeError, ProtocolError) as exc:
                raise _fail(path, number, str(exc)) from None
    return labels


def read_recording(path: Path) -> Recording:
    """A recording's manifest (``trial.json``), checked against the format version."""
    manifest = path / "trial.json"
    try:
        meta = json.loads(manifest.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RecordingError(f"{manifest}: {exc.strerror}; is {path} a recording?") from None
    except ValueError as exc:
        raise RecordingError(f"{manifest} is not JSON: {exc}") from None
    if meta.get("format") != FORMAT:
        raise RecordingError(f"{manifest}: format {meta.get('format')!r}, expected {FORMAT!r}")
    try:
        homes = tuple(
            HomeEntry(
                home=h["home"],
                timezone=h["timezone"],
                stream=path / h["stream"],
                persona=h.get("persona"),
                sensors=tuple(
                    SensorHealth(s["sensor"], s["kind"], s.get("room")) for s in h["sensors"]
                ),
            )
            for h in meta["homes"]
        )
        start, end = parse_timestamp(meta["start"]), parse_timestamp(meta["end"])
    except (KeyError, TypeError, ProtocolError) as exc:
        raise RecordingError(f"{manifest}: {exc}") from None
    labels = path / "labels.jsonl"
    return Recording(path, start, end, homes, labels if labels.exists() else None, meta)

"""A reading as the routine functions take it: a sensor, its kind, when, and its value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from edge.protocol import Reading

__all__ = ["Activity"]


@dataclass(frozen=True, slots=True)
class Activity:
    """One sensor reading; ``kind`` is a :class:`edge.protocol.ReadingKind` value.

    ``ts`` must be timezone-aware; it is kept in UTC, so that differences are
    elapsed time even across a clock change.
    """

    sensor: str
    kind: str
    ts: datetime
    value: float

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None or self.ts.utcoffset() is None:
            raise ValueError(f"{self.sensor}: a reading's time must be timezone-aware")
        if self.ts.tzinfo is not UTC:
            object.__setattr__(self, "ts", self.ts.astimezone(UTC))

    @classmethod
    def of(cls, reading: Reading) -> Activity:
        """The activity of a wire-contract reading."""
        return cls(reading.sensor, reading.kind.value, reading.ts, reading.value)

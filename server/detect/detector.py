"""What every detector set offers whoever drives it: the server's ingest, the evaluation.

:class:`server.detect.watch.HomeWatch` (carewatch's detectors, one module per
concern behind it) and the evaluation's baselines (``server.evaluation.baselines``,
``server.detect.inactivity``) all meet it. Pure: readings and watermarks in,
findings out; nothing here knows a clock, a broker or a database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from edge.protocol import Reading
from server.domain.findings import Finding

__all__ = ["Detector"]


class Detector(Protocol):
    """What the evaluation drives: carewatch's detectors, or a baseline."""

    def set_timezone(self, hub: str, zone: ZoneInfo) -> None:
        """The resident's local time zone."""
        ...

    def observe(self, hub: str, reading: Reading) -> list[Finding]:
        """One reading, in arrival order."""
        ...

    def advance(self, hub: str, watermark: datetime) -> list[Finding]:
        """Everything up to ``watermark`` has arrived."""
        ...

"""Prometheus metrics for ingest: what came in, what was stored or refused, how fast, how late.

One registry per server, so that several servers in one process (tests) keep
their own counts. Labels never carry a hub id or a resident: the metrics page
holds no personal data and its size does not grow with the fleet.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["IngestMetrics", "dead_letter_category"]


def dead_letter_category(reason: str) -> str:
    """A small, fixed set of reasons for the metric's label.

    >>> dead_letter_category("hub 'hub-9' is not provisioned (add it with: ...)")
    'unprovisioned'
    """
    checks = (
        ("not provisioned", "unprovisioned"),
        ("byte limit", "too_large"),
        ("not UTF-8", "not_utf8"),
        ("not JSON", "not_json"),
        ("in the future", "future_timestamp"),
        ("timestamp", "bad_timestamp"),
        ("topic", "bad_topic"),
    )
    for needle, category in checks:
        if needle in reason:
            return category
    return "invalid"


class IngestMetrics:
    """The counters, histograms and gauges of one server."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "carewatch_messages", "MQTT messages received", ["channel"], registry=self.registry
        )
        self.readings_stored = Counter(
            "carewatch_readings_stored",
            "Readings committed to the database",
            registry=self.registry,
        )
        self.duplicate_batches = Counter(
            "carewatch_duplicate_batches",
            "Batches received again and not stored twice",
            registry=self.registry,
        )
        self.alarm_confirmations = Counter(
            "carewatch_alarm_confirmations",
            "Confirmations to hubs that an alarm is stored: sent, or not sent (broker away)",
            ["outcome"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "carewatch_dead_letters", "Messages refused", ["reason"], registry=self.registry
        )
        self.flush_readings = Histogram(
            "carewatch_flush_readings",
            "Readings written per database flush",
            buckets=(1, 10, 50, 100, 500, 1_000, 5_000, 10_000),
            registry=self.registry,
        )
        self.flush_seconds = Histogram(
            "carewatch_flush_seconds",
            "Time to commit one flush",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
            registry=self.registry,
        )
        self.ingest_lag = Histogram(
            "carewatch_ingest_lag_seconds",
            "Receive time minus event time of each reading (hub buffering shows here)",
            buckets=(0.5, 1, 5, 15, 60, 300, 900, 3_600, 21_600, 86_400),
            registry=self.registry,
        )
        self.alarm_seconds = Histogram(
            "carewatch_alarm_seconds",
            "From an alarm's receipt by the server to its emergency committed",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.loop_lag = Histogram(
            "carewatch_event_loop_lag_seconds",
            "How late the event loop that reads alarms ran a timer (work holding it shows here)",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.gc_seconds = Histogram(
            "carewatch_gc_seconds",
            "Garbage collections by generation, and how long each held the process",
            ["generation"],
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.broker_connected = Gauge(
            "carewatch_broker_connected",
            "1 while the MQTT session is up",
            ["session"],
            registry=self.registry,
        )
        self.writer_queue = Gauge(
            "carewatch_writer_queued_batches",
            "Batches received and waiting to be written",
            registry=self.registry,
        )

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)

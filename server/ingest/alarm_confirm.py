"""Tell a hub that its alarm is stored, so that it lets the alarm go.

A hub keeps an alarm in its outbox until it hears this: the broker's PUBACK
does not do, as Mosquitto acknowledges before it saves. Sent after the alarm
is committed, for a redelivered alarm already stored too (the hub may have
missed the first confirmation). Sent without waiting for the broker's PUBACK,
on the alarm session's own connection, so that confirming never delays the
next alarm; a confirmation that does not arrive costs only a re-send from
the hub, confirmed again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from edge.protocol import Alarm, AlarmAck, alarm_ack_topic, encode
from server.metrics import IngestMetrics

__all__ = ["AlarmConfirmer"]

log = logging.getLogger(__name__)

# (topic, payload) -> whether it went out; e.g. MqttConsumer.publish_nowait.
Send = Callable[[str, bytes], bool]


class AlarmConfirmer:
    """Publishes ``alarm_ack`` for each stored alarm through ``send``."""

    def __init__(
        self,
        send: Send,
        *,
        metrics: IngestMetrics | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._send = send
        self._clock = clock
        self._metrics = metrics or IngestMetrics()

    def stored(self, alarm: Alarm) -> None:
        """``alarm`` is in the database (now or before): tell its hub."""
        topic = alarm_ack_topic(alarm.hub)
        if self._send(topic, encode(AlarmAck(alarm.hub, (alarm.id,), ts=self._clock()))):
            self._metrics.alarm_confirmations.labels("sent").inc()
            return
        self._metrics.alarm_confirmations.labels("not_sent").inc()
        log.info(
            "could not confirm alarm %s to hub %s now (broker away); the hub will send it again",
            alarm.id,
            alarm.hub,
        )

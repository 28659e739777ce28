"""An alarm's way from the hub's outbox to the server's confirmation. Decides; the agent sends.

The broker's PUBACK is not enough to let an alarm go: Mosquitto acknowledges a
message before it saves it, so a broker killed in that moment loses an alarm
the hub believed delivered. So an alarm stays in the outbox until the server
says it stored it (``alarm_ack``), goes out again with the same id on every
reconnect and whenever :class:`AlarmResend` says, and the server drops what it
already has by (hub, id). Time is passed in: monotonic seconds pace the sends,
the hub's clock dates the broker's first PUBACK (kept on disk, so a restart
does not start the give-up period again).

>>> from datetime import UTC, datetime, timedelta
>>> from edge.protocol import Alarm, AlarmKind
>>> t = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
>>> courier = AlarmCourier(Outbox(":memory:", hub="hub-1"), AlarmResend(first_s=30.0))
>>> courier.raised(Alarm("hub-1", "a-1", "pendant", AlarmKind.PENDANT, t))
>>> courier.published("a-1", now_s=0.0); courier.acknowledged("a-1", now=t)
>>> [a.id for a in courier.due(now_s=10.0, now=t)], [a.id for a in courier.due(now_s=30.0, now=t)]
([], ['a-1'])
>>> courier.confirmed(("a-1",)), courier.due(now_s=60.0, now=t)
(['a-1'], [])
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from edge.agent.outbox import Outbox
from edge.agent.schedule import AlarmResend
from edge.protocol import Alarm, format_timestamp

__all__ = ["AlarmCourier"]

log = logging.getLogger(__name__)


class AlarmCourier:
    """Keeps each alarm until the server confirms it; says which to send (again) and when."""

    def __init__(self, outbox: Outbox, resend: AlarmResend) -> None:
        self._outbox = outbox
        self._resend = resend

    def raised(self, alarm: Alarm) -> None:
        """A new alarm: on disk before anything else happens to it."""
        self._outbox.add_alarm(alarm)

    def reconnected(self) -> list[Alarm]:
        """A new session: every unconfirmed alarm goes out again now, oldest first."""
        self._resend.reset()
        return self._outbox.pending_alarms()

    def due(self, *, now_s: float, now: datetime) -> list[Alarm]:
        """Unconfirmed alarms to send (again) now, oldest first; the long unconfirmed are let go."""
        waiting = []
        for kept in self._outbox.kept_alarms():
            if self._resend.expired(kept.acknowledged_at, now=now):
                self._let_go(kept.alarm, kept.acknowledged_at)
            else:
                waiting.append(kept.alarm)
        due = set(self._resend.due([alarm.id for alarm in waiting], now=now_s))
        return [alarm for alarm in waiting if alarm.id in due]

    def published(self, alarm_id: str, *, now_s: float) -> None:
        """The alarm went to the broker at ``now_s``."""
        self._resend.sent(alarm_id, now=now_s)

    def acknowledged(self, alarm_id: str, *, now: datetime) -> None:
        """The broker's PUBACK for the alarm: kept still, dated for the give-up period."""
        self._outbox.alarm_acknowledged(alarm_id, at=now)

    def confirmed(self, alarm_ids: Iterable[str]) -> list[str]:
        """The server has stored these: they leave the outbox. Returns those that were kept."""
        done = []
        for alarm_id in alarm_ids:
            self._resend.forget(alarm_id)
            if self._outbox.alarm_confirmed(alarm_id):
                done.append(alarm_id)
        return done

    def _let_go(self, alarm: Alarm, acknowledged_at: datetime | None) -> None:
        # A server that never confirms is of a version from before confirmations;
        # the broker has had this alarm (and every copy sent since) all along.
        assert acknowledged_at is not None
        log.warning(
            "alarm %s (%s) not confirmed by the server since the broker had it at %s; "
            "letting it go on the broker's acknowledgement (is the server older than the hub?)",
            alarm.id,
            alarm.sensor,
            format_timestamp(acknowledged_at),
        )
        self._resend.forget(alarm.id)
        self._outbox.alarm_confirmed(alarm.id)

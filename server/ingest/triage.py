"""Decide what an incoming message is: a valid message from a known hub, or a dead letter.

Pure: handed the topic, payload, receive time and a provisioning check. It also
judges the hub's clock against the server's receive time, reading by reading:
a home's detector takes the newest event time it has seen as that home's "now",
so one reading stamped hours ahead would make every real reading after it look
old and leave the home unwatched.

>>> from edge.protocol import Reading, ReadingKind, ReadingsBatch, encode, readings_topic
>>> now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
>>> batch = ReadingsBatch("hub-1", 7, now, (
...     Reading("hall-pir", ReadingKind.MOTION, now - timedelta(seconds=30), 1.0),
...     Reading("hall-pir", ReadingKind.MOTION, now + timedelta(hours=23), 1.0)))
>>> outcome = triage(readings_topic("hub-1"), encode(batch), received_at=now,
...     is_provisioned=lambda hub: True)
>>> [r.ts.time().isoformat() for r in outcome.message.readings]
['09:59:30']
>>> print(outcome.refused.reason)  # doctest: +ELLIPSIS
1 reading of batch 7 refused for the hub's clock, stamped in the future ... or before 2000: readings[1] hall-pir at 2026-11-23T09:00:00.000Z, 23 h 0 min ahead. Check the hub's clock; the batch's other 1 reading went on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from edge.protocol import (
    Alarm,
    AlarmAck,
    Channel,
    HubConfig,
    HubStatus,
    ProtocolError,
    Reading,
    ReadingsBatch,
    encode,
    format_timestamp,
    parse_message,
    parse_topic,
)
from server.store.dead_letters import DeadLetter

__all__ = ["CLOCK_TOLERANCE", "EARLIEST_PLAUSIBLE", "Accepted", "Ignored", "triage"]

# How far ahead of the server's receive time an event time may be. Hubs keep
# NTP time (well under a second off), and the server's clock is NTP too; five
# minutes also covers a hub just booted whose clock is being stepped, without
# letting a wrong clock move a home's "now" far enough to hide a silence (the
# shortest silence the detector raises is far longer than five minutes).
CLOCK_TOLERANCE: Final = timedelta(minutes=5)
# A hub without a real-time clock starts at 1970 until NTP answers: nothing
# stamped before this came from a clock that was set.
EARLIEST_PLAUSIBLE: Final = datetime(2000, 1, 1, tzinfo=UTC)

# What the server publishes to hubs: a subscription wide enough to see it (carewatch/v1/hubs/#)
# reads it back, and it is neither a hub's message nor a dead letter.
_SERVERS_OWN: Final = frozenset({Channel.CONFIG, Channel.ALARM_ACK})

# Enough of the refused readings named in a reason for an installer to see the pattern.
_NAMED_IN_REASON = 5


class Ignored:
    """Messages the server sends itself (hub config, alarm confirmations) and may read back."""


IGNORED = Ignored()


@dataclass(slots=True, frozen=True)
class Accepted:
    """A valid message with its times judged against the server's clock.

    ``refused`` holds readings split off a batch because of the hub's clock;
    ``note`` says what was corrected (an alarm or a status taken at the receive time).
    """

    message: ReadingsBatch | Alarm | HubStatus
    refused: DeadLetter | None = None
    note: str | None = None


def triage(
    topic: str,
    payload: bytes,
    *,
    received_at: datetime,
    is_provisioned: Callable[[str], bool],
) -> Accepted | DeadLetter | Ignored:
    """Validate one message; refuse it with a reason if invalid or from an unknown hub."""
    try:
        hub, channel = parse_topic(topic)
    except ProtocolError as exc:
        return DeadLetter(received_at, topic, exc.hub, exc.reason, payload)
    if channel in _SERVERS_OWN:
        return IGNORED
    if not is_provisioned(hub):
        reason = (
            f"hub {hub!r} is not provisioned (add it with: carewatch hub add {hub} --resident NAME)"
        )
        return DeadLetter(received_at, topic, hub, reason, payload)
    try:
        message = parse_message(topic, payload)
    except ProtocolError as exc:
        return DeadLetter(received_at, topic, hub, exc.reason, payload)
    assert not isinstance(message, HubConfig | AlarmAck)
    return _judge_clock(message, topic, received_at)


def _judge_clock(
    message: ReadingsBatch | Alarm | HubStatus, topic: str, received_at: datetime
) -> Accepted:
    latest = received_at + CLOCK_TOLERANCE
    match message:
        case ReadingsBatch():
            return _split_batch(message, topic, received_at)
        case Alarm() if not EARLIEST_PLAUSIBLE <= message.ts <= latest:
            # An alarm is never refused for the hub's clock: it is raised as of now.
            note = (
                f"alarm {message.id} ({message.sensor}) stamped {format_timestamp(message.ts)}, "
                f"{_offset(message.ts, received_at)}; raised at the server's time "
                f"{format_timestamp(received_at)} "
                "(check the hub's clock)"
            )
            return Accepted(dataclasses.replace(message, ts=received_at), note=note)
        case HubStatus() if message.ts > latest or (
            message.watermark is not None and message.watermark > latest
        ):
            # A watermark ahead would tell the detector that time has passed which
            # has not; both are taken as of now, the heartbeat itself still counts.
            watermark = message.watermark
            if watermark is not None and watermark > latest:
                watermark = received_at
            note = (
                f"status stamped {format_timestamp(message.ts)}"
                + (
                    f", watermark {format_timestamp(message.watermark)}"
                    if message.watermark is not None
                    else ""
                )
                + f": taken at the server's time {format_timestamp(received_at)} (check the hub's clock)"
            )
            return Accepted(
                dataclasses.replace(message, ts=min(message.ts, received_at), watermark=watermark),
                note=note,
            )
    return Accepted(message)


def _split_batch(batch: ReadingsBatch, topic: str, received_at: datetime) -> Accepted:
    """Split off readings the hub's clock cannot have stamped; the rest go on under the batch's seq."""
    latest = received_at + CLOCK_TOLERANCE
    good: list[Reading] = []
    bad: list[tuple[int, Reading]] = []
    for index, reading in enumerate(batch.readings):
        if EARLIEST_PLAUSIBLE <= reading.ts <= latest:
            good.append(reading)
        else:
            bad.append((index, reading))
    note = None
    sent_at = batch.sent_at
    if not EARLIEST_PLAUSIBLE <= sent_at <= latest:
        note = f"batch {batch.seq} sent_at {format_timestamp(sent_at)}: taken as the receive time"
        sent_at = received_at
    refused = None
    if bad:
        named = "; ".join(
            f"readings[{i}] {r.sensor} at {format_timestamp(r.ts)}, {_offset(r.ts, received_at)}"
            for i, r in bad[:_NAMED_IN_REASON]
        )
        if len(bad) > _NAMED_IN_REASON:
            named += f"; and {len(bad) - _NAMED_IN_REASON} more"
        reason = (
            f"{_readings(len(bad))} of batch {batch.seq} refused for the hub's clock, stamped in "
            f"the future (over {_duration(CLOCK_TOLERANCE)} ahead of the server's time "
            f"{format_timestamp(received_at)}) or before {EARLIEST_PLAUSIBLE:%Y}: {named}. "
            f"Check the hub's clock; the batch's other {_readings(len(good))} went on."
        )
        # What is kept is exactly what was refused, so the excerpt shows it.
        refused_batch = dataclasses.replace(batch, readings=tuple(r for _, r in bad))
        refused = DeadLetter(received_at, topic, batch.hub, reason, encode(refused_batch))
    return Accepted(
        dataclasses.replace(batch, sent_at=sent_at, readings=tuple(good)), refused, note
    )


def _readings(count: int) -> str:
    return f"{count} reading{'' if count == 1 else 's'}"


def _offset(ts: datetime, received_at: datetime) -> str:
    """How far an event time is from the receive time, in words."""
    if ts < EARLIEST_PLAUSIBLE:
        return f"before {EARLIEST_PLAUSIBLE:%Y}"
    return f"{_duration(ts - received_at)} ahead"


def _duration(delta: timedelta) -> str:
    """'3 d 2 h', '23 h 0 min' or '7 min'."""
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"

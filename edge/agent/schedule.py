"""When the agent sends: batches by size or age, heartbeats by interval, alarms again until confirmed.

Pure; time is passed in.

>>> policy = FlushPolicy(max_readings=3, max_delay_s=2.0)
>>> policy.due(waiting=1, waiting_since=10.0, now=11.0), policy.due(waiting=1, waiting_since=10.0, now=12.0)
(False, True)
>>> policy.due(waiting=3, waiting_since=10.0, now=10.0)
True
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["AlarmResend", "Backoff", "FlushPolicy", "HeartbeatSchedule"]


@dataclass(slots=True, frozen=True)
class FlushPolicy:
    """Publish a batch once ``max_readings`` wait, or the oldest has waited ``max_delay_s``."""

    max_readings: int = 500
    max_delay_s: float = 1.0

    def due(self, *, waiting: int, waiting_since: float | None, now: float) -> bool:
        """Whether to publish now; times are monotonic seconds."""
        if waiting >= self.max_readings:
            return True
        return waiting > 0 and waiting_since is not None and now - waiting_since >= self.max_delay_s


class HeartbeatSchedule:
    """A heartbeat every ``interval`` of the hub's clock, and one at once after (re)connecting.

    >>> from datetime import UTC, datetime, timedelta
    >>> beat = HeartbeatSchedule(timedelta(seconds=60))
    >>> t = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    >>> beat.due(t)
    True
    >>> beat.sent(t); beat.due(t + timedelta(seconds=59)), beat.due(t + timedelta(seconds=60))
    (False, True)
    """

    def __init__(self, interval: timedelta) -> None:
        self.interval = interval
        self._last: datetime | None = None

    def due(self, now: datetime) -> bool:
        """Whether a heartbeat is due at ``now``."""
        return self._last is None or now - self._last >= self.interval or now < self._last

    def sent(self, now: datetime) -> None:
        """A heartbeat went out at ``now``."""
        self._last = now

    def reset(self) -> None:
        """Send the next heartbeat at once (after a reconnect)."""
        self._last = None


class Backoff:
    """Reconnect delays that grow and spread: exponential, capped, with full jitter.

    After a regional outage thousands of hubs come back at once; jitter keeps
    them from knocking on the broker in step. ``random`` is passed in.

    >>> import random
    >>> backoff = Backoff(initial_s=1.0, cap_s=60.0)
    >>> delays = [backoff.next_delay(random.Random(7)) for _ in range(8)]
    >>> all(0.5 <= d <= 60.0 for d in delays) and delays[-1] <= 60.0
    True
    """

    def __init__(self, *, initial_s: float = 1.0, cap_s: float = 60.0) -> None:
        self.initial_s = initial_s
        self.cap_s = cap_s
        self._attempt = 0

    def next_delay(self, rng: random.Random) -> float:
        """The wait before the next attempt; each failure doubles its ceiling, up to the cap."""
        ceiling = min(self.cap_s, self.initial_s * 2**self._attempt)
        self._attempt += 1
        # At least half the initial delay, so a flapping link never spins.
        return max(self.initial_s / 2, rng.uniform(0, ceiling))

    def reset(self) -> None:
        """Connected again: start small next time."""
        self._attempt = 0


class AlarmResend:
    """When an alarm the server has not confirmed goes out again, and when the hub lets it go.

    Sent again ``first_s`` after a send, the wait doubling up to ``cap_s``: a
    broker that lost the alarm is covered within seconds of it being back
    (a reconnect sends everything at once anyway), and a server away for
    hours is not sent hundreds of copies. ``give_up_after`` of the broker's
    PUBACKs without a confirmation (a server of a version that never
    confirms), the alarm is left to the broker's word, as before confirmation
    existed. Times are monotonic seconds for sending, the hub's clock for
    giving up, which must survive a restart.

    >>> resend = AlarmResend(first_s=30.0, cap_s=120.0)
    >>> resend.sent("a-1", now=0.0)
    >>> resend.due(["a-1"], now=29.0), resend.due(["a-1"], now=30.0)
    ([], ['a-1'])
    >>> resend.sent("a-1", now=30.0); resend.due(["a-1"], now=89.0), resend.due(["a-1"], now=90.0)
    ([], ['a-1'])
    >>> resend.due(["never-sent"], now=0.0)
    ['never-sent']
    """

    def __init__(
        self,
        *,
        first_s: float = 30.0,
        cap_s: float = 5 * 60.0,
        give_up_after: timedelta = timedelta(hours=24),
    ) -> None:
        self.first_s = first_s
        self.cap_s = cap_s
        self.give_up_after = give_up_after
        # alarm id -> (monotonic time of the last send, sends since the last reconnect)
        self._sent: dict[str, tuple[float, int]] = {}

    def sent(self, alarm_id: str, *, now: float) -> None:
        """The alarm was published at ``now``."""
        _, sends = self._sent.get(alarm_id, (now, 0))
        self._sent[alarm_id] = (now, sends + 1)

    def due(self, alarm_ids: list[str], *, now: float) -> list[str]:
        """Which of the unconfirmed ``alarm_ids`` to send at ``now`` (an alarm never sent: at once)."""
        due = []
        for alarm_id in alarm_ids:
            last = self._sent.get(alarm_id)
            if last is None or now - last[0] >= self._wait(last[1]) or now < last[0]:
                due.append(alarm_id)
        return due

    def expired(self, acknowledged_at: datetime | None, *, now: datetime) -> bool:
        """Whether an alarm the broker acknowledged at ``acknowledged_at`` is to be let go."""
        return acknowledged_at is not None and now - acknowledged_at >= self.give_up_after

    def forget(self, alarm_id: str) -> None:
        """The alarm is confirmed (or let go): no more sends."""
        self._sent.pop(alarm_id, None)

    def reset(self) -> None:
        """A new session: everything goes at once, then waits start small again."""
        self._sent.clear()

    def _wait(self, sends: int) -> float:
        return min(self.cap_s, self.first_s * 2.0 ** max(0, sends - 1))

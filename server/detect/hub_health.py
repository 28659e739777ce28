"""Is each hub still talking to us? A broadband outage is a technical alert, never "no movement".

Judged on the server's clock (it is about the connection, not the resident):
a hub whose last will says offline for longer than ``grace``, or that has
sent nothing for ``silence_limit`` although it claims to be online (a
half-open connection), raises ``hub_offline`` for the installers' queue. The
alert clears by itself when the hub is back. Meanwhile the inactivity
detector waits, because the hub's watermark does not move.

>>> from datetime import UTC, datetime, timedelta
>>> health = HubHealth()
>>> t = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
>>> health.check("hub-1", state="offline", last_seen=t, now=t + timedelta(minutes=5))
[]
>>> [f.kind.value for f in health.check("hub-1", state="offline", last_seen=t, now=t + timedelta(minutes=11))]
['hub_offline']
>>> [type(f).__name__ for f in health.check("hub-1", state="online", last_seen=t + timedelta(minutes=40), now=t + timedelta(minutes=40))]
['Cleared']
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from server.detect.inactivity import format_duration
from server.domain.alerts import AlertKind
from server.domain.findings import Cleared, Condition, Finding

__all__ = ["HubHealth"]


class HubHealth:
    """Remembers which hubs it has reported offline, so each outage raises once."""

    def __init__(
        self,
        *,
        grace: timedelta = timedelta(minutes=10),
        silence_limit: timedelta = timedelta(minutes=15),
    ) -> None:
        self.grace = grace
        self.silence_limit = silence_limit
        self._offline: set[str] = set()

    def restore(self, hubs: Iterable[str]) -> None:
        """Hubs with an active offline alert, so a restart does not raise them again."""
        self._offline.update(hubs)

    def quiet_since(self, now: datetime) -> datetime:
        """Hubs last seen after this have nothing to raise at ``now``: only earlier ones are asked.

        >>> from datetime import UTC
        >>> t = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
        >>> HubHealth().quiet_since(t).time().isoformat()
        '13:50:00'
        """
        return now - min(self.grace, self.silence_limit)

    @property
    def reported(self) -> frozenset[str]:
        """The hubs reported offline now: each is asked again until it is back, to clear."""
        return frozenset(self._offline)

    def check(
        self, hub: str, *, state: str | None, last_seen: datetime | None, now: datetime
    ) -> list[Finding]:
        """Findings for one hub at ``now``: raised once per outage, cleared when it is back."""
        if last_seen is None:
            return []  # provisioned, never installed: nothing to miss yet
        quiet = now - last_seen
        gone = (state == "offline" and quiet >= self.grace) or quiet >= self.silence_limit
        if gone and hub not in self._offline:
            self._offline.add(hub)
            why = "said goodbye (last will)" if state == "offline" else "stopped sending heartbeats"
            return [
                Condition(
                    hub=hub,
                    kind=AlertKind.HUB_OFFLINE,
                    event_at=last_seen,
                    reason=(
                        f"Hub {hub} has been offline for {format_duration(quiet)}: it {why}. "
                        "No readings arrive, so no-movement checks for this home are paused. "
                        "Likely broadband or power: check the router, or call the resident."
                    ),
                    details={"state": state, "last_seen": last_seen.isoformat()},
                )
            ]
        if not gone and state == "online" and hub in self._offline:
            self._offline.discard(hub)
            return [
                Cleared(
                    hub=hub,
                    kind=AlertKind.HUB_OFFLINE,
                    event_at=last_seen,
                    reason=f"Hub {hub} is back online.",
                )
            ]
        return []

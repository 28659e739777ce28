"""Keeps the detectors' memory in PostgreSQL, and tells them about "away" and feedback.

At start each home is restored from its checkpoint (or, for a home never
checkpointed, from its latest readings and open alerts), and the readings
stored after that checkpoint are folded in again and acted on (movement
after a raised silence clears it). Then, every few
seconds: the homes that changed are saved, residents' "away" settings are
read, and alerts people closed as false alarms or "resident away" are fed
back, each once (the detector remembers the last it has learned from).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from server.detect.home_state import CheckpointError
from server.detect.inactivity import room_of
from server.detect.watch import HomeWatch
from server.domain.alerts import AlertKind
from server.domain.findings import Finding
from server.jobs.periodic import every
from server.store.detector_state import (
    away_by_hub,
    feedback_since,
    load_checkpoints,
    readings_received_since,
    save_checkpoints,
)
from server.store.pool import Pool
from server.store.readings import last_seen_by_hub

__all__ = ["DetectorKeeper"]

log = logging.getLogger(__name__)

# Silences that a restart must not raise a second time.
_SILENCE_KINDS = (AlertKind.NO_MOVEMENT.value, AlertKind.NOT_UP.value)


class DetectorKeeper:
    """Restores :class:`HomeWatch` at start and checkpoints it every ``interval_s``."""

    def __init__(
        self,
        pool: Pool,
        detector: HomeWatch,
        *,
        interval_s: float = 30.0,
        on_findings: Callable[[str, list[Finding]], Awaitable[None]] | None = None,
    ) -> None:
        self._pool = pool
        self._detector = detector
        self._on_findings = on_findings
        self._interval_s = interval_s
        self._feedback_until: datetime | None = None

    async def start(self) -> None:
        """Restore every home before the first reading is observed."""
        async with self._pool.connection() as conn:
            checkpoints = await load_checkpoints(conn)
            seen = await last_seen_by_hub(conn)
            cursor = await conn.execute(
                "SELECT hub_id, kind FROM alerts WHERE kind = ANY(%s) AND status <> 'resolved'"
                " AND hub_id IS NOT NULL",
                (list(_SILENCE_KINDS),),
            )
            raised = {hub: AlertKind(kind) for hub, kind in await cursor.fetchall()}
        restored: dict[str, datetime] = {}
        for hub, (checkpoint, saved_at) in checkpoints.items():
            try:
                self._detector.restore(hub, checkpoint)
                restored[hub] = saved_at
            except CheckpointError as exc:
                log.warning("hub %s: %s; its routine will be learned again", hub, exc)
        # What arrived after each checkpoint was stored but not yet saved as learned.
        async with self._pool.connection() as conn:
            missed = await readings_received_since(conn, restored)
        for hub, readings in missed.items():
            found = [f for reading in readings for f in self._detector.observe(hub, reading)]
            if found and self._on_findings is not None:
                await self._on_findings(hub, found)
        afresh = 0
        for s in seen:
            if s.hub in restored:
                continue
            afresh += 1
            self._detector.begin(
                s.hub,
                last_activity=s.last_motion,
                room=room_of(s.last_room_sensor) if s.last_room_sensor else None,
                last_door=s.last_door,
                raised=raised.get(s.hub),
            )
        # Each home remembers the feedback it has learned from, so all of it is offered again.
        self._feedback_until = None
        log.info("detectors: %d homes restored, %d started afresh", len(restored), afresh)
        await self.sync()

    async def run(self) -> None:
        """Save and sync for ever."""
        await every(
            self._interval_s,
            self.sync,
            failed="saving the detectors' state failed; trying again",
            log=log,
            wait_first=True,
        )

    async def sync(self) -> None:
        """One round: read "away" and feedback, then save the homes that changed."""
        async with self._pool.connection() as conn:
            for hub, until in (await away_by_hub(conn)).items():
                self._detector.set_away(hub, until)
            for item in await feedback_since(conn, self._feedback_until):
                if self._detector.feedback(
                    item.hub,
                    item.kind,
                    item.outcome,
                    details=item.details,
                    resolved_at=item.resolved_at,
                ):
                    log.info(
                        "hub %s: %s closed as %s; less eager for it now",
                        item.hub,
                        item.kind,
                        item.outcome,
                    )
                self._feedback_until = item.resolved_at
            taken = self._detector.take_checkpoints()
            try:
                await save_checkpoints(conn, taken)
            except BaseException:
                # Cancelled at a stop, or the database went away: what was taken is
                # not saved, so the next round (the stop's own, say) takes it again.
                self._detector.not_saved(taken)
                raise

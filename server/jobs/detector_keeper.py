"""Keeps the detectors' memory in PostgreSQL, and tells them about "away" and feedback.

At start each home is restored from its checkpoint (or, for a home never
checkpointed, from its latest readings and open alerts), and the readings
stored after that checkpoint are folded in again and acted on (movement
after a raised silence clears it). Then, every ``interval_s``: residents'
"away" settings are read, alerts people closed as false alarms or "resident
away" are fed back, each once (the detector remembers the last it has learned
from), and the homes that changed are saved.

Saving costs what changed and never holds up the event loop that also reads
alarms: only changed homes are serialised, a few milliseconds at a time with
the loop given back in between, and packed (zlib: a third of the bytes);
they are written in chunks of
``chunk_homes`` by binary COPY, the chunks spread over the interval, and at
most ``bytes_per_min`` a minute (the homes that waited longest go first; the
rest wait their turn, and what they learned meanwhile is in the readings that
a restart folds in again). While ingest is behind (``backlog``: messages
waiting at this process), a round's chunks are skipped, that CPU left to
ingest, until a home has waited ``yield_to.max_unsaved_s`` (see
checkpoint_yield.py). The stop-time save writes everything left, chunked
the same way but without the byte bound and whatever the backlog.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime

from server.detect.home_state import CheckpointError
from server.detect.inactivity import room_of
from server.detect.watch import HomeWatch
from server.domain.alerts import AlertKind
from server.domain.findings import Finding
from server.jobs.checkpoint_packing import pack, unpack
from server.jobs.checkpoint_plan import ByteBudget, CheckpointLine, chunk_pause
from server.jobs.checkpoint_yield import YieldToBacklog, chunk_waits
from server.loop_share import LoopShare
from server.store import alerts as alerts_sql
from server.store.detector_state import (
    away_by_hub,
    feedback_since,
    readings_received_since,
    save_checkpoints,
    stream_checkpoints,
)
from server.store.pool import Pool
from server.store.readings import last_seen_by_hub

__all__ = ["DetectorKeeper"]

log = logging.getLogger(__name__)

# Checkpoints read per piece at start: reading a piece of COPY is not given
# back to the loop, and 250 learned homes (5 MB) took 9 ms of it; 50 take 2.
_RESTORE_CHUNK = 50

# Homes handled between two yields to the loop in work over the whole fleet
# (lining up the changed, telling each its "away"): a few ms each.
_LOOP_SHARE = 2_000

# Yield to a backlog of 200 messages, for at most half an hour (checkpoint_yield.py).
_YIELD_TO = YieldToBacklog()

# Silences that a restart must not raise a second time.
_SILENCE_KINDS = (AlertKind.NO_MOVEMENT.value, AlertKind.NOT_UP.value)


class DetectorKeeper:
    """Restores :class:`HomeWatch` at start and checkpoints what changed every ``interval_s``."""

    def __init__(
        self,
        pool: Pool,
        detector: HomeWatch,
        *,
        interval_s: float = 30.0,
        chunk_homes: int = 250,
        bytes_per_min: int = 20_000_000,
        slice_s: float = 0.003,
        on_findings: Callable[[str, list[Finding]], Awaitable[None]] | None = None,
        before_saving: Callable[[], Awaitable[None]] | None = None,
        backlog: Callable[[], int] | None = None,
        yield_to: YieldToBacklog = _YIELD_TO,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pool = pool
        # Waits until the findings made before a checkpoint is taken are committed: a saved
        # state that says "raised" never stands for an alert that was still only queued.
        self._before_saving = before_saving
        self._detector = detector
        self._on_findings = on_findings
        self._interval_s = interval_s
        self._chunk_homes = chunk_homes
        # The longest the loop is held serialising or restoring before it is given back.
        self._slice_s = slice_s
        self._clock = clock
        # Messages waiting at this process (None: never yield to ingest).
        self._backlog = backlog
        self._yield_to = yield_to
        self._budget = ByteBudget(bytes_per_min=bytes_per_min, now=clock())
        self._line = CheckpointLine()
        self._feedback_until: datetime | None = None
        # Hubs whose resident was away at the last reading of "away".
        self._away: set[str] = set()
        # The homes this process saves: None, every home (one server); in a cluster,
        # those of the partitions it holds (another process's homes are not its to save).
        self._owned: set[str] | None = None
        # For the benchmark and /metrics readers: what has been written so far.
        self.homes_saved = 0
        self.bytes_saved = 0
        self.chunks_deferred = 0

    async def start(self) -> None:
        """Restore every home before the first reading is observed."""
        await self._restore(None)

    async def take_over(self, hubs: Collection[str]) -> None:
        """Restore ``hubs`` (a partition moved to this process) and save only owned homes from now.

        The first call makes this keeper a cluster member's: it saves the homes
        it was given, never another process's (server/cluster/).
        """
        if self._owned is None:
            self._owned = set()
        self._owned.update(hubs)
        await self._restore(set(hubs))

    async def release(self, hubs: Collection[str]) -> None:
        """Save ``hubs`` once more and stop saving them (their partition moves elsewhere)."""
        owned = self._owned
        if owned is None:
            return
        leaving = [hub for hub in hubs if hub in owned]
        # At the front of the line, so these chunks are theirs: the other homes wait
        # for the round, and the partition is free sooner.
        self._line.put_back(leaving, since=self._clock())
        for _ in range(-(-len(leaving) // self._chunk_homes)):
            await self._save_chunk(bounded=False)
        owned.difference_update(leaving)

    def disown(self, hubs: Collection[str]) -> None:
        """Stop saving ``hubs`` without saving them first (a take-over that failed half way)."""
        if self._owned is not None:
            self._owned.difference_update(hubs)

    async def _restore(self, within: set[str] | None) -> None:
        """Restore the homes ``within`` (None: every home) from checkpoints and the readings since."""
        restored: dict[str, datetime] = {}
        unreadable: list[str] = []
        async with self._pool.connection() as conn:
            # The fleet's states are most of the process's objects and live as
            # long as it does. While they are made, each full pass of Python's
            # cycle collector walks all of them (0.3 s at 1,500 learned homes,
            # seconds at 100,000, the loop held throughout); afterwards they are
            # moved out of its sight (gc.freeze), so later passes see only new objects.
            gc.disable()
            try:
                share = LoopShare(self._slice_s)
                async for chunk in stream_checkpoints(
                    conn, chunk_homes=_RESTORE_CHUNK, within=within
                ):
                    for hub, checkpoint, saved_at in chunk:
                        try:
                            self._detector.restore(hub, unpack(checkpoint))
                            restored[hub] = saved_at
                        except CheckpointError as exc:
                            log.warning("hub %s: %s; its routine will be learned again", hub, exc)
                            unreadable.append(hub)
                        await share.step()
            finally:
                gc.enable()
            gc.freeze()
            seen = await last_seen_by_hub(conn, unsaved_or=unreadable, within=within)
            open_silences = await alerts_sql.open_alerts_by_hub(conn, _SILENCE_KINDS)
            raised = {hub: AlertKind(kind) for hub, kind in open_silences}
        # What arrived after each checkpoint was stored but not yet saved as learned.
        # Asked a share of the fleet at a time: 100,000 hubs' parameters and rows
        # in one query held the loop for a large part of a second.
        since = list(restored.items())
        for start in range(0, len(since), _LOOP_SHARE):
            async with self._pool.connection() as conn:
                missed = await readings_received_since(
                    conn, dict(since[start : start + _LOOP_SHARE])
                )
            # Folded in a slice at a time: at a take-over the loop also raises alarms.
            share = LoopShare(self._slice_s)
            for hub, readings in missed.items():
                found = [f for reading in readings for f in self._detector.observe(hub, reading)]
                if found and self._on_findings is not None:
                    await self._on_findings(hub, found)
                await share.step()
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
        if within is None:
            await self.sync()
        else:
            # A partition taken over: its homes are watched at once; what changed is
            # saved by the rounds, not here while the partition's messages wait.
            await self._read_residents()

    async def run(self) -> None:
        """Rounds for ever: "away" and feedback read, changed homes saved over the interval."""
        await asyncio.sleep(self._interval_s)
        while True:
            began = self._clock()
            try:
                await self._round()
            except Exception:
                log.exception("saving the detectors' state failed; trying again")
            await asyncio.sleep(max(0.0, began + self._interval_s - self._clock()))

    async def sync(self) -> None:
        """Read "away" and feedback, then save every home that changed (at start and stop)."""
        await self._read_residents()
        await self._line_up_changed()
        while self._line:
            await self._save_chunk(bounded=False)

    async def _round(self) -> None:
        await self._read_residents()
        await self._line_up_changed()
        chunks = -(-len(self._line) // self._chunk_homes)
        pause = chunk_pause(
            interval_s=self._interval_s, waiting=len(self._line), chunk_homes=self._chunk_homes
        )
        deferred = 0
        for _ in range(chunks):
            now = self._clock()
            if not self._budget.allows(now=now):
                log.info(
                    "detectors: %d homes wait for the checkpoint bound of %d bytes a minute",
                    len(self._line),
                    self._budget.bytes_per_min,
                )
                break
            if self._yields(now):
                # This chunk's slot goes to ingest; its homes keep their place in line.
                deferred += 1
            else:
                await self._save_chunk(bounded=True)
            await asyncio.sleep(pause)
        if deferred:
            self.chunks_deferred += deferred
            log.info(
                "detectors: %d checkpoint chunks left for later, ingest being behind "
                "(%d homes wait, the longest %.0f s)",
                deferred,
                len(self._line),
                self._line.waited_s(now=self._clock()),
            )

    def _yields(self, now: float) -> bool:
        """Whether the next chunk is skipped for ingest's backlog (checkpoint_yield.py)."""
        if self._backlog is None:
            return False
        return chunk_waits(
            self._yield_to, backlog=self._backlog(), waited_s=self._line.waited_s(now=now)
        )

    async def _line_up_changed(self) -> None:
        changed = self._detector.changed_homes()
        owned = self._owned
        if owned is not None:
            changed = [hub for hub in changed if hub in owned]
        for start in range(0, len(changed), _LOOP_SHARE):
            self._line.changed(changed[start : start + _LOOP_SHARE], now=self._clock())
            await asyncio.sleep(0)

    async def _read_residents(self) -> None:
        async with self._pool.connection() as conn:
            # Only residents away now, and those who were last time (now back):
            # not a row per hub of the fleet every round.
            away = await away_by_hub(conn, away_only=True)
            for hub in self._away - away.keys():
                self._detector.set_away(hub, None)
            for hub, until in away.items():
                self._detector.set_away(hub, until)
            self._away = set(away)
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

    async def _save_chunk(self, *, bounded: bool) -> None:
        """Serialise up to a chunk of homes from the front of the line and write them."""
        # Those taken together go back, if they must, as having waited since the first of them.
        since = self._line.front_since()
        hubs = self._line.take(self._chunk_homes)
        if since is None:
            since = self._clock()
        owned = self._owned
        states: dict[str, bytes] = {}
        left: list[str] = []
        try:
            share = LoopShare(self._slice_s)
            for at, hub in enumerate(hubs):
                if owned is not None and hub not in owned:
                    continue  # its partition moved away while it waited in line
                if bounded and not self._budget.allows(now=self._clock()):
                    left = hubs[at:]
                    break
                state = self._detector.checkpoint(hub)
                if state is not None:  # None: the home is gone, nothing to save
                    state = pack(state)
                    states[hub] = state
                    if bounded:
                        self._budget.spend(len(state), now=self._clock())
                await share.step()
            if self._before_saving is not None:
                await self._before_saving()
            async with self._pool.connection() as conn:
                await save_checkpoints(conn, states)
        except BaseException:
            # Cancelled at a stop, or the database went away: what was taken is
            # not saved, so it goes back to the front of the line (the stop's own
            # save, or the next round, takes it again).
            self._line.put_back(hubs, since=since)
            raise
        # Homes the bound left unserialised wait at the front for the next round.
        self._line.put_back(left, since=since)
        self.homes_saved += len(states)
        self.bytes_saved += sum(len(state) for state in states.values())

"""What happens to each message: dead letter, stored readings, alarm, heartbeat."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import psycopg

from edge.protocol import (
    TOPIC_PREFIX,
    Alarm,
    HubState,
    HubStatus,
    ProtocolError,
    ReadingsBatch,
    encode,
    parse_topic,
)
from server.alerts.finding_queue import FindingQueue
from server.alerts.service import AlertService
from server.detect.watch import HomeWatch
from server.domain.findings import Cleared, Condition, Finding
from server.domain.homes import HubHome
from server.ingest.alarm_confirm import AlarmConfirmer
from server.ingest.heartbeats import HeartbeatWriter
from server.ingest.sensor_roster import MAX_SENSORS_PER_HUB, SensorRoster
from server.ingest.triage import Ignored, triage
from server.ingest.writer import ReadingWriter
from server.metrics import IngestMetrics, dead_letter_category
from server.store.dead_letters import DeadLetter, store_dead_letter
from server.store.hub_import import sensor_maps
from server.store.people import hub_home, hub_homes, hub_homes_fingerprint, record_hub_status
from server.store.pool import Pool
from server.store.readings import ReceivedBatch

__all__ = ["IngestService"]

log = logging.getLogger(__name__)

# A flood from an unknown hub must not turn into a flood of queries.
_UNKNOWN_HUB_TTL_S = 1.0
# An exception's text can be long (a whole SQL statement); the start says what it was.
_MAX_ERROR_REASON = 500
# Where a topic's hub id starts (carewatch/v1/hubs/HUB/CHANNEL).
_HUB_AT = len(TOPIC_PREFIX) + 1


def _hub_of(topic: str) -> str | None:
    try:
        return parse_topic(topic)[0]
    except ProtocolError:
        return None


class IngestService:
    """Routes validated messages to storage, the detector and the alert service."""

    def __init__(
        self,
        pool: Pool,
        *,
        alerts: AlertService,
        detector: HomeWatch,
        writer: ReadingWriter,
        metrics: IngestMetrics | None = None,
        confirmer: AlarmConfirmer | None = None,
        heartbeats: HeartbeatWriter | None = None,
        alarm_alerts: AlertService | None = None,
        findings: FindingQueue | None = None,
    ) -> None:
        self._pool = pool
        # None: each finding is raised before the next message is handled (tests, tools).
        self._findings = findings
        # Alarms raised through their own connection (None: through ``alerts``).
        self._alarm_alerts = alarm_alerts or alerts
        # None: each status is written as it comes (a server without the batch writer).
        self._heartbeats = heartbeats
        # None: no hub is told its alarm is stored (a server without a broker session to tell it on).
        self._confirmer = confirmer
        self._metrics = metrics = metrics or IngestMetrics()
        # Each message counts in one of these: looked up once, not per message.
        self._counted = {
            channel: metrics.messages.labels(channel) for channel in ("readings", "alarm", "status")
        }
        self._alerts = alerts
        self._detector = detector
        self._writer = writer
        self._homes: dict[str, HubHome] = {}
        # What the database said of the homes when last listed (None: never listed).
        self._fingerprint: tuple[int, int] | None = None
        # Hubs looked up and not found, with when: asked again after a short while.
        self._unknown: dict[str, float] = {}
        self._roster = SensorRoster()

    async def start(self) -> None:
        """Load the provisioned hubs (the detector's memory is restored by its keeper)."""
        await self.refresh_hubs()

    async def refresh_hubs(self) -> None:
        """Re-read the provisioned hubs (a hub added while running is picked up).

        Asked every half-minute: the database first says whether anything changed
        (two numbers), and only then are the homes listed. Listing 100,000 homes and
        resetting every home's time zone each time took over a quarter of the
        server's CPU at that size, on the loop that reads alarms.
        """
        async with self._pool.connection() as conn:
            fingerprint = await hub_homes_fingerprint(conn)
            if fingerprint == self._fingerprint:
                return
            homes = await hub_homes(conn)
            added = [h.hub for h in homes if h.hub not in self._homes]
            # The installer's maps of hubs new to this process (imported ones), read once.
            maps = await sensor_maps(conn, added) if added else {}
        # Taken before the listing: a change made in between is listed now and also
        # changes the next answer, which lists once more; none is missed.
        self._fingerprint = fingerprint
        for gone in set(self._homes) - {h.hub for h in homes}:
            self._roster.forget(gone)
        before, self._homes = self._homes, {h.hub: h for h in homes}
        for home in homes:
            known = before.get(home.hub)
            # A home whose zone is unchanged keeps its detector's local-hour memory.
            if known is None or known.timezone != home.timezone:
                self._detector.set_timezone(home.hub, ZoneInfo(home.timezone))
        for hub, rooms in maps.items():
            self._detector.set_sensor_map(hub, rooms)

    def sensor_map_edited(self, hub: str, rooms: Mapping[str, str]) -> None:
        """The installer's map of ``hub`` was edited: the detector places its sensors anew."""
        self._detector.set_sensor_map(hub, rooms, replace=True)

    async def handle(
        self, topic: str, payload: bytes, received_at: datetime
    ) -> asyncio.Future[None] | None:
        """Process one MQTT message; never raises for bad input.

        Returns a future that completes when the message's readings are
        committed, or None when the message is already durable (or dropped).
        Only a database outage raises, for the consumer to wait out.
        """
        try:
            return await self._handle(topic, payload, received_at)
        except psycopg.OperationalError:
            raise
        except Exception as exc:
            # A bug, or content the database refuses: retrying cannot help, and the
            # next message (another home's alarm, perhaps) must not wait for it.
            log.exception("handling a message on %s failed; dead-lettering it", topic)
            reason = f"could not be handled: {type(exc).__name__}: {exc}"[:_MAX_ERROR_REASON]
            await self._dead_letter(DeadLetter(received_at, topic, _hub_of(topic), reason, payload))
            return None

    async def _handle(
        self, topic: str, payload: bytes, received_at: datetime
    ) -> asyncio.Future[None] | None:
        await self._look_up_if_unknown(topic)
        outcome = triage(
            topic, payload, received_at=received_at, is_provisioned=self._homes.__contains__
        )
        match outcome:
            case DeadLetter():
                await self._dead_letter(outcome)
                return None
            case Ignored():
                return None
        if outcome.note is not None:
            log.warning("hub %s: %s", outcome.message.hub, outcome.note)
        if outcome.refused is not None:
            await self._dead_letter(outcome.refused)
        message, beyond = self._within_roster(outcome.message, topic, received_at)
        if beyond is not None:
            await self._dead_letter(beyond)
        home = self._homes[message.hub]
        match message:
            case ReadingsBatch():
                self._counted["readings"].inc()
                lag = self._metrics.ingest_lag
                for reading in message.readings:
                    lag.observe((received_at - reading.ts).total_seconds())
                for reading in message.readings:
                    await self._act(home, self._detector.observe(message.hub, reading))
                return await self._writer.put(ReceivedBatch(message, received_at))
            case Alarm():
                self._counted["alarm"].inc()
                # Committed (or found stored already, for a redelivery) once this returns.
                await self._alarm_alerts.raise_alarm(home, message)
                self._metrics.alarm_seconds.observe(
                    (datetime.now(UTC) - received_at).total_seconds()
                )
                if self._confirmer is not None:
                    self._confirmer.stored(message)
            case HubStatus():
                self._counted["status"].inc()
                return await self._status(home, message, received_at)
        return None

    def _within_roster(
        self, message: ReadingsBatch | Alarm | HubStatus, topic: str, received_at: datetime
    ) -> tuple[ReadingsBatch | Alarm | HubStatus, DeadLetter | None]:
        """Keep a hub to its number of sensors: what names sensors past it is split off."""
        kept: ReadingsBatch | HubStatus
        split: ReadingsBatch | HubStatus
        match message:
            case Alarm():
                # An alarm is raised whatever sensor it names: never refused.
                return message, None
            case ReadingsBatch():
                refused = self._roster.refused(message.hub, (r.sensor for r in message.readings))
                if not refused:
                    return message, None
                kept = replace(
                    message, readings=tuple(r for r in message.readings if r.sensor not in refused)
                )
                split = replace(
                    message, readings=tuple(r for r in message.readings if r.sensor in refused)
                )
            case HubStatus():
                refused = self._roster.refused(message.hub, (s.sensor for s in message.sensors))
                if not refused:
                    return message, None
                kept = replace(
                    message, sensors=tuple(s for s in message.sensors if s.sensor not in refused)
                )
                split = replace(
                    message, sensors=tuple(s for s in message.sensors if s.sensor in refused)
                )
        names = ", ".join(repr(name) for name in sorted(refused)[:5])
        more = f" and {len(refused) - 5} more" if len(refused) > 5 else ""
        reason = (
            f"hub {message.hub!r} has named {MAX_SENSORS_PER_HUB} sensors already; readings of "
            f"further sensors {names}{more} are refused (check the names the hub gives its sensors)"
        )
        return kept, DeadLetter(received_at, topic, message.hub, reason, encode(split))

    async def _look_up_if_unknown(self, topic: str) -> None:
        # A hub provisioned while the server runs is found on its first message.
        # Most messages are from a known hub: its id between the prefix and the
        # channel is found as it stands, without validating the topic twice (triage does).
        if topic[_HUB_AT : topic.rfind("/")] in self._homes:
            return
        try:
            hub, _ = parse_topic(topic)
        except ProtocolError:
            return
        if hub in self._homes:
            return
        now = time.monotonic()
        if now - self._unknown.get(hub, float("-inf")) < _UNKNOWN_HUB_TTL_S:
            return
        async with self._pool.connection() as conn:
            home = await hub_home(conn, hub)
            maps = await sensor_maps(conn, [hub]) if home is not None else {}
        if home is None:
            if len(self._unknown) > 10_000:
                self._unknown.clear()
            self._unknown[hub] = now
            return
        self._unknown.pop(hub, None)
        self._homes[hub] = home
        # The homes held now differ from the last listing's: the next refresh lists them
        # whatever the fingerprint says (it may be back at the last value: added, then revoked).
        self._fingerprint = None
        self._detector.set_timezone(hub, ZoneInfo(home.timezone))
        if hub in maps:
            self._detector.set_sensor_map(hub, maps[hub])

    async def _status(
        self, home: HubHome, status: HubStatus, received_at: datetime
    ) -> asyncio.Future[None] | None:
        written: asyncio.Future[None] | None = None
        if self._heartbeats is not None:
            written = self._heartbeats.put(status, received_at)
        else:
            async with self._pool.connection() as conn:
                await record_hub_status(conn, status, received_at)
        if status.state is HubState.ONLINE:
            if status.sensors:
                await self._act(home, self._detector.health(home.hub, status.sensors, status.ts))
            watermark = status.watermark or status.ts
            await self._act(home, self._detector.advance(home.hub, watermark))
        return written

    async def act(self, hub: str, findings: list[Finding]) -> None:
        """Raise or clear what the detector found for ``hub`` outside a message (at restore)."""
        home = self._homes.get(hub)
        if home is not None:
            await self._act(home, findings)

    async def _act(self, home: HubHome, findings: list[Finding]) -> None:
        """Raise or clear each finding: queued for the finding task, or at once without one.

        A message is acknowledged once its readings or status are stored, without
        waiting for its queued findings (a storm would hold every acknowledgement
        behind it, and the broker's in-flight window with them). None is lost to a
        crash: the detectors' state that says a condition was raised is saved only
        once the queue has committed it (DetectorKeeper's ``before_saving``), so a
        restart from the checkpoint before finds it again in the stored readings or
        the next heartbeat.
        """
        if self._findings is not None:
            for finding in findings:
                self._findings.put(home, finding)
            return
        for finding in findings:
            match finding:
                case Condition():
                    await self._alerts.raise_condition(home, finding)
                case Cleared():
                    await self._alerts.clear_condition(home, finding)

    async def _dead_letter(self, letter: DeadLetter) -> None:
        self._metrics.messages.labels("refused").inc()
        self._metrics.dead_letters.labels(dead_letter_category(letter.reason)).inc()
        log.info("dead letter from %s on %s: %s", letter.hub or "?", letter.topic, letter.reason)
        async with self._pool.connection() as conn:
            await store_dead_letter(conn, letter)

"""One server process: MQTT ingest, the writer, the live alert feed and the HTTP API."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
import socket
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, time, timedelta
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import uvicorn

from edge.mqtt_url import broker_address
from edge.protocol import TOPIC_PREFIX, Channel, HubConfig
from server.alerts.calls import VoiceCaller
from server.alerts.escalation import EscalationPolicy, EscalationScheduler
from server.alerts.finding_queue import FindingQueue
from server.alerts.notify import AppriseNotifier, ByChannelKind
from server.alerts.service import AlertService
from server.alerts.voice import voice_account
from server.alerts.webpush import WebPushSender, application_server_key, vapid_key
from server.api.app import create_app
from server.api.deps import Services
from server.api.limits import with_header_timeout
from server.api.live import AlertFeed
from server.api.login_limit import LoginLimiter
from server.api.routes.alerts import event_data
from server.arc.forwarder import ArcForwarder, ForwarderPolicy
from server.broker_accounts import SERVER_ACCOUNTS, ensure_server_account
from server.cluster.node import ClusterNode
from server.cluster.stream import ClusterStream, consume
from server.detect.hub_health import HubHealth
from server.detect.unit_health import UnitHealth
from server.detect.watch import HomeWatch, WatchSettings
from server.domain.access import Role
from server.domain.arc import RetryPolicy
from server.hub_config import publish_config
from server.ingest.alarm_confirm import AlarmConfirmer
from server.ingest.consumer import MqttConsumer
from server.ingest.heartbeats import HeartbeatWriter
from server.ingest.service import IngestService
from server.ingest.writer import ReadingWriter
from server.jobs.checkin_watch import CheckinWatch
from server.jobs.checkpoint_yield import YieldToBacklog
from server.jobs.detector_keeper import DetectorKeeper
from server.jobs.hub_watch import HubWatch
from server.jobs.unit_watch import UnitWatch
from server.loop_share import watch_collections, watch_loop_lag
from server.metrics import IngestMetrics
from server.passwords import PasswordWork, generate_password
from server.scaip.endpoint import ScaipEndpoint
from server.scaip.receiver import ScaipReceiver
from server.settings import ServerSettings
from server.store import people
from server.store.pool import Pool, migrate, open_pool
from server.store.storage import StorageMode, configure_storage, prune_readings

__all__ = ["CarewatchServer"]

log = logging.getLogger(__name__)

# Middle-generation collections before a full one is considered (Python's default: 10).
_FULL_COLLECTION_EVERY = 1_000


class _EmbeddedUvicorn(uvicorn.Server):
    """Uvicorn without its own signal handling: the process owner decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


class CarewatchServer:
    """Start with ``async with CarewatchServer(...)``; everything stops in order on exit."""

    def __init__(self, settings: ServerSettings, *, database_url: str, mqtt_url: str) -> None:
        self.settings = settings
        self.database_url = database_url
        self.mqtt_url = mqtt_url
        self.admin_password: str | None = None
        # Two pools: ingest, alerts, detectors and escalation on one, the API on the
        # other, so that nothing a web client does can make an alarm wait for a connection.
        self._pool: Pool | None = None
        self._http_pool: Pool | None = None
        # And alarms a connection of their own: never waiting behind reading
        # flushes, heartbeats or checkpoint chunks for one of the ingest pool's.
        self._alarm_pool: Pool | None = None
        self._passwords: PasswordWork | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._http: _EmbeddedUvicorn | None = None
        self._feed: AlertFeed | None = None
        self._socket: socket.socket | None = None
        self.writer: ReadingWriter | None = None
        self.heartbeats: HeartbeatWriter | None = None
        self.findings: FindingQueue | None = None
        self.ingest: IngestService | None = None
        self.escalation: EscalationScheduler | None = None
        self.hub_watch: HubWatch | None = None
        self.detector_keeper: DetectorKeeper | None = None
        self.storage = StorageMode(timescaledb=None)
        self.consumer: MqttConsumer | None = None
        self.alarm_consumer: MqttConsumer | None = None
        self._stop_watching_collections: Callable[[], None] | None = None
        self.arc: ArcForwarder | None = None
        self._arc_pool: Pool | None = None
        self.scaip: ScaipEndpoint | None = None
        self.scaip_receiver: ScaipReceiver | None = None
        # Cluster mode (CAREWATCH_CLUSTER_NATS_URL): NATS instead of the MQTT sessions,
        # and this process's share of the partitions.
        self.cluster_stream: ClusterStream | None = None
        self.cluster: ClusterNode | None = None
        # Jobs that one process of a cluster runs (all of them, on one server).
        self._singletons: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {}

    @property
    def pool(self) -> Pool:
        """The database pool of ingest, alerts, detectors and escalation, once started."""
        assert self._pool is not None, "server not started"
        return self._pool

    @property
    def http_pool(self) -> Pool:
        """The API's database pool, once started."""
        assert self._http_pool is not None, "server not started"
        return self._http_pool

    @property
    def feed(self) -> AlertFeed:
        """The live streams' shared feed of alert changes, once started."""
        assert self._feed is not None, "server not started"
        return self._feed

    @property
    def http_socket(self) -> socket.socket | None:
        """The listening socket of the console and API, once started."""
        return self._socket

    @property
    def http_url(self) -> str:
        """Where the console and API answer."""
        assert self._socket is not None, "server not started"
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    async def start(self) -> None:
        """Migrate, open the pools, and start every part; returns when all accept work."""
        s = self.settings
        await asyncio.to_thread(migrate, self.database_url)
        self._pool = pool = await open_pool(
            self.database_url, name="ingest", min_size=s.ingest_pool_min, max_size=s.ingest_pool_max
        )
        self._http_pool = http_pool = await open_pool(
            self.database_url,
            name="http",
            min_size=s.http_pool_min,
            max_size=s.http_pool_max,
            wait_s=s.http_pool_timeout_s,
        )
        self._alarm_pool = alarm_pool = await open_pool(
            self.database_url, name="alarms", min_size=1, max_size=2
        )
        self._passwords = passwords = PasswordWork(threads=s.password_threads)
        self.admin_password = await self._bootstrap_admin(pool, passwords)
        async with pool.connection() as conn:
            self.storage = await configure_storage(
                conn,
                compress_after=timedelta(days=s.readings_compress_after_days),
                retain_for=timedelta(days=s.readings_retention_days),
            )
        log.info("storage: %s", self.storage.describe())

        if s.link_secret is None:
            log.info("CAREWATCH_LINK_SECRET is not set: one-tap links last until this server stops")
        link_key = (
            s.link_secret.get_secret_value().encode() if s.link_secret else secrets.token_bytes(32)
        )
        alerts = AlertService(pool, link_key=link_key)
        apprise = AppriseNotifier(
            email_url=s.email_url,
            sms_url=s.sms_url.get_secret_value() if s.sms_url else None,
        )
        push_key = vapid_key(
            s.vapid_private_key.get_secret_value() if s.vapid_private_key else None
        )
        detector = HomeWatch(
            WatchSettings(
                up_floor=timedelta(minutes=s.inactivity_floor_minutes),
                up_ceiling=timedelta(minutes=s.inactivity_ceiling_minutes),
                bathroom_floor=timedelta(minutes=s.inactivity_bathroom_floor_minutes),
                bathroom_ceiling=timedelta(minutes=s.inactivity_bathroom_ceiling_minutes),
                ceiling_days=s.inactivity_ceiling_days,
                up_max=timedelta(minutes=s.inactivity_max_minutes),
                chair_max=timedelta(minutes=s.inactivity_max_minutes),
                nap_max=timedelta(minutes=s.inactivity_max_minutes),
                bathroom_max=timedelta(minutes=s.inactivity_bathroom_max_minutes),
                false_alarm_budget=s.false_alarm_budget,
                latest_wake_default=time(int(s.latest_wake_hour), int(s.latest_wake_hour % 1 * 60)),
                cold_limit_c=s.cold_limit_c,
                cold_for=timedelta(minutes=s.cold_for_minutes),
            )
        )
        self.metrics = metrics = IngestMetrics()
        self.writer = ReadingWriter(
            pool,
            max_readings=s.flush_max_readings,
            max_queued_batches=s.writer_max_queued_batches,
            linger_s=s.writer_linger_s,
            stall_after_s=s.writer_stall_s,
            metrics=metrics,
        )
        self.heartbeats = HeartbeatWriter(pool, flush_s=s.heartbeat_flush_s)
        # Findings are raised in batches by a task of their own, never inside the consumer.
        self.findings = findings = FindingQueue(alerts, max_batch=s.findings_max_batch)
        # Running before the keeper's restore, whose findings (folded in at start) it raises.
        self._spawn("findings", findings.run())
        self.ingest = IngestService(
            pool,
            heartbeats=self.heartbeats,
            alarm_alerts=AlertService(alarm_pool, link_key=link_key),
            alerts=alerts,
            detector=detector,
            writer=self.writer,
            metrics=metrics,
            findings=findings if s.findings_batched else None,
            # Hubs keep an alarm until told it is stored; told on the alarm
            # session's connection, which is made below.
            confirmer=AlarmConfirmer(self._publish_on_alarm_session, metrics=metrics),
        )
        await self.ingest.start()
        if s.cluster_nats_url is not None:
            self.cluster_stream = ClusterStream(
                s.cluster_nats_url, partitions=s.cluster_partitions, stream=s.cluster_stream
            )
            await self.cluster_stream.connect()
        self.detector_keeper = keeper = DetectorKeeper(
            pool,
            detector,
            interval_s=s.detector_checkpoint_s,
            chunk_homes=s.detector_checkpoint_chunk_homes,
            bytes_per_min=s.detector_checkpoint_bytes_per_min,
            on_findings=self.ingest.act,
            before_saving=findings.flushed,
            backlog=self._ingest_backlog,
            yield_to=YieldToBacklog(
                behind_at=s.detector_checkpoint_yield_at,
                max_unsaved_s=s.detector_checkpoint_max_unsaved_s,
            ),
        )
        if self.cluster_stream is None:
            await keeper.start()
        # In a cluster the keeper restores each partition's homes as it is taken (below).
        self._feed = feed = AlertFeed(
            self.database_url, http_pool, render=event_data, backlog=s.live_stream_backlog
        )
        # Alarms have a session of their own: they never queue behind a backlog
        # of readings, at the broker or here.
        self.consumer = MqttConsumer(
            self.mqtt_url,
            self.ingest.handle,
            client_id=s.mqtt_client_id,
            topics=(
                f"{TOPIC_PREFIX}/+/{Channel.READINGS}",
                f"{TOPIC_PREFIX}/+/{Channel.STATUS}",
            ),
            transient_errors=(psycopg.OperationalError,),
            on_connection=metrics.broker_connected.labels("readings").set,
        )
        self.alarm_consumer = MqttConsumer(
            self.mqtt_url,
            self.ingest.handle,
            client_id=f"{s.mqtt_client_id}-alarms",
            topics=(f"{TOPIC_PREFIX}/+/{Channel.ALARM}",),
            transient_errors=(psycopg.OperationalError,),
            on_connection=metrics.broker_connected.labels("alarms").set,
        )

        self._socket = socket.create_server((s.http_host, s.http_port))
        # Accepted connections inherit this. asyncio sets it only on sockets made with
        # proto=IPPROTO_TCP, which create_server's are not; without it, a response's
        # body waits for the ACK of its headers on a kept-alive connection (40 ms).
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        app = create_app(
            Services(
                settings=s,
                pool=http_pool,
                alerts=AlertService(http_pool, link_key=link_key),
                feed=feed,
                link_key=link_key,
                push_public_key=application_server_key(push_key),
                metrics=metrics,
                login_limiter=LoginLimiter(
                    max_failures=s.login_max_failures, window_s=s.login_window_s
                ),
                passwords=passwords,
                ingest_problem=self.writer.problem,
                hubs_changed=self.ingest.refresh_hubs,
                publish_hub_config=self._publish_hub_config,
                sensor_map_edited=self.ingest.sensor_map_edited,
            )
        )
        self._http = _EmbeddedUvicorn(
            uvicorn.Config(
                app,
                http=with_header_timeout(s.http_header_timeout_s),
                log_level="warning",
                access_log=False,
                lifespan="off",
                # Live streams never end by themselves; do not wait long for them.
                timeout_graceful_shutdown=2,
            )
        )

        public_url = s.public_url or self.http_url
        caller = None
        if s.voice_url is not None:
            caller = VoiceCaller(
                pool,
                voice_account(s.voice_url.get_secret_value()),
                public_url=public_url,
                ring_s=s.voice_ring_s,
                listen_s=s.voice_listen_s,
            )
        self.escalation = EscalationScheduler(
            pool,
            ByChannelKind(
                {
                    "email": apprise,
                    "sms": apprise,
                    "webhook": apprise,
                    "webpush": WebPushSender(push_key, subject=s.vapid_subject, hosts=s.push_hosts),
                }
            ),
            link_key=link_key,
            public_url=public_url,
            caller=caller,
            policy=EscalationPolicy(
                ack_timeout=timedelta(seconds=s.ack_timeout_s),
                # The caller gives up first; this only catches one that hangs.
                call_timeout_s=(caller.longest_s + 5.0) if caller else 100.0,
                tick_s=s.escalation_tick_s,
                send_timeout_s=s.notification_send_timeout_s,
                link_lifetime=timedelta(seconds=s.link_lifetime_s),
                digest_hour=s.digest_hour,
                digest_zone=ZoneInfo(s.service_timezone),
            ),
        )

        self._ensure_broker_account()
        self.hub_watch = HubWatch(
            pool,
            alerts,
            HubHealth(
                grace=timedelta(seconds=s.hub_offline_grace_s),
                silence_limit=timedelta(seconds=s.hub_silence_limit_s),
            ),
            interval_s=s.hub_check_interval_s,
        )
        await self.hub_watch.start()

        self._spawn("writer", self.writer.run())
        self._spawn("heartbeats", self.heartbeats.run())
        self._spawn("detector-keeper", keeper.run())
        self._singletons["hub-watch"] = self.hub_watch.run
        self._singletons["checkin-watch"] = CheckinWatch(
            pool, alerts, interval_s=s.hub_check_interval_s
        ).run
        if self.storage.timescaledb is None:
            retain_for = timedelta(days=s.readings_retention_days)
            self._singletons["prune"] = lambda: self._prune(retain_for)
        self._spawn("hub-refresh", self._refresh_hubs(self.ingest, s.hub_check_interval_s))
        self._singletons["escalation"] = self.escalation.run
        # Forwarding to ARCs runs apart: raising and notifying never wait for it.
        # Its own small pool too: a slow or failing ARC never holds a connection an alarm needs.
        self._arc_pool = arc_pool = await open_pool(
            self.database_url, name="arc", min_size=1, max_size=2
        )
        self.arc = ArcForwarder(
            arc_pool,
            AlertService(arc_pool, link_key=link_key),
            database_url=self.database_url,
            policy=ForwarderPolicy(
                attempt_timeout_s=s.arc_attempt_timeout_s,
                retry=RetryPolicy(first_s=s.arc_retry_first_s, max_s=s.arc_retry_max_s),
                down_limit=timedelta(seconds=s.arc_down_limit_s),
                poll_s=s.arc_poll_s,
            ),
            registry=metrics.registry,
        )
        self._singletons["arc"] = self.arc.run
        if s.scaip_port is not None:
            await self._start_scaip(alarm_pool, link_key)
        self._spawn("alert-feed", feed.run())
        self._spawn("loop-lag", watch_loop_lag(metrics.loop_lag.observe))
        # Python's full collections walk every tracked object not frozen at the restore,
        # and a fleet's states, remade as homes change, are millions of them: 100,000
        # homes had a full pass every 3.4 s, each holding the loop (and every alarm on
        # it) 0.25-1 s, 15 % of a core. A full pass is considered after 1,000 passes
        # of the middle generation instead of 10: a hundred times rarer. The young
        # passes, and what refcounting frees, are unchanged.
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, _FULL_COLLECTION_EVERY)
        self._stop_watching_collections = watch_collections(
            lambda generation, seconds: metrics.gc_seconds.labels(str(generation)).observe(seconds)
        )
        if self.cluster_stream is None:
            self._lead()
            self._spawn("mqtt", self.consumer.run())
            self._spawn("mqtt-alarms", self.alarm_consumer.run())
        else:
            await self._join_cluster(self.cluster_stream, keeper)
        self._spawn("http", self._http.serve(sockets=[self._socket]))
        await self._wait_ready(feed)
        log.info("carewatch server ready at %s", self.http_url)

    def _ingest_backlog(self) -> int:
        """Messages waiting at this process: delivered and not yet handled, or not yet written."""
        waiting = self.writer.pending() if self.writer is not None else 0
        if self.cluster is not None:
            return waiting + self.cluster.backlog()
        if self.consumer is not None:
            waiting += self.consumer.waiting()
        return waiting

    async def _start_scaip(self, alarm_pool: Pool, link_key: bytes) -> None:
        """Social-alarm units' SCAIP over SIP: alarms on the alarm pool, like the hubs'."""
        s = self.settings
        assert s.scaip_port is not None
        self.scaip_receiver = ScaipReceiver(
            alarm_pool, AlertService(alarm_pool, link_key=link_key), registry=self.metrics.registry
        )
        self.scaip = ScaipEndpoint(self.scaip_receiver, host=s.scaip_host, port=s.scaip_port)
        await self.scaip.start()
        watch = UnitWatch(
            self.pool,
            AlertService(self.pool, link_key=link_key),
            UnitHealth(),
            interval_s=s.scaip_check_interval_s,
        )
        await watch.start()
        self._singletons["scaip-watch"] = watch.run

    async def _join_cluster(self, stream: ClusterStream, keeper: DetectorKeeper) -> None:
        """Alarms from the shared consumer, and this process's share of the partitions."""
        s = self.settings
        assert self.ingest is not None
        ingest = self.ingest

        async def hubs() -> list[str]:
            async with self.pool.connection() as conn:
                return [home.hub for home in await people.hub_homes(conn)]

        self._spawn(
            "nats-alarms",
            consume(
                await stream.alarms(),
                ingest.handle,
                transient_errors=(psycopg.OperationalError,),
                batch=20,
            ),
        )
        self.cluster = node = ClusterNode(
            self.database_url,
            stream,
            keeper,
            ingest.handle,
            partitions=s.cluster_partitions,
            hubs=hubs,
            lead=self._lead,
            unlead=self._unlead,
            poll_s=s.cluster_poll_s,
            name=s.mqtt_client_id,
        )
        await node.start()
        self._spawn("cluster", node.run())

    def _lead(self) -> None:
        """Run the singleton jobs here (one server: at start; a cluster: its leader)."""
        for name, job in self._singletons.items():
            self._spawn(name, job())

    async def _unlead(self) -> None:
        for name in self._singletons:
            await self._cancel(name)

    async def _publish_hub_config(self, hub: str, config: HubConfig) -> None:
        await publish_config(self.mqtt_url, hub, config, client_id=self.settings.mqtt_client_id)

    def _publish_on_alarm_session(self, topic: str, payload: bytes) -> bool:
        if self.cluster_stream is not None:
            return self.cluster_stream.publish_nowait(topic, payload)
        consumer = self.alarm_consumer
        return consumer is not None and consumer.publish_nowait(topic, payload)

    def _ensure_broker_account(self) -> None:
        """Put the server's own broker account in the internal listener's password file, if kept here."""
        directory = self.settings.broker_credentials_dir
        _, _, username, password, _ = broker_address(self.mqtt_url)
        if directory is None or not username or not password:
            return
        if ensure_server_account(directory, username, password):
            log.warning(
                "wrote the broker account %s to %s; reload the broker to let it in",
                username,
                directory / SERVER_ACCOUNTS,
            )

    async def _refresh_hubs(self, ingest: IngestService, interval_s: float) -> None:
        # Picks up hubs revoked (or re-homed) by another process, e.g. the CLI.
        while True:
            await asyncio.sleep(interval_s)
            try:
                await ingest.refresh_hubs()
            except psycopg.Error:
                log.exception("could not re-read the hubs; trying again")

    async def _prune(self, retain_for: timedelta) -> None:
        # Plain PostgreSQL has no retention policy of its own: do it hourly.
        while True:
            try:
                async with self.pool.connection() as conn:
                    deleted = await prune_readings(conn, older_than=datetime.now(UTC) - retain_for)
                if deleted:
                    log.info("deleted %d readings past their retention", deleted)
            except psycopg.Error:
                log.exception("pruning old readings failed; trying again later")
            await asyncio.sleep(60 * 60)

    def _spawn(self, name: str, work: Coroutine[Any, Any, None]) -> None:
        self._tasks[name] = asyncio.create_task(work, name=name)

    async def _wait_ready(self, feed: AlertFeed) -> None:
        assert self.consumer is not None
        http = self._http
        assert http is not None
        assert self.alarm_consumer is not None
        waits = [feed.listening.wait()]
        if self.cluster_stream is not None:
            waits.append(self.cluster_stream.connected.wait())
        else:
            waits += [self.consumer.connected.wait(), self.alarm_consumer.connected.wait()]
        try:
            async with asyncio.timeout(60):
                await asyncio.gather(*waits)
                # uvicorn offers a flag, not an event, for "listening".
                while not http.started:  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
        except TimeoutError:
            raise RuntimeError(
                f"server did not become ready within 60 s; is the MQTT broker at {self.mqtt_url} "
                "reachable?"
            ) from None

    async def _bootstrap_admin(self, pool: Pool, passwords: PasswordWork) -> str | None:
        """Create ``admin`` on first start; returns the password if we made one up."""
        configured = self.settings.admin_password
        password = configured.get_secret_value() if configured else generate_password()
        password_hash = await passwords.hash(password)
        async with pool.connection() as conn:
            created = await people.add_user(conn, "admin", password_hash, Role.ADMIN)
        if not created:
            return None
        if configured is None:
            log.warning("created user 'admin' with generated password %s", password)
        return password

    async def stop(self) -> None:
        """Stop taking messages, flush what was taken, then close the API and the pool."""
        if self.scaip is not None:
            await self.scaip.stop()
        await self._cancel("cluster")
        await self._cancel("nats-alarms")
        if self.cluster is not None:
            # Each partition saved and let go, so the other processes take it at once.
            await self.cluster.stop()
        for name in (
            "scaip-watch",
            "arc",
            "escalation",
            "hub-watch",
            "hub-refresh",
            "prune",
            "mqtt-alarms",
            "mqtt",
            "findings",
            "writer",
            "heartbeats",
            "detector-keeper",
            "alert-feed",
            "loop-lag",
        ):
            await self._cancel(name)
        if self.detector_keeper is not None and self._pool is not None:
            try:
                await self.detector_keeper.sync()
            except psycopg.Error:
                log.exception("could not save the detectors' state at stop")
        if self.cluster_stream is not None:
            await self.cluster_stream.close()
        if self._feed is not None:
            self._feed.close()
        if self._http is not None:
            self._http.should_exit = True
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await self._tasks["http"]
        await self._cancel("http")
        if self._passwords is not None:
            self._passwords.close()
        if self._stop_watching_collections is not None:
            self._stop_watching_collections()
            self._stop_watching_collections = None
        for pool in (self._arc_pool, self._http_pool, self._alarm_pool, self._pool):
            if pool is not None:
                await pool.close()
        if self._socket is not None:
            self._socket.close()

    async def _cancel(self, name: str) -> None:
        task = self._tasks.pop(name, None)
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def failed(self) -> BaseException | None:
        """The error of a part that stopped on its own, if any."""
        for task in self._tasks.values():
            if task.done() and not task.cancelled() and task.exception() is not None:
                return task.exception()
        return None

    async def __aenter__(self) -> CarewatchServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

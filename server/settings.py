"""The server's configuration: one settings object, from ``CAREWATCH_*`` environment variables."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from server.alerts.addresses import SMS_NUMBER
from server.alerts.push_services import PUBLIC_PUSH_SERVICES
from server.alerts.voice import voice_account

__all__ = ["Environment", "ServerSettings"]

_PLACEHOLDERS = {"", "changeme", "change-me", "admin", "password", "secret"}


class Environment(StrEnum):
    """Where the server runs; production refuses weak or missing secrets."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


class ServerSettings(BaseSettings):
    """Everything the server process can be told. Unset URLs mean the embedded services."""

    model_config = SettingsConfigDict(env_prefix="CAREWATCH_", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    database_url: str | None = None
    mqtt_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    admin_password: SecretStr | None = None
    # Where the embedded PostgreSQL keeps its data when no database URL is set.
    data_dir: Path = Path("var")

    mqtt_client_id: str = "carewatch-server"
    # Where `carewatch hub add` writes hub accounts for Mosquitto (its password
    # file); unset, hub credentials are kept in the database only.
    broker_credentials_dir: Path | None = None
    # How hubs reach the broker from their homes, for the agent config that
    # `carewatch hub add` prints, e.g. mqtts://broker.example.org:8883
    broker_public_url: str | None = None
    # The most readings one COPY writes; more queued wait for the next.
    flush_max_readings: int = Field(default=5_000, ge=1)
    # Batches received but not yet written; when full, the consumer stops taking
    # readings (the broker holds them) instead of memory growing.
    writer_max_queued_batches: int = Field(default=20_000, ge=1)
    # A batch is written once it is this old, with every batch that came meanwhile
    # (group commit); under load flushes run back to back and nothing waits.
    writer_linger_s: float = Field(default=0.05, ge=0)
    # A writer that has stored nothing for this long while it had work makes
    # /readyz fail, so an orchestrator or a monitor notices.
    writer_stall_s: float = Field(default=30.0, gt=0)
    # Hubs' heartbeats are kept in memory and written together at most this
    # often (one statement for up to 2,000 hubs); the first after a quiet spell at once.
    heartbeat_flush_s: float = Field(default=0.25, gt=0)
    # The heartbeat interval each hub is asked for in its retained config (the agent's
    # own default is the same); hub_offline_grace_s must stay well above it.
    hub_heartbeat_s: int = Field(default=60, ge=1, le=24 * 3600)
    # Detected conditions raised (or cleared) up to this many a transaction, by a task
    # of their own, off the consumer's path. Not batched (false): each is raised
    # inside the consumer before the next message, as before (for comparison runs).
    findings_max_batch: int = Field(default=500, ge=1)
    findings_batched: bool = True
    # The largest request body the API reads (forms and JSON are small); larger
    # ones are refused with 413 before they are read.
    http_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # A client must send a request's headers within this long, or is cut off.
    http_header_timeout_s: float = Field(default=10.0, gt=0)
    token_lifetime_s: float = Field(default=12 * 60 * 60.0, gt=0)
    # The session cookie's Secure flag; unset, it is set when the page came over https.
    cookie_secure: bool | None = None
    # Wrong passwords for one account within the window before sign-in waits.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_s: float = Field(default=300.0, gt=0)
    # Threads that run argon2 (about 0.1 s of CPU a sign-in); more sign-ins wait their turn.
    password_threads: int = Field(default=1, ge=1, le=16)

    # Database connections, in two pools so that no HTTP work (sign-in floods, live
    # streams, slow reports) can make an alarm wait: one for ingest, alerts,
    # detectors and escalation, one for the API. Each server process opens up to
    # the two maxima plus one connection listening for alert changes.
    ingest_pool_min: int = Field(default=2, ge=1)
    ingest_pool_max: int = Field(default=6, ge=1)
    http_pool_min: int = Field(default=1, ge=1)
    http_pool_max: int = Field(default=6, ge=1)
    # How long an API request waits for a connection before it is answered 503.
    http_pool_timeout_s: float = Field(default=10.0, gt=0)
    # Alert changes a slow live stream may fall behind by before it is told to reload.
    live_stream_backlog: int = Field(default=100, ge=1)

    # Readings are compressed after this many days (TimescaleDB) and deleted
    # after the retention period (both storages).
    readings_compress_after_days: float = Field(default=7.0, gt=0)
    readings_retention_days: float = Field(default=400.0, gt=0)

    # Inactivity, in minutes of the resident's own (event) time: each home's
    # learned limit stays between the floor and the ceiling for where they were.
    inactivity_floor_minutes: float = Field(default=20.0, gt=0)
    inactivity_ceiling_minutes: float = Field(default=180.0, gt=0)
    inactivity_bathroom_floor_minutes: float = Field(default=20.0, gt=0)
    inactivity_bathroom_ceiling_minutes: float = Field(default=90.0, gt=0)
    # The ceilings are a safety net for a home's first days; after that the
    # resident's own days set the limits, up to these maxima an operator allows.
    inactivity_ceiling_days: int = Field(default=7, ge=0)
    inactivity_max_minutes: float = Field(default=8 * 60.0, gt=0)
    inactivity_bathroom_max_minutes: float = Field(default=3 * 60.0, gt=0)
    # Expected false urgent no-movement alerts per resident-month the limits aim at.
    false_alarm_budget: float = Field(default=0.5, gt=0)
    # Until a home has a week of mornings: the latest local hour a resident is expected up.
    latest_wake_hour: float = Field(default=10.0, ge=0, lt=24)
    # UK guidance: living rooms at least 18 °C; colder for this long is an advisory.
    cold_limit_c: float = 18.0
    cold_for_minutes: float = Field(default=120.0, gt=0)
    # How often each home's learned routine is saved, and "away" and feedback read.
    detector_checkpoint_s: float = Field(default=30.0, gt=0)
    # Changed homes are saved in chunks of this many (one COPY and one upsert
    # each), spread over the interval, and at most this many bytes a minute:
    # past it the homes that waited longest go first (docs/deployment.md).
    detector_checkpoint_chunk_homes: int = Field(default=250, gt=0)
    # 20 MB a minute saves 20,000 learned homes (5 KB packed) every 5 min, 100,000 every 25.
    detector_checkpoint_bytes_per_min: int = Field(default=20_000_000, gt=0)
    # While this many messages wait at the process (ingest behind), checkpoint chunks
    # are skipped and that CPU left to ingest (0: never), until a changed home has
    # waited unsaved for the second; then it is saved, behind or not.
    detector_checkpoint_yield_at: int = Field(default=200, ge=0)
    detector_checkpoint_max_unsaved_s: float = Field(default=30 * 60.0, gt=0)

    # A hub whose last will says offline for this long, or silent for the
    # second while claiming to be online, raises a technical hub_offline alert.
    hub_offline_grace_s: float = Field(default=10 * 60.0, gt=0)
    hub_silence_limit_s: float = Field(default=15 * 60.0, gt=0)
    hub_check_interval_s: float = Field(default=30.0, gt=0)

    # Escalation: how long each carer has to acknowledge an urgent alert before
    # the next one (then the responders) is notified, and how often to look.
    ack_timeout_s: float = Field(default=5 * 60.0, gt=0)
    escalation_tick_s: float = Field(default=1.0, gt=0)
    # One attempt to send on one channel (e-mail, SMS, push, webhook) gives up after
    # this and the next is tried: a provider that takes the connection and never
    # answers must not hold a rung for long. Voice calls have their own limits.
    notification_send_timeout_s: float = Field(default=5.0, gt=0)
    # Outgoing mail in apprise form, e.g. mailtos://user:pass@smtp.example.org?from=alerts@example.org
    email_url: str | None = None
    # The SMS gateway in apprise form, with {to} where the carer's number goes, e.g.
    # twilio://ACCOUNT_SID:AUTH_TOKEN@+441632960000/{to} (docs/alerts.md has others).
    sms_url: SecretStr | None = None
    # Voice calls through a Twilio-style Calls API:
    # https://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=+441632960000 . The provider
    # calls back on CAREWATCH_PUBLIC_URL, so that must be reachable from the internet;
    # its callbacks are signed with AUTH_TOKEN over that URL, and checked.
    voice_url: SecretStr | None = None
    # How long a carer's phone rings, and how long the call may then take to be
    # heard and answered with a key, before the carer is called again.
    voice_ring_s: int = Field(default=30, ge=5, le=600)
    voice_listen_s: float = Field(default=60.0, gt=0)
    # Phone numbers typed without a country code are read in this region (ISO 3166).
    phone_region: str = "GB"
    # Where people reach the console; one-tap links in notifications and the voice
    # provider's callbacks point here (behind a proxy: the public address exactly).
    public_url: str | None = None
    # Signs one-tap acknowledge links; without it a random key per process
    # (links stop working when the server restarts).
    link_secret: SecretStr | None = None
    link_lifetime_s: float = Field(default=2 * 60 * 60.0, gt=0)
    # Web Push: the server's VAPID private key (PEM) and contact. Without a key,
    # one is made per process and phones must subscribe again after a restart.
    vapid_private_key: SecretStr | None = None
    vapid_subject: str = "mailto:carewatch@localhost"
    # The push services a subscription's endpoint may be on (JSON list; "*.x" for
    # subdomains). Others are refused, so a signed-in user cannot make the server
    # post to its own network. "scheme://host" entries are for tests' receivers.
    push_hosts: tuple[str, ...] = PUBLIC_PUSH_SERVICES
    # Advisory alerts go to carers in one morning digest at this local hour.
    digest_hour: int = Field(default=8, ge=0, le=23)
    service_timezone: str = "Europe/London"

    # Forwarding to alarm receiving centres over SIA DC-09 (accounts: `carewatch arc set`).
    # The forwarder has its own database connections (a pool of two and one listening),
    # so a slow ARC never holds one an alarm needs.
    # One attempt on one receiver path: connect, send, wait for ACK/NAK/DUH.
    arc_attempt_timeout_s: float = Field(default=5.0, gt=0)
    # Rounds over primary then backup wait this long after the first failed round,
    # doubling up to the maximum, until a receiver acknowledges.
    arc_retry_first_s: float = Field(default=1.0, gt=0)
    arc_retry_max_s: float = Field(default=30.0, gt=0)
    # Every path failing this long raises a technical arc_unreachable alert.
    arc_down_limit_s: float = Field(default=120.0, gt=0)
    # New alerts are seen at once (database notices); this poll is the safety net.
    arc_poll_s: float = Field(default=2.0, gt=0)

    # Receiving alarms from social-alarm units over SCAIP (SIP MESSAGE, UDP and TCP on one
    # port; units: `carewatch scaip add`). Off unless a port is given (5060 is SIP's own);
    # 0 picks a free one (tests).
    scaip_port: int | None = Field(default=None, ge=0, lt=65536)
    scaip_host: str = "0.0.0.0"  # noqa: S104 (units call in from their homes)
    # How often the units' heartbeats are checked (a unit silent for two of its
    # heartbeat intervals and a minute raises a technical alarm_unit_silent alert).
    scaip_check_interval_s: float = Field(default=30.0, gt=0)

    # Scale-out (server/cluster/, docs/deployment.md): with a NATS URL this process is
    # one of several, hubs publish to NATS's MQTT gateway, and each process holds a
    # share of the partitions (locks in PostgreSQL); unset, one server takes every hub.
    cluster_nats_url: str | None = None
    # Must equal the partition count in the broker's partition() mappings
    # (deploy/nats/carewatch.conf); more partitions than processes, so shares even out.
    cluster_partitions: int = Field(default=12, ge=1, le=1024)
    # How often a process looks for partitions to take (a dead one's) or to let go.
    cluster_poll_s: float = Field(default=2.0, gt=0)
    # The JetStream stream of partitioned readings and status (alarms: the same + "_ALARMS").
    cluster_stream: str = Field(default="CAREWATCH", pattern=r"^[A-Za-z0-9_-]{1,64}$")

    def server_broker_names(self) -> frozenset[str]:
        """The server's broker account and its sessions' client ids: names no hub may have.

        The two sessions are server/runtime.py's: readings and status, and alarms.
        """
        names = {self.mqtt_client_id, f"{self.mqtt_client_id}-alarms"}
        if self.mqtt_url is not None:
            username = urlsplit(self.mqtt_url).username
            if username:
                names.add(unquote(username))
        return frozenset(names)

    @field_validator("sms_url", "voice_url", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        # docker-compose passes an unset variable as "": no gateway, not a broken one.
        return None if value == "" else value

    @model_validator(mode="after")
    def _check_gateways(self) -> ServerSettings:
        if self.sms_url is not None and SMS_NUMBER not in self.sms_url.get_secret_value():
            raise ValueError(
                f"CAREWATCH_SMS_URL must hold {SMS_NUMBER} where the carer's number goes, "
                "e.g. twilio://SID:TOKEN@+441632960000/{to}"
            )
        if self.voice_url is not None:
            voice_account(self.voice_url.get_secret_value())
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> ServerSettings:
        if self.environment is Environment.PRODUCTION:
            password = self.admin_password.get_secret_value() if self.admin_password else ""
            if password.lower() in _PLACEHOLDERS or len(password) < 12:
                raise ValueError(
                    "CAREWATCH_ADMIN_PASSWORD must be set to a real password of at least "
                    "12 characters in production"
                )
            secret = self.link_secret.get_secret_value() if self.link_secret else ""
            if len(secret) < 32:
                raise ValueError(
                    "CAREWATCH_LINK_SECRET must be set to at least 32 random characters in "
                    "production (it signs the one-tap acknowledge links)"
                )
            if self.database_url is None or self.mqtt_url is None:
                raise ValueError(
                    "production needs CAREWATCH_DATABASE_URL and CAREWATCH_MQTT_URL; "
                    "the embedded services are for demos and tests"
                )
        return self

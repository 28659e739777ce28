"""What carewatch does with each SCAIP message: an alarm, a heartbeat, or a dead letter.

An alarm is raised through the same path as a hub's (``AlertService.raise_alarm``:
the alarm row and its emergency in one transaction), and only once that has
committed does the unit hear 200 OK and its SCAIP answer; until then it
keeps the alarm and sends it again, or calls its backup receiver. What is
not a SCAIP request, or comes from a unit nobody provisioned, is kept as a
dead letter with the reason and refused with a SIP error saying it. A
database that is away is 503 (the unit retries): never a 200 for an alarm
not stored.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Final

import psycopg
from prometheus_client import CollectorRegistry, Counter

from edge.protocol import Alarm, AlarmKind
from server.alerts.service import AlertService
from server.domain.alerts import AlertKind
from server.domain.findings import Condition
from server.domain.homes import HubHome
from server.domain.scaip import (
    MessageType,
    ScaipUnit,
    StatusCode,
    StatusNumber,
    alarm_for,
    device_words,
)
from server.scaip.endpoint import Inbound, Reply
from server.scaip.message import ScaipError, ScaipRequest, parse_request, response_body
from server.store import scaip as scaip_sql
from server.store.dead_letters import DeadLetter, store_dead_letter
from server.store.pool import Pool

__all__ = ["ALARM_SOURCE_PREFIX", "ScaipReceiver"]

log = logging.getLogger(__name__)

# Alarms from units are kept beside hubs' alarms under this prefix and the unit's id.
ALARM_SOURCE_PREFIX: Final = "scaip:"
# A unit that heard no answer sends its alarm again with the same reference within
# this long; after it, the same reference is a new alarm (units reuse references).
_REPEAT_WINDOW: Final = timedelta(minutes=10)
_XML_TYPES: Final = frozenset({"application/scaip+xml", "application/xml", "text/xml"})


class ScaipReceiver:
    """The endpoint's handler: decides, stores, and says what to answer."""

    def __init__(
        self, pool: Pool, alerts: AlertService, *, registry: CollectorRegistry | None = None
    ) -> None:
        self._pool = pool
        self._alerts = alerts
        self.alarms = 0
        self.refused = 0
        self._answered = Counter(
            "carewatch_scaip_messages",
            "SCAIP messages from social-alarm units, by the SIP status answered",
            ["status"],
            registry=registry or CollectorRegistry(),
        )

    async def __call__(self, inbound: Inbound) -> Reply:
        """Handle one MESSAGE; only a database outage is answered 503."""
        reply = await self._answer(inbound)
        self._answered.labels(str(reply.status)).inc()
        return reply

    async def _answer(self, inbound: Inbound) -> Reply:
        try:
            return await self._handle(inbound)
        except psycopg.OperationalError as exc:
            log.warning("SCAIP message from %s not taken, database away: %s", inbound.address, exc)
            return Reply(
                503,
                "Service Unavailable",
                warning="carewatch cannot store the message now; send it again",
                headers={"Retry-After": "5"},
            )

    async def _handle(self, inbound: Inbound) -> Reply:
        content_type = inbound.content_type.split(";")[0].strip().lower()
        if content_type not in _XML_TYPES:
            reason = (
                f"Content-Type {inbound.content_type or '(none)'!r} is not SCAIP's "
                "application/scaip+xml"
            )
            await self._dead_letter(inbound, None, reason)
            return Reply(
                415,
                "Unsupported Media Type",
                warning=reason,
                headers={"Accept": "application/scaip+xml"},
            )
        try:
            request = parse_request(inbound.body)
        except ScaipError as exc:
            await self._dead_letter(inbound, None, f"malformed SCAIP message: {exc.reason}")
            return Reply(400, "Bad Request", warning=exc.reason)
        async with self._pool.connection() as conn:
            unit = await scaip_sql.unit_by_id(conn, request.unit)
        if unit is None:
            reason = (
                f"SCAIP unit {request.unit!r} is not provisioned (add it with: carewatch scaip "
                f"add {request.unit} --resident NAME)"
            )
            await self._dead_letter(inbound, None, reason)
            return Reply(403, "Forbidden", warning=reason)
        match request.message_type:
            case MessageType.MESSAGE:
                await self._message(unit, request, inbound)
            case MessageType.HEARTBEAT:
                log.debug("heartbeat from SCAIP unit %s", unit.unit)
            case _:
                # A reset (cancelled at the unit) or information: the alert stays for a
                # person to close; the unit is told it was taken.
                log.info(
                    "SCAIP unit %s: %s message, device %s status %s (%s)",
                    unit.unit,
                    request.message_type.name.lower(),
                    request.device,
                    request.status,
                    request.status_text or "",
                )
        async with self._pool.connection() as conn:
            await scaip_sql.heard(
                conn,
                unit.unit,
                at=inbound.received_at,
                address=inbound.address,
                heartbeat=request.message_type is MessageType.HEARTBEAT,
            )
        return Reply(200, "OK", scaip=response_body(request.ref, StatusNumber.OK))

    async def _message(self, unit: ScaipUnit, request: ScaipRequest, inbound: Inbound) -> None:
        """Raise the alarm a ME message carries (stored once); a status report is logged."""
        kind = alarm_for(request.device, request.status)
        home = HubHome(unit.hub or "", unit.resident_id, unit.resident, unit.timezone)
        words = request.device_text or device_words(request.device)
        if kind is None and request.status == StatusCode.BATTERY_LOW:
            # For the installers' queue; a person closes it once the battery is changed.
            await self._alerts.raise_condition(
                home,
                Condition(
                    hub=home.hub,
                    kind=AlertKind.BATTERY_LOW,
                    event_at=inbound.received_at,
                    reason=(
                        f"The battery of {unit.resident}'s {words} (alarm unit {unit.unit}) "
                        "is low: replace it before it stops calling for help."
                    ),
                    details={"unit": unit.unit, "device": request.device},
                ),
            )
            return
        if kind is None:
            log.info(
                "SCAIP unit %s: %s reports status %s (%s)",
                unit.unit,
                device_words(request.device),
                request.status,
                request.status_text or "",
            )
            return
        source = ALARM_SOURCE_PREFIX + unit.unit
        async with self._pool.connection() as conn:
            repeated = await scaip_sql.recent_alarm_id(
                conn, source, request.ref, since=inbound.received_at - _REPEAT_WINDOW
            )
        alarm_id = repeated or f"{request.ref}@{inbound.received_at:%Y%m%dT%H%M%S.%f}"
        sensor = f"{words} on alarm unit {unit.unit}"
        if request.device_id:
            sensor += f", device {request.device_id}"
        alarm = Alarm(source, alarm_id, sensor, kind, inbound.received_at)
        # Committed (or found stored already, for a repeat) once this returns.
        await self._alerts.raise_alarm(home, alarm)
        if kind is not AlarmKind.TEST and repeated is None:
            self.alarms += 1
            log.warning("SCAIP unit %s: %s alarm (%s)", unit.unit, kind.value, words)

    async def _dead_letter(self, inbound: Inbound, hub: str | None, reason: str) -> None:
        self.refused += 1
        log.info("SCAIP dead letter from %s: %s", inbound.address, reason)
        letter = DeadLetter(
            inbound.received_at, f"scaip/{inbound.address}", hub, reason, inbound.body
        )
        async with self._pool.connection() as conn:
            await store_dead_letter(conn, letter)

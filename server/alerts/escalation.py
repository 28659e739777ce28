"""The escalation scheduler: climbs each unanswered alert's ladder when its rung is due.

Deadlines live in the ``alerts`` table, not in memory: every tick, the
scheduler locks one due alert (``FOR UPDATE SKIP LOCKED``, so two server
processes never take the same one), notifies that rung's contacts, records
every attempt, and sets the next deadline, all in one transaction. A server
killed mid-rung leaves the rung due, and whichever process comes next does it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from server.alerts.digest import compose_digest, digest_due
from server.alerts.ladder import Channel, Contact, Rung, deadline_after, ladder
from server.alerts.links import make_link
from server.alerts.model import Action, AlertStatus, Severity, next_status
from server.alerts.notify import Delivery, Notifier
from server.db import alerts as alerts_sql
from server.db import escalation as escalation_sql
from server.db.pool import DbConn, Pool

__all__ = ["EscalationPolicy", "EscalationScheduler"]

log = logging.getLogger(__name__)


@dataclass(slots=True, frozen=True)
class EscalationPolicy:
    """How long each rung waits, how often to look, and how links and retries behave."""

    ack_timeout: timedelta = timedelta(minutes=5)
    tick_s: float = 1.0
    attempts_per_channel: int = 2
    retry_backoff_s: float = 0.5
    link_lifetime: timedelta = timedelta(hours=2)
    # Advisory alerts wait for the carers' morning digest: nobody is woken for them.
    digest_hour: int = 8
    digest_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))


class EscalationScheduler:
    """Runs due rungs until cancelled."""

    def __init__(
        self,
        pool: Pool,
        notifier: Notifier,
        *,
        link_key: bytes,
        public_url: str,
        policy: EscalationPolicy | None = None,
    ) -> None:
        self._pool = pool
        self._notifier = notifier
        self._link_key = link_key
        self._public_url = public_url.rstrip("/")
        self.policy = policy or EscalationPolicy()
        self._digests_done_on: date | None = None

    async def run(self) -> None:
        """Look for due rungs every tick, for ever."""
        while True:
            try:
                await self.run_due()
                await self.run_digests(datetime.now(UTC))
            except Exception:
                # A database hiccup must not stop escalation for good.
                log.exception("escalation tick failed; trying again")
            await asyncio.sleep(self.policy.tick_s)

    async def run_due(self) -> int:
        """Climb every rung due now; how many were climbed."""
        climbed = 0
        while True:
            async with self._pool.connection() as conn, conn.transaction():
                due = await escalation_sql.claim_due(conn)
                if due is None:
                    return climbed
                await self._climb(conn, due)
            climbed += 1

    async def _climb(self, conn: DbConn, due: escalation_sql.DueAlert) -> None:
        carers, responders, installers = await escalation_sql.contacts_for(conn, due.resident_id)
        rungs = ladder(
            Severity(due.severity),
            carers=carers,
            responders=responders,
            installers=installers,
            ack_timeout=self.policy.ack_timeout,
        )
        index = due.rung
        if due.status == AlertStatus.ESCALATED:
            # Escalated (by the ladder or by hand): straight to the responders' rung.
            responders_rung = next((i for i, r in enumerate(rungs) if r.escalates), len(rungs) - 1)
            index = max(index, responders_rung)
        if index >= len(rungs):
            await escalation_sql.schedule_rung(conn, due.id, rung=index, due_at=None)
            return
        due = replace(due, rung=index)
        rung = rungs[index]
        if rung.escalates and due.status != AlertStatus.ESCALATED:
            next_status(AlertStatus(due.status), Action.ESCALATE)
            await alerts_sql.set_escalated(conn, due.id)
            await alerts_sql.add_event(
                conn,
                due.id,
                actor="system",
                action="escalated",
                note="Not acknowledged in time: passed to the responders.",
            )
        reached = await self._notify_rung(conn, due, rung)
        next_due = deadline_after(rungs, due.rung, datetime.now(UTC), reached=reached)
        await escalation_sql.schedule_rung(conn, due.id, rung=due.rung + 1, due_at=next_due)

    async def _notify_rung(self, conn: DbConn, due: escalation_sql.DueAlert, rung: Rung) -> bool:
        names = ", ".join(c.name for c in rung.contacts)
        if not rung.contacts:
            log.warning("alert %s: nobody to notify on rung %d", due.id, due.rung + 1)
            await alerts_sql.add_event(
                conn,
                due.id,
                actor="system",
                action="nobody_to_notify",
                note="Nobody to notify at this step: no carers set up or no responders on duty. "
                "The alert waits on the console.",
                details={"rung": due.rung + 1},
            )
            return False
        if not rung.notify:
            await alerts_sql.add_event(
                conn, due.id, actor="system", action="shown", note=f"In the app for {names}."
            )
            return True
        reached = [c.name for c in rung.contacts if await self._notify(conn, due, c)]
        note = (
            f"Notified {', '.join(reached)}." if reached else f"Could not reach {names}; moving on."
        )
        await alerts_sql.add_event(
            conn,
            due.id,
            actor="system",
            action="notified",
            note=note,
            details={"rung": due.rung + 1, "reached": reached},
        )
        return bool(reached)

    async def _notify(self, conn: DbConn, due: escalation_sql.DueAlert, contact: Contact) -> bool:
        """Try each of the contact's channels in turn; True once one delivers."""
        title, body = await self._message(conn, due, contact)
        attempts = await self._deliver(contact, title, body)
        for channel, attempt, delivery in attempts:
            await escalation_sql.record_attempt(
                conn,
                due.id,
                user_id=contact.user_id,
                rung=due.rung,
                channel=channel,
                attempt=attempt,
                ok=delivery.ok,
                error=delivery.error,
            )
            if not delivery.ok:
                log.warning(
                    "alert %s: %s to %s failed (attempt %d): %s",
                    due.id,
                    channel.kind,
                    contact.name,
                    attempt,
                    delivery.error,
                )
        return any(delivery.ok for _, _, delivery in attempts)

    async def _deliver(
        self, contact: Contact, title: str, body: str
    ) -> list[tuple[Channel, int, Delivery]]:
        """Channels in the contact's order, each retried with back-off, until one delivers."""
        attempts: list[tuple[Channel, int, Delivery]] = []
        for channel in contact.channels:
            for attempt in range(1, self.policy.attempts_per_channel + 1):
                try:
                    delivery = await self._notifier.send(channel, title=title, body=body)
                except Exception as exc:
                    # A broken channel is a failed attempt, never a stuck ladder.
                    log.exception("notifier failed on %s", channel.kind)
                    delivery = Delivery(False, f"{type(exc).__name__}: {exc}"[:500])
                attempts.append((channel, attempt, delivery))
                if delivery.ok:
                    return attempts
                if attempt < self.policy.attempts_per_channel:
                    await asyncio.sleep(self.policy.retry_backoff_s * attempt)
        return attempts

    async def run_digests(self, now: datetime) -> int:
        """Send today's advisory digests that are due; how many were sent."""
        local = now.astimezone(self.policy.digest_zone)
        if self._digests_done_on == local.date() or not digest_due(
            local, hour=self.policy.digest_hour, last_sent=None
        ):
            return 0
        sent = 0
        async with self._pool.connection() as conn:
            carers = await escalation_sql.carers_without_digest(conn, local.date())
        for carer in carers:
            async with self._pool.connection() as conn, conn.transaction():
                if not await escalation_sql.claim_digest(conn, carer.user_id, local.date()):
                    continue  # another server process has it
                lines = await escalation_sql.advisories_for(
                    conn, carer.user_id, since=now - timedelta(days=1)
                )
                message = compose_digest(carer.name, lines, console_url=self._public_url)
                if message is None:
                    await escalation_sql.finish_digest(
                        conn, carer.user_id, local.date(), alerts=0, ok=True, error=None
                    )
                    continue
                attempts = await self._deliver(carer, *message)
                ok = any(d.ok for _, _, d in attempts)
                error = None if ok else "; ".join(d.error or "" for _, _, d in attempts)[:500]
                await escalation_sql.finish_digest(
                    conn, carer.user_id, local.date(), alerts=len(lines), ok=ok, error=error
                )
                sent += ok
        self._digests_done_on = local.date()
        return sent

    async def _message(
        self, conn: DbConn, due: escalation_sql.DueAlert, contact: Contact
    ) -> tuple[str, str]:
        expires_at = datetime.now(UTC) + self.policy.link_lifetime
        nonce = secrets.token_urlsafe(12)
        await escalation_sql.store_link(
            conn, nonce, due.id, user_id=contact.user_id, expires_at=expires_at
        )
        token = make_link(
            self._link_key, due.id, user_id=contact.user_id, expires_at=expires_at, nonce=nonce
        )
        title = f"[{due.severity.upper()}] {due.resident}: {due.kind.replace('_', ' ')}"
        body = (
            f"{due.reason}\n\n"
            f"Acknowledge with one tap (this link works once, for "
            f"{int(self.policy.link_lifetime.total_seconds() // 60)} minutes):\n"
            f"{self._public_url}/ack/{token}\n"
        )
        return title, body

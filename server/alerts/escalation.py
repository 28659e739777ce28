"""The escalation scheduler: climbs each unanswered alert's ladder when its rung is due.

Deadlines live in the ``alerts`` table, not in memory. A round of
notifications (a rung of the ladder, or another press on an alert already
being worked) goes in three steps, and no row stays locked, no transaction
open and no connection held while anyone waits for a peer:

1. claim, in one short transaction: lock one due alert (``FOR UPDATE SKIP
   LOCKED``, so two server processes never take the same one), decide whom to
   tell, make their one-tap links, and move its deadline out to a lease long
   enough for every send to time out;
2. send, outside any transaction: every contact at once, each contact's
   channels in turn, each attempt with a timeout;
3. record, in another short transaction: every attempt, the trail line, and
   the next deadline, unless someone acknowledged, resolved or escalated the
   alert meanwhile.

Each round is its own task, so a push service that never answers costs its
own contact a few seconds and nobody else's alert anything. A server killed
mid-round leaves the lease in place; whichever process comes next does the
round again when the lease ends.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from server.alerts.calls import Caller
from server.alerts.digest import compose_digest, digest_due, digest_recipients
from server.alerts.ladder import Rung, deadline_after, ladder, realert_round
from server.alerts.links import make_link
from server.alerts.notify import Delivery, Notifier
from server.domain.alerts import UNANSWERED, Action, AlertStatus, Severity, next_status, title_of
from server.domain.contacts import Channel, Contact
from server.store import alerts as alerts_sql
from server.store import escalation as escalation_sql
from server.store.pool import DbConn, Pool

__all__ = ["EscalationPolicy", "EscalationScheduler", "ladder_now"]

log = logging.getLogger(__name__)


async def ladder_now(
    conn: DbConn, resident_id: int, severity: Severity, *, ack_timeout: timedelta
) -> tuple[Rung, ...]:
    """The resident's ladder for an alert of ``severity`` as it stands now: today's
    responders on duty, carers away left off (the one place the ladder meets the database)."""
    return ladder_of(severity, *await escalation_sql.contacts_for(conn, resident_id), ack_timeout)


def ladder_of(
    severity: Severity,
    carers: list[Contact],
    responders: list[Contact],
    installers: list[Contact],
    ack_timeout: timedelta,
) -> tuple[Rung, ...]:
    """The ladder for an alert of ``severity`` from its resident's contacts, as of now."""
    return ladder(
        severity,
        carers=carers,
        responders=responders,
        installers=installers,
        ack_timeout=ack_timeout,
        now=datetime.now(UTC),
    )


@dataclass(slots=True, frozen=True)
class EscalationPolicy:
    """How long each rung waits, how often to look, and how links, sends and retries behave."""

    ack_timeout: timedelta = timedelta(minutes=5)
    tick_s: float = 1.0
    attempts_per_channel: int = 2
    retry_backoff_s: float = 0.5
    link_lifetime: timedelta = timedelta(hours=2)
    # Advisory alerts wait for the carers' morning digest: nobody is woken for them.
    digest_hour: int = 8
    digest_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    # One attempt on one channel gives up after this, and the next is tried.
    send_timeout_s: float = 5.0
    # A voice call rings and waits for the carer's key: its attempts get this long.
    call_timeout_s: float = 100.0
    # Rounds sent at once; due ones beyond this stay unclaimed until a slot frees,
    # so that no lease runs out while its round waits in a queue.
    max_rounds: int = 64
    # Digests sent at once: each takes a database connection now and then.
    max_digests: int = 4
    # Added to a round's longest possible sending, for recording it afterwards.
    lease_margin: timedelta = timedelta(seconds=10)

    def timeout_for(self, channel: Channel) -> float:
        """How long one attempt on ``channel`` may take."""
        return self.call_timeout_s if channel.kind == "voice" else self.send_timeout_s

    def send_budget(self, contacts: Sequence[Contact]) -> timedelta:
        """The longest sending to ``contacts`` can take: all at once, each one's channels in turn.

        >>> policy = EscalationPolicy(send_timeout_s=5.0, attempts_per_channel=2)
        >>> two = (Channel("webpush", "{}"), Channel("email", "amy@example.org"))
        >>> policy.send_budget([Contact(1, "Amy", two), Contact(2, "Ben", two[:1])])
        datetime.timedelta(seconds=21)
        >>> policy.send_budget([Contact(1, "Amy", (Channel("voice", "+447700900123"),))])
        datetime.timedelta(seconds=200, microseconds=500000)
        """
        backoff = sum(self.retry_backoff_s * a for a in range(1, self.attempts_per_channel))

        def longest(contact: Contact) -> float:
            return sum(
                self.attempts_per_channel * self.timeout_for(c) + backoff for c in contact.channels
            )

        return timedelta(seconds=max((longest(c) for c in contacts), default=0.0))


@dataclass(slots=True, frozen=True)
class _Message:
    contact: Contact
    title: str
    body: str
    # What a voice call says: the alert in words, no links.
    spoken: str


@dataclass(slots=True, frozen=True)
class _CallAbout:
    """What a voice call is about: the alert, its words, its status when the call was decided."""

    alert_id: uuid.UUID
    spoken: str
    status: AlertStatus


@dataclass(slots=True, frozen=True)
class _Attempt:
    channel: Channel
    attempt: int
    delivery: Delivery
    at: datetime


@dataclass(slots=True, frozen=True)
class _Round:
    """Messages prepared under the alert's lock, sent after it is released."""

    alert_id: uuid.UUID
    rung: int
    lease: datetime
    messages: tuple[_Message, ...]
    # A rung of the ladder: the ladder, to set the next deadline from.
    rungs: tuple[Rung, ...] = ()
    # Another press on an alert being worked, instead of a rung.
    realert: escalation_sql.DueRealert | None = None
    # The alert's status as the round was prepared: a call placed then is hung
    # up if someone takes or closes the alert after.
    status: AlertStatus = AlertStatus.OPEN


class EscalationScheduler:
    """Runs due rungs and re-alerts until cancelled."""

    def __init__(
        self,
        pool: Pool,
        notifier: Notifier,
        *,
        link_key: bytes,
        public_url: str,
        policy: EscalationPolicy | None = None,
        caller: Caller | None = None,
    ) -> None:
        self._pool = pool
        self._notifier = notifier
        self._caller = caller
        self._link_key = link_key
        self._public_url = public_url.rstrip("/")
        self.policy = policy or EscalationPolicy()
        self._digests_done_on: date | None = None
        self._rounds: set[asyncio.Task[None]] = set()
        self._digest_slots = asyncio.Semaphore(self.policy.max_digests)

    async def run(self) -> None:
        """Look for due rounds every tick, for ever; digests go on beside them."""
        digests: asyncio.Task[int] | None = None
        try:
            while True:
                try:
                    await self.run_due()
                    if digests is not None and digests.done():
                        if not digests.cancelled() and digests.exception() is not None:
                            log.error("digests failed", exc_info=digests.exception())
                        digests = None
                    if digests is None:
                        # A task of its own: a carer's dead mail server must not hold the ladder.
                        digests = asyncio.create_task(self.run_digests(datetime.now(UTC)))
                except Exception:
                    # A database hiccup must not stop escalation for good.
                    log.exception("escalation tick failed; trying again")
                await asyncio.sleep(self.policy.tick_s)
        finally:
            if digests is not None:
                digests.cancel()
            await self.stop()

    async def run_due(self) -> int:
        """Claim every round due now and start sending each; how many were started."""
        started = 0
        while len(self._rounds) < self.policy.max_rounds:
            due, rounds = await self._claim_rungs(self.policy.max_rounds - len(self._rounds))
            if not due:
                realert_due, realert = await self._claim_realert()
                due, rounds = int(realert_due), [] if realert is None else [realert]
            if not due:
                return started
            for round_ in rounds:
                task = asyncio.create_task(self._send_round(round_))
                self._rounds.add(task)
                task.add_done_callback(self._rounds.discard)
                started += 1
        return started

    async def wait_idle(self) -> None:
        """Wait until every round started so far is sent and recorded."""
        while self._rounds:
            await asyncio.gather(*self._rounds, return_exceptions=True)

    async def stop(self) -> None:
        """Abandon the rounds in flight; their leases make another process redo them."""
        for task in list(self._rounds):
            task.cancel()
        await asyncio.gather(*self._rounds, return_exceptions=True)

    async def _claim_rungs(self, limit: int) -> tuple[int, list[_Round]]:
        """Claim up to ``limit`` due rungs in one transaction: how many were due, and the
        rounds to send for them (a rung with nothing to send is done here and then).

        Many at once: a storm of 100,000 findings all due together was two
        transactions and about ten round trips an alert, one alert at a time.
        """
        async with self._pool.connection() as conn, conn.transaction():
            claimed = await escalation_sql.claim_due(conn, limit=limit)
            if not claimed:
                return 0, []
            contacts = await escalation_sql.contacts_for_residents(
                conn, list({due.resident_id for due in claimed})
            )
            rounds = []
            # Pipeline mode: each alert's trail lines, links and deadline are sent without
            # waiting for their answers (nothing read back until the commit).
            async with conn.pipeline():
                for due in claimed:
                    round_ = await self._prepare_rung(conn, due, *contacts[due.resident_id])
                    if round_ is not None:
                        rounds.append(round_)
        return len(claimed), rounds

    async def _prepare_rung(
        self,
        conn: DbConn,
        due: escalation_sql.DueAlert,
        carers: list[Contact],
        responders: list[Contact],
        installers: list[Contact],
    ) -> _Round | None:
        """Decide the claimed alert's rung, in the claim's transaction; the round to send."""
        rungs = ladder_of(
            Severity(due.severity), carers, responders, installers, self.policy.ack_timeout
        )
        index = due.rung
        if due.status == AlertStatus.ESCALATED:
            # Escalated (by the ladder or by hand): straight to the responders' rung.
            responders_rung = next((i for i, r in enumerate(rungs) if r.escalates), len(rungs) - 1)
            index = max(index, responders_rung)
        if index >= len(rungs):
            await escalation_sql.schedule_rung(conn, due.id, rung=index, due_at=None)
            return None
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
        if not rung.contacts or not rung.notify:
            reached = await self._note_unsent(conn, due, rung)
            next_due = deadline_after(rungs, index, datetime.now(UTC), reached=reached)
            await escalation_sql.schedule_rung(conn, due.id, rung=index + 1, due_at=next_due)
            return None
        if not any(contact.channels for contact in rung.contacts):
            # Nobody on the rung has a channel (an installer with no address): the round
            # would send nothing and record "could not reach". Recorded here and now, it
            # costs no lease, no links and no second transaction.
            note, details = _rung_note(due.rung, [], rung.contacts)
            await alerts_sql.add_event(
                conn, due.id, actor="system", action="notified", note=note, details=details
            )
            next_due = deadline_after(rungs, index, datetime.now(UTC), reached=False)
            await escalation_sql.schedule_rung(conn, due.id, rung=index + 1, due_at=next_due)
            return None
        title = f"[{due.severity.upper()}] {due.resident}: {title_of(due.kind)}"
        spoken = _spoken(due.severity, due.resident, due.kind, due.reason)
        messages = []
        for contact in rung.contacts:
            link = await self._link(conn, due.id, contact)
            messages.append(_Message(contact, title, f"{due.reason}\n\n{link}", spoken))
        lease = self._lease(rung.contacts)
        # Ours while it is sent: no other process claims it before the lease ends.
        await escalation_sql.schedule_rung(conn, due.id, rung=index, due_at=lease)
        return _Round(
            due.id, index, lease, tuple(messages), rungs=rungs, status=AlertStatus(due.status)
        )

    async def _note_unsent(self, conn: DbConn, due: escalation_sql.DueAlert, rung: Rung) -> bool:
        """Trail a rung that sends nothing; whether it counts as reaching someone."""
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
            if rung.wait is None and rung.notify:
                # The last rung: nobody at all will hear of it unless the console shows it.
                await alerts_sql.set_nobody_notified(conn, due.id)
            return False
        names = ", ".join(c.name for c in rung.contacts)
        await alerts_sql.add_event(
            conn, due.id, actor="system", action="shown", note=f"In the app for {names}."
        )
        return True

    async def _claim_realert(self) -> tuple[bool, _Round | None]:
        """Whether another press was due to be told, and the round to send for it."""
        async with self._pool.connection() as conn, conn.transaction():
            due = await escalation_sql.claim_realert(conn)
            if due is None:
                return False, None
            if due.status == AlertStatus.RESOLVED:
                # Closed before the round went: the press is on its trail, and
                # the alarm that came after the close raised a new alert.
                await escalation_sql.lease_realert(conn, due.id, until=None)
                return True, None
            acknowledger, notified = await escalation_sql.realert_contacts(
                conn, due.alert_id, acknowledged_by=due.acknowledged_by
            )
            _, responders, _ = await escalation_sql.contacts_for(conn, due.resident_id)
            contacts = realert_round(
                Severity(due.severity),
                acknowledger=acknowledger,
                notified=notified,
                responders=responders,
            )
            if not contacts:
                log.warning("alert %s: nobody to tell of press %d", due.alert_id, due.press)
                await alerts_sql.add_event(
                    conn,
                    due.alert_id,
                    actor="system",
                    action="nobody_to_notify",
                    note=f"Nobody to tell of press {due.press}: the alert waits on the console.",
                    details={"press": due.press},
                )
                await escalation_sql.lease_realert(conn, due.id, until=None)
                return True, None
            title = (
                f"[{due.severity.upper()}] {due.resident}: {title_of(due.kind)}"
                f" AGAIN (press {due.press})"
            )
            intro = f"{due.note}\nPress {due.press} on this alert: {due.reason}"
            spoken = f"{due.note} " + _spoken(due.severity, due.resident, due.kind, due.reason)
            messages = []
            for contact in contacts:
                if due.status in UNANSWERED:
                    after = await self._link(conn, due.alert_id, contact)
                else:
                    after = (
                        f"{due.acknowledged_by} acknowledged it; it is still open:"
                        f" {self._public_url}/\n"
                    )
                messages.append(_Message(contact, title, f"{intro}\n\n{after}", spoken))
            lease = self._lease(contacts)
            await escalation_sql.lease_realert(conn, due.id, until=lease)
        return True, _Round(
            due.alert_id,
            due.rung,
            lease,
            tuple(messages),
            realert=due,
            status=AlertStatus(due.status),
        )

    def _lease(self, contacts: Sequence[Contact]) -> datetime:
        return datetime.now(UTC) + self.policy.send_budget(contacts) + self.policy.lease_margin

    async def _send_round(self, round_: _Round) -> None:
        """Send to everyone in the round at once, then record how it went."""
        try:
            results = await asyncio.gather(
                *(
                    self._deliver(
                        m.contact,
                        m.title,
                        m.body,
                        about=_CallAbout(round_.alert_id, m.spoken, round_.status),
                    )
                    for m in round_.messages
                )
            )
            await self._record(round_, results)
        except Exception:
            log.exception(
                "alert %s: a round of notifications failed; redone when its lease ends",
                round_.alert_id,
            )

    async def _record(self, round_: _Round, results: Sequence[list[_Attempt]]) -> None:
        press = round_.realert.press if round_.realert else None
        reached: list[str] = []
        async with self._pool.connection() as conn, conn.transaction():
            # Pipeline mode: the attempts and the trail line go without waiting for answers.
            async with conn.pipeline():
                await self._record_attempts(conn, round_, results, press, reached)
            if round_.realert is not None:
                await escalation_sql.finish_realert(conn, round_.realert.id, lease=round_.lease)
                return
            next_due = deadline_after(
                round_.rungs, round_.rung, datetime.now(UTC), reached=bool(reached)
            )
            moved_on = await escalation_sql.finish_rung(
                conn,
                round_.alert_id,
                rung=round_.rung,
                lease=round_.lease,
                next_rung=round_.rung + 1,
                due_at=next_due,
            )
        if not moved_on:
            log.info(
                "alert %s changed while rung %d was sent; its deadline is left as it is",
                round_.alert_id,
                round_.rung + 1,
            )

    async def _record_attempts(
        self,
        conn: DbConn,
        round_: _Round,
        results: Sequence[list[_Attempt]],
        press: int | None,
        reached: list[str],
    ) -> None:
        """Every attempt of the round and its trail line; who was reached goes in ``reached``."""
        # Those whose call was hung up because the alert was taken or closed meanwhile.
        stopped: list[str] = []
        for message, attempts in zip(round_.messages, results, strict=True):
            contact = message.contact
            for a in attempts:
                await escalation_sql.record_attempt(
                    conn,
                    round_.alert_id,
                    user_id=contact.user_id,
                    rung=round_.rung,
                    channel=a.channel,
                    attempt=a.attempt,
                    ok=a.delivery.ok,
                    error=a.delivery.error,
                    at=a.at,
                    press=press,
                )
                if not a.delivery.ok:
                    log.warning(
                        "alert %s: %s to %s failed (attempt %d): %s",
                        round_.alert_id,
                        a.channel.kind,
                        contact.name,
                        a.attempt,
                        a.delivery.error,
                    )
            if any(a.delivery.ok for a in attempts):
                reached.append(contact.name)
            elif attempts and attempts[-1].delivery.settled:
                stopped.append(contact.name)
        contacts = [m.contact for m in round_.messages]
        if round_.realert is None:
            note, details = _rung_note(round_.rung, reached, contacts, stopped=stopped)
        else:
            names = ", ".join(c.name for c in contacts)
            note = (
                f"Press {press}: notified {', '.join(reached)} again."
                if reached
                else f"Press {press}: could not reach {names}."
            )
            details = {"press": press, "reached": reached}
        await alerts_sql.add_event(
            conn, round_.alert_id, actor="system", action="notified", note=note, details=details
        )

    async def _deliver(
        self,
        contact: Contact,
        title: str,
        body: str,
        *,
        about: _CallAbout | None = None,
    ) -> list[_Attempt]:
        """Channels in the contact's order, each retried with back-off, until one delivers.

        ``about``: the alert and the words a voice call says; without it (a
        digest) voice channels are passed over. A voice call's retry is the
        carer being called again when they did not answer.
        """
        attempts: list[_Attempt] = []
        for channel in contact.channels:
            if channel.kind == "voice" and about is None:
                continue
            timeout = self.policy.timeout_for(channel)
            for attempt in range(1, self.policy.attempts_per_channel + 1):
                try:
                    delivery = await asyncio.wait_for(
                        self._send(channel, contact, title, body, about), timeout
                    )
                except TimeoutError:
                    delivery = Delivery(False, f"no answer within {timeout:g} s")
                except Exception as exc:
                    # A broken channel is a failed attempt, never a stuck ladder.
                    log.exception("notifier failed on %s", channel.kind)
                    delivery = Delivery(False, f"{type(exc).__name__}: {exc}"[:500])
                attempts.append(_Attempt(channel, attempt, delivery, datetime.now(UTC)))
                if delivery.ok or delivery.settled:
                    return attempts
                if attempt < self.policy.attempts_per_channel:
                    await asyncio.sleep(self.policy.retry_backoff_s * attempt)
        return attempts

    async def _send(
        self,
        channel: Channel,
        contact: Contact,
        title: str,
        body: str,
        about: _CallAbout | None,
    ) -> Delivery:
        """One attempt: a call for a voice channel, a message for the others."""
        if channel.kind != "voice":
            return await self._notifier.send(channel, title=title, body=body)
        if self._caller is None:
            return Delivery(False, "this server places no voice calls: set CAREWATCH_VOICE_URL")
        assert about is not None
        return await self._caller.call(
            channel,
            alert_id=about.alert_id,
            user_id=contact.user_id,
            words=about.spoken,
            alert_status=about.status,
        )

    async def run_digests(self, now: datetime) -> int:
        """Send today's advisory digests that are due; how many were sent."""
        local = now.astimezone(self.policy.digest_zone)
        if self._digests_done_on == local.date() or not digest_due(
            local, hour=self.policy.digest_hour, last_sent=None
        ):
            return 0
        async with self._pool.connection() as conn:
            carers = await escalation_sql.carers_without_digest(conn, local.date())
        # Quiet hours hold a carer's digest until they end; time away skips the day's.
        ready, held = digest_recipients(carers, now=now, local=local.time())
        sent = await asyncio.gather(*(self._send_digest(c, local.date(), now) for c in ready))
        if not held:
            self._digests_done_on = local.date()
        return sum(sent)

    async def _send_digest(self, carer: Contact, day: date, now: datetime) -> bool:
        """One carer's digest: claimed and committed first, sent with no transaction open.

        A server killed mid-send leaves the day's digest claimed and not sent
        (recorded as failed): an advisory digest is sent at most once.
        """
        async with self._digest_slots:
            async with self._pool.connection() as conn, conn.transaction():
                if not await escalation_sql.claim_digest(conn, carer.user_id, day):
                    return False  # another server process has it
                lines = await escalation_sql.advisories_for(
                    conn, carer.user_id, since=now - timedelta(days=1)
                )
            message = compose_digest(carer.name, lines, console_url=self._public_url)
            ok, error = True, None
            if message is not None:
                attempts = await self._deliver(carer, *message)
                ok = any(a.delivery.ok for a in attempts)
                if not ok:
                    error = "; ".join(a.delivery.error or "" for a in attempts)[:500]
            async with self._pool.connection() as conn, conn.transaction():
                await escalation_sql.finish_digest(
                    conn, carer.user_id, day, alerts=len(lines), ok=ok, error=error
                )
        return message is not None and ok

    async def _link(self, conn: DbConn, alert_id: uuid.UUID, contact: Contact) -> str:
        """A one-tap acknowledge link for ``contact``, stored so that it works once."""
        expires_at = datetime.now(UTC) + self.policy.link_lifetime
        nonce = secrets.token_urlsafe(12)
        await escalation_sql.store_link(
            conn, nonce, alert_id, user_id=contact.user_id, expires_at=expires_at
        )
        token = make_link(
            self._link_key, alert_id, user_id=contact.user_id, expires_at=expires_at, nonce=nonce
        )
        minutes = int(self.policy.link_lifetime.total_seconds() // 60)
        return (
            f"Acknowledge with one tap (this link works once, for {minutes} minutes):\n"
            f"{self._public_url}/ack/{token}\n"
        )


def _rung_note(
    rung: int,
    reached: Sequence[str],
    contacts: Sequence[Contact],
    *,
    stopped: Sequence[str] = (),
) -> tuple[str, dict[str, object]]:
    """The trail line of a rung's round: its note and details.

    ``stopped``: those not tried further because the alert was taken or
    closed while they were being reached.

    >>> _rung_note(0, [], [Contact(1, "Amy", ())])
    ('Could not reach Amy; moving on.', {'rung': 1, 'reached': []})
    >>> _rung_note(0, [], [Contact(1, "Amy", ())], stopped=["Amy"])[0]
    'Stopped trying Amy: the alert was taken or closed meanwhile.'
    """
    details: dict[str, object] = {"rung": rung + 1, "reached": list(reached)}
    if stopped:
        details["stopped"] = list(stopped)
    if reached:
        note = f"Notified {', '.join(reached)}."
    elif stopped:
        note = f"Stopped trying {', '.join(stopped)}: the alert was taken or closed meanwhile."
        others = [c.name for c in contacts if c.name not in stopped]
        if others:
            note += f" Could not reach {', '.join(others)}."
    else:
        note = f"Could not reach {', '.join(c.name for c in contacts)}; moving on."
    return note, details


def _spoken(severity: str, resident: str, kind: str, reason: str) -> str:
    """An alert as a voice call reads it out.

    >>> _spoken("urgent", "Mrs Edith Clarke", "no_movement", "No movement since 09:12.")
    'An urgent alert for Mrs Edith Clarke: No movement. No movement since 09:12.'
    """
    article = "An" if severity[:1] in "aeiou" else "A"
    return f"{article} {severity} alert for {resident}: {title_of(kind)}. {reason}"

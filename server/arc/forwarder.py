"""Sends each forwarded alert to its service's ARC over DC-09 until a receiver acknowledges it.

Its own task, apart from raising and notifying: an alert is raised and its
people are told whatever the ARC link does; the forwarder hears of the alert
afterwards (the alerts' NOTIFY channel, and a poll in case a notice is
missed), puts it in the ``arc_deliveries`` outbox and works from there, so a
restart loses nothing. Every attempt and its outcome go on the alert's trail.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from prometheus_client import CollectorRegistry, Counter, Gauge

from server.alerts.service import AlertService
from server.arc.dc09 import event_frame, null_frame, read_reply
from server.arc.link import Exchange, exchange
from server.domain.alerts import AlertKind
from server.domain.arc import (
    EVENT_CODES,
    ArcAccount,
    EventCode,
    EventFormat,
    Outcome,
    ReceiverPath,
    RetryPolicy,
    Verdict,
    after_round,
    forwards,
    path_down_for,
)
from server.domain.findings import Cleared, Condition
from server.domain.homes import HubHome
from server.store import alerts as alerts_sql
from server.store import arc as arc_sql
from server.store.pool import Pool

__all__ = ["ArcForwarder", "ForwarderPolicy", "LinkState"]

log = logging.getLogger(__name__)


@dataclass(slots=True, frozen=True)
class ForwarderPolicy:
    """How hard the forwarder tries, in seconds."""

    # One attempt on one path: connect, send, wait for the answer.
    attempt_timeout_s: float = 5.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # Every path failing this long raises a technical alert.
    down_limit: timedelta = timedelta(minutes=2)
    # Looks for new alerts this often even without a notice from the database.
    poll_s: float = 2.0


@dataclass(slots=True)
class LinkState:
    """What the last supervision (or event) on one path came to."""

    ok: bool | None = None
    last_ok_at: datetime | None = None
    detail: str = ""


class ArcForwarder:
    """Start with ``await forwarder.run()`` as a task; cancel it to stop."""

    def __init__(
        self,
        pool: Pool,
        alerts: AlertService,
        *,
        database_url: str,
        policy: ForwarderPolicy | None = None,
        send: Exchange = exchange,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._pool = pool
        self._alerts = alerts
        self._database_url = database_url
        self.policy = policy or ForwarderPolicy()
        self._send = send
        self._clock = clock
        self._wake = asyncio.Event()
        # (alert, press) being sent now.
        self._in_flight: dict[tuple[uuid.UUID, int], asyncio.Task[None]] = {}
        self._null_seq = 0
        self._accounts: dict[str, ArcAccount] = {}
        self._last_null: dict[str, datetime] = {}
        # (service, "primary" or "backup") → the path's last known state.
        self.links: dict[tuple[str, str], LinkState] = {}
        # On /metrics, so a monitor sees a dead link even while no alarm waits on it.
        registry = registry or CollectorRegistry()
        self._link_up = Gauge(
            "carewatch_arc_link_up",
            "Whether the last DC-09 exchange (event or link test) on an ARC path was answered",
            ["service", "path"],
            registry=registry,
        )
        self._attempts = Counter(
            "carewatch_arc_attempts",
            "DC-09 event attempts to ARCs, by outcome (ack, nak, duh, failed)",
            ["service", "path", "outcome"],
            registry=registry,
        )

    async def run(self) -> None:
        """Forward for ever: listen for alert changes, work the outbox, supervise the links."""
        listener = asyncio.create_task(self._listen(), name="arc-listen")
        supervision = asyncio.create_task(self._supervision(), name="arc-supervision")
        try:
            while True:
                try:
                    await self.tick()
                except Exception:
                    # A bad account row or a database blip must not stop forwarding for good.
                    log.exception("ARC forwarding round failed; trying again")
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.policy.poll_s):
                        await self._wake.wait()
                self._wake.clear()
        finally:
            tasks = [listener, supervision, *self._in_flight.values()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def tick(self) -> None:
        """One round: queue new alerts, start sending what is due."""
        async with self._pool.connection() as conn:
            accounts = {a.service: a for a in await arc_sql.accounts(conn)}
            self._accounts = accounts
            if not accounts:
                return
            for candidate in await arc_sql.new_candidates(conn):
                account = accounts.get(candidate.service)
                if account and forwards(account, candidate.kind, candidate.severity):
                    await arc_sql.queue(conn, candidate.alert_id, candidate.service)
                else:
                    await arc_sql.mark_not_forwarded(conn, candidate.alert_id, candidate.service)
            # The person pressed again on an alert the ARC has: it hears of each press.
            for alert_id, service, press in await arc_sql.new_presses(conn):
                await arc_sql.queue(conn, alert_id, service, press=press)
            # Long enough for every path to time out, so no other process takes it meanwhile.
            lease = self.policy.attempt_timeout_s * 4 + 5
            due = await arc_sql.claim_due(conn, lease_s=lease)
        for delivery in due:
            account = accounts.get(delivery.service)
            key = (delivery.alert_id, delivery.press)
            if account is None or key in self._in_flight:
                continue
            task = asyncio.create_task(self._deliver(delivery, account), name="arc-deliver")
            self._in_flight[key] = task
            task.add_done_callback(functools.partial(self._done, key))

    def _done(self, key: tuple[uuid.UUID, int], _: asyncio.Task[None]) -> None:
        """A delivery round ended: the next claim may take it again."""
        self._in_flight.pop(key, None)

    async def _supervision(self) -> None:
        """Link tests on their own task: a receiver that does not answer never holds up an alarm."""
        while True:
            for account in list(self._accounts.values()):
                try:
                    await self._supervise(account)
                except Exception:
                    log.exception("ARC %s link test failed", account.service)
            await asyncio.sleep(min(1.0, self.policy.poll_s))

    async def _listen(self) -> None:
        """Wake the loop on every alert change, so an alarm goes out within milliseconds."""
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self._database_url, autocommit=True)
                async with conn:
                    await arc_sql.listen_to_alerts(conn)
                    self._wake.set()  # anything raised while we were not listening
                    async for _ in conn.notifies():
                        self._wake.set()
            except psycopg.Error:
                log.warning("ARC forwarder lost its database notices; polling until back")
                await asyncio.sleep(self.policy.poll_s)

    async def _deliver(self, delivery: arc_sql.Delivery, account: ArcAccount) -> None:
        """One round over the account's paths, primary first, until one acknowledges."""
        try:
            await self._round(delivery, account)
        except Exception:
            # The lease runs out and the next round takes it again.
            log.exception("ARC delivery of alert %s failed; trying again", delivery.alert_id)

    async def _round(self, delivery: arc_sql.Delivery, account: ArcAccount) -> None:
        """Primary then backup; delivered, refused, or rescheduled (and reported past the limit)."""
        code = EVENT_CODES[delivery.kind]
        attempt = delivery.rounds + 1
        started = self._clock()
        press = "" if delivery.press == 1 else f", press {delivery.press}"
        outcomes: list[Outcome] = []
        for name, path in zip(("primary", "backup"), account.paths, strict=False):
            outcome, detail = await self._attempt(account, path, delivery, code=code)
            outcomes.append(outcome)
            self._note_link(account.service, name, ok=outcome is not Outcome.FAILED, detail=detail)
            self._attempts.labels(account.service, name, outcome.value).inc()
            await self._trail(
                delivery.alert_id,
                "arc_attempt" if outcome is not Outcome.ACK else "arc_delivered",
                f"DC-09 to the {account.service} ARC, {name} path {path}: {detail}"
                f" (round {attempt}{press}).",
                {
                    "path": name,
                    "receiver": str(path),
                    "outcome": outcome.value,
                    "round": attempt,
                    "press": delivery.press,
                    "seq": delivery.seq,
                    "account": account.account,
                    "code": code.sia if account.event_format is EventFormat.SIA_DCS else code.cid,
                    "zone": code.zone,
                },
            )
            if outcome is Outcome.ACK:
                break
        now = self._clock()
        decision = after_round(
            tuple(outcomes),
            rounds=attempt,
            failing_since=delivery.failing_since,
            started=started,
            now=now,
            reported=delivery.reported,
            retry=self.policy.retry,
            down_limit=self.policy.down_limit,
        )
        async with self._pool.connection() as conn, conn.transaction():
            if decision.verdict is Verdict.DELIVERED:
                await arc_sql.mark_delivered(conn, delivery.alert_id, delivery.press)
            elif decision.verdict is Verdict.REFUSED:
                await arc_sql.mark_refused(conn, delivery.alert_id, delivery.press)
            else:
                assert decision.failing_since is not None
                await arc_sql.reschedule(
                    conn,
                    delivery.alert_id,
                    delivery.press,
                    delay_s=decision.retry_in_s,
                    failing_since=decision.failing_since,
                )
        if decision.verdict is Verdict.DELIVERED and delivery.reported:
            await self._alerts.clear_condition(
                _home(delivery),
                Cleared(
                    delivery.hub or "",
                    AlertKind.ARC_UNREACHABLE,
                    now,
                    f"The {account.service} ARC acknowledged the alarm at round {attempt}.",
                ),
            )
        if decision.verdict is Verdict.RETRY:
            # Wake for the retry itself, not at the next poll.
            asyncio.get_running_loop().call_later(decision.retry_in_s, self._wake.set)
        if not decision.report:
            return
        if decision.verdict is Verdict.REFUSED:
            why = (
                f"the {account.service} ARC's receivers refused the alarm (DUH): check the"
                f" account {account.account} and the event codes on the ARC's side"
            )
        else:
            down = path_down_for(decision.failing_since, now=now)
            why = (
                f"no receiver of the {account.service} ARC has taken the alarm for"
                f" {int(down.total_seconds())} s ({attempt} rounds); still trying every"
                f" {decision.retry_in_s:g} s"
            )
        await self._report(delivery, account, now, why)

    async def _attempt(
        self,
        account: ArcAccount,
        path: ReceiverPath,
        delivery: arc_sql.Delivery,
        *,
        code: EventCode,
    ) -> tuple[Outcome, str]:
        """Send on one path; a NAK is answered at once with the frame stamped anew (DC-09)."""
        reply_detail = ""
        for _ in range(2):
            frame = event_frame(
                account,
                seq=delivery.seq,
                code=code,
                resident_id=delivery.resident_id,
                now=self._clock(),
            )
            try:
                answer = await self._send(path, frame, self.policy.attempt_timeout_s)
            except TimeoutError:
                return Outcome.FAILED, f"no answer within {self.policy.attempt_timeout_s:g} s"
            except (OSError, asyncio.IncompleteReadError) as exc:
                return Outcome.FAILED, f"could not connect ({exc.__class__.__name__}: {exc})"
            reply = read_reply(answer, sent=frame, key=account.key)
            if reply.outcome is not Outcome.NAK:
                return reply.outcome, reply.detail
            reply_detail = reply.detail
        return Outcome.NAK, f"{reply_detail}, twice"

    async def _supervise(self, account: ArcAccount) -> None:
        """A null message on each path when the receiver's supervision interval is up."""
        if account.supervision_s <= 0:
            return
        now = self._clock()
        last = self._last_null.get(account.service)
        if last is not None and (now - last).total_seconds() < account.supervision_s:
            return
        self._last_null[account.service] = now
        for name, path in zip(("primary", "backup"), account.paths, strict=False):
            self._null_seq = self._null_seq % 9999 + 1
            frame = null_frame(account, seq=self._null_seq, now=now)
            try:
                answer = await self._send(path, frame, self.policy.attempt_timeout_s)
                reply = read_reply(answer, sent=frame, key=account.key)
                ok, detail = reply.outcome is Outcome.ACK, reply.detail
            except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
                ok, detail = False, f"could not connect ({exc.__class__.__name__})"
            self._note_link(account.service, name, ok=ok, detail=detail)
            if not ok:
                log.warning(
                    "ARC %s %s path %s link test failed: %s", account.service, name, path, detail
                )

    def _note_link(self, service: str, name: str, *, ok: bool, detail: str) -> None:
        """Remember (and show on /metrics) whether a path answered."""
        state = self.links.setdefault((service, name), LinkState())
        state.ok, state.detail = ok, detail
        self._link_up.labels(service, name).set(1 if ok else 0)
        if ok:
            state.last_ok_at = self._clock()

    async def _trail(
        self, alert_id: uuid.UUID, action: str, note: str, details: dict[str, Any]
    ) -> None:
        """A line on the alert's audit trail."""
        async with self._pool.connection() as conn, conn.transaction():
            await alerts_sql.add_event(
                conn, alert_id, actor="system", action=action, note=note, details=details
            )

    async def _report(
        self, delivery: arc_sql.Delivery, account: ArcAccount, now: datetime, why: str
    ) -> None:
        """A technical alert on the resident's record: their alarm has not reached the ARC."""
        log.warning(
            "alert %s not delivered to the %s ARC: %s", delivery.alert_id, account.service, why
        )
        await self._alerts.raise_condition(
            _home(delivery),
            Condition(
                hub=delivery.hub or "",
                kind=AlertKind.ARC_UNREACHABLE,
                event_at=now,
                reason=f"{delivery.resident}'s {delivery.kind.value} alarm has not reached the"
                f" alarm receiving centre: {why}. The alarm is still with carewatch's responders.",
                details={"alert_id": str(delivery.alert_id), "service": account.service},
            ),
        )
        async with self._pool.connection() as conn, conn.transaction():
            await arc_sql.set_reported(conn, delivery.alert_id, delivery.press)


def _home(delivery: arc_sql.Delivery) -> HubHome:
    """The home the delivery's alert is about, as AlertService takes it."""
    return HubHome(delivery.hub or "", delivery.resident_id, delivery.resident, delivery.timezone)

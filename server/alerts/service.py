"""Raising, acknowledging and resolving alerts, each step in one transaction with its audit row."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from edge.protocol import Alarm, AlarmKind
from server.alerts.escalation import ladder_now
from server.alerts.ladder import pass_on_rung
from server.alerts.links import LinkRefused, read_link
from server.domain.access import Role
from server.domain.alerts import (
    Action,
    AfterClearing,
    AlertKind,
    AlertStatus,
    IllegalTransition,
    Outcome,
    Repeat,
    Severity,
    Taking,
    kind_for_alarm,
    next_status,
    on_acknowledge,
    on_cleared,
    on_repeat,
    resolution_refused,
)
from server.domain.findings import Cleared, Condition, Finding
from server.domain.homes import HubHome
from server.domain.plans import checklist
from server.store import alarms as alarms_sql
from server.store import alerts as alerts_sql
from server.store import care_record as record_sql
from server.store import escalation as escalation_sql
from server.store import people
from server.store import plans as plans_sql
from server.store.pool import DbConn, Pool

__all__ = [
    "MAX_REASON_CHARS",
    "AlertNotFound",
    "AlertService",
    "LinkRefused",
    "ResolutionRefused",
    "StepNotInPlan",
    "clip_reason",
]

log = logging.getLogger(__name__)

_ALARM_WORDS = {
    "pendant": "pressed their pendant",
    "pull_cord": "pulled the alarm cord",
    "fall": "fall detector triggered",
    "smoke": "smoke alarm triggered",
    "co": "carbon monoxide alarm triggered",
    "flood": "flood sensor triggered",
}


# A reason is read on a phone by a carer: a few sentences. Detectors write far
# less; this only bounds what a fault (or a hub naming thousands of sensors)
# could make them write.
MAX_REASON_CHARS = 2_000


def clip_reason(reason: str) -> str:
    """The reason, cut at ``MAX_REASON_CHARS`` with an ellipsis.

    >>> clip_reason("x" * 3000)[-3:], len(clip_reason("x" * 3000))
    ('xx…', 2000)
    """
    if len(reason) <= MAX_REASON_CHARS:
        return reason
    return reason[: MAX_REASON_CHARS - 1] + "…"


class AlertNotFound(LookupError):
    """No alert with that id."""


class ResolutionRefused(ValueError):
    """The alert may not be closed that way (an emergency without a note, say)."""


class StepNotInPlan(ValueError):
    """The step is not one of the response plan's for the alert's kind."""


def _new_alert(home: HubHome, condition: Condition) -> alerts_sql.NewAlert:
    return alerts_sql.NewAlert(
        resident_id=home.resident_id,
        hub=home.hub or None,
        kind=condition.kind,
        severity=condition.severity,
        event_at=condition.event_at,
        reason=clip_reason(condition.reason),
        details=dict(condition.details),
    )


async def _raise_in(conn: DbConn, home: HubHome, condition: Condition) -> tuple[uuid.UUID, bool]:
    """Raise the condition's alert in the caller's transaction; its id, and whether it is new."""
    return await alerts_sql.insert_alert(conn, _new_alert(home, condition))


async def _raise_all_in(
    conn: DbConn, conditions: Sequence[tuple[HubHome, Condition]]
) -> list[tuple[HubHome, Condition]]:
    """Raise conditions of distinct residents and kinds at once; those that raised a new alert.

    A condition whose resident already has an active alert of its kind is raised
    alone afterwards, as :func:`_raise_in` does it (the repeat noted on the trail).
    """
    if not conditions:
        return []
    ids = await alerts_sql.insert_new_alerts(conn, [_new_alert(h, c) for h, c in conditions])
    raised = []
    for (home, condition), alert_id in zip(conditions, ids, strict=True):
        if alert_id is not None or (await _raise_in(conn, home, condition))[1]:
            raised.append((home, condition))
    return raised


async def _clear_in(conn: DbConn, home: HubHome, cleared: Cleared) -> None:
    """Close, keep for review or note the ended condition, in the caller's transaction."""
    note = clip_reason(cleared.reason)
    active = await alerts_sql.active_for_update(conn, home.resident_id, cleared.kind.value)
    if active is None:
        return
    alert_id, status, severity = active
    after = on_cleared(AlertStatus(status), Severity(severity))
    if after is AfterClearing.CLOSE:
        await alerts_sql.set_resolved(conn, alert_id, by="system", outcome=Outcome.SELF_CLEARED)
        await alerts_sql.add_event(conn, alert_id, actor="system", action="self_cleared", note=note)
    elif after is AfterClearing.NEEDS_REVIEW:
        await alerts_sql.set_needs_review(conn, alert_id, reason=note)
        await alerts_sql.add_event(
            conn, alert_id, actor="system", action="cleared_needs_review", note=note
        )
    else:
        # Someone is already dealing with it: tell them, let them close it.
        await alerts_sql.add_event(
            conn, alert_id, actor="system", action="condition_cleared", note=note
        )


class AlertService:
    """The only way alerts change; the console's live stream hears of every change."""

    def __init__(self, pool: Pool, *, link_key: bytes) -> None:
        self._pool = pool
        self._link_key = link_key

    async def raise_condition(self, home: HubHome, condition: Condition) -> uuid.UUID:
        """Raise an alert for a detected condition, or add to the active one."""
        async with self._pool.connection() as conn, conn.transaction():
            alert_id, new = await _raise_in(conn, home, condition)
        if new:
            log.warning("%s alert for %s: %s", condition.severity, home.resident, condition.reason)
        return alert_id

    async def clear_condition(self, home: HubHome, cleared: Cleared) -> None:
        """The condition ended by itself: close, keep for review, or note it (see on_cleared)."""
        async with self._pool.connection() as conn, conn.transaction():
            await _clear_in(conn, home, cleared)

    async def apply_findings(self, findings: Sequence[tuple[HubHome, Finding]]) -> None:
        """Raise and clear many detected conditions, in order, in one transaction.

        Each is raised or cleared exactly as :meth:`raise_condition` and
        :meth:`clear_condition` do it (the same rows, audit trail and
        escalation timer, so the same notifications); only the commit is shared.
        """
        raised: list[tuple[HubHome, Condition]] = []
        # Consecutive conditions of distinct residents and kinds are raised in one
        # statement (insert_new_alerts); a clear, or a second condition of the same
        # resident and kind, ends the run, so that order is kept. Pipeline mode: the
        # statements of a clear or a repeat are sent without waiting for their answers.
        run: list[tuple[HubHome, Condition]] = []
        keys: set[tuple[int, AlertKind]] = set()
        async with self._pool.connection() as conn, conn.transaction(), conn.pipeline():
            for home, finding in findings:
                key = (home.resident_id, finding.kind)
                if isinstance(finding, Condition) and key not in keys:
                    run.append((home, finding))
                    keys.add(key)
                    continue
                raised += await _raise_all_in(conn, run)
                run, keys = [], set()
                if isinstance(finding, Condition):
                    run.append((home, finding))
                    keys.add(key)
                else:
                    await _clear_in(conn, home, finding)
            raised += await _raise_all_in(conn, run)
        for home, condition in raised:
            log.warning("%s alert for %s: %s", condition.severity, home.resident, condition.reason)

    async def raise_alarm(self, home: HubHome, alarm: Alarm) -> uuid.UUID | None:
        """An alarm from the home raises an emergency; a redelivered alarm raises nothing.

        A new alarm on an emergency already being worked (open, escalated or
        acknowledged) is counted on it and sends a round of notifications to
        everyone working it: the person asked again, and may be worse. A test
        alarm (``carewatch-agent check --test``) is stored and raises nothing.
        """
        if alarm.kind is AlarmKind.TEST:
            # An installer's `carewatch-agent check --test`: stored (so the hub is told
            # it arrived) and logged, but no alert: nobody is woken for a test.
            async with self._pool.connection() as conn:
                if await alarms_sql.insert_alarm(conn, alarm):
                    log.info("test alarm %s from hub %s stored; no alert", alarm.id, alarm.hub)
            return None
        zone = ZoneInfo(home.timezone)
        words = _ALARM_WORDS.get(alarm.kind.value, f"{alarm.kind.value} alarm")
        local = alarm.ts.astimezone(zone)
        reason = f"{home.resident} {words} at {local:%H:%M} ({alarm.sensor})."
        async with self._pool.connection() as conn, conn.transaction():
            if not await alarms_sql.insert_alarm(conn, alarm):
                return None
            alert_id, new = await alerts_sql.insert_alert(
                conn,
                alerts_sql.NewAlert(
                    resident_id=home.resident_id,
                    hub=home.hub or None,
                    kind=kind_for_alarm(alarm.kind),
                    severity=Severity.EMERGENCY,
                    event_at=alarm.ts,
                    reason=reason,
                    details={"alarm_id": alarm.id, "sensor": alarm.sensor},
                ),
                note_repeat=False,
            )
            press = None
            if not new:
                active = await alerts_sql.get_alert(conn, alert_id)
                assert active is not None, "insert_alert holds it"
                if on_repeat(AlertStatus(active.status), new_alarm=True) is Repeat.REALERT:
                    again = f"{home.resident} {words} again at {local:%H:%M} ({alarm.sensor})."
                    press = await alerts_sql.add_press(
                        conn, alert_id, alarm_id=alarm.id, at=alarm.ts, note=again
                    )
                    await escalation_sql.schedule_realert(conn, alert_id, press=press, note=again)
        if new:
            log.warning("emergency alert for %s: %s", home.resident, reason)
        elif press is not None:
            log.warning("alert %s: %s %s again (press %d)", alert_id, home.resident, words, press)
        return alert_id

    async def acknowledge(
        self, alert_id: uuid.UUID, *, by: str, by_carer: bool = False
    ) -> alerts_sql.AlertRow:
        """A person has taken the alert on; a carer on an emergency only says they respond."""
        async with self._pool.connection() as conn, conn.transaction():
            alert = await alerts_sql.get_alert(conn, alert_id, for_update=True)
            if alert is None:
                raise AlertNotFound(f"no alert {alert_id}")
            taking = on_acknowledge(Severity(alert.severity), by_carer=by_carer)
            if taking is Taking.CARER_RESPONDING and alert.status != AlertStatus.RESOLVED:
                await alerts_sql.set_carer_responding(conn, alert_id, by=by)
                await alerts_sql.add_event(
                    conn,
                    alert_id,
                    actor=by,
                    action="carer_responding",
                    note="A carer said they are dealing with it; the alarm centre keeps the alert.",
                )
                updated = await alerts_sql.get_alert(conn, alert_id)
                assert updated is not None
                return updated
        return await self._step(alert_id, Action.ACKNOWLEDGE, by=by)

    async def escalate(self, alert_id: uuid.UUID, *, by: str) -> alerts_sql.AlertRow:
        """Pass the alert to the responders now."""
        return await self._step(alert_id, Action.ESCALATE, by=by)

    async def pass_on(self, alert_id: uuid.UUID, *, by: str) -> alerts_sql.AlertRow:
        """The person who took the alert on cannot help after all: the next on the ladder
        is told now (not at their rung's timer), and the trail says who passed it to whom.

        IllegalTransition when it is not theirs to pass on, or nobody is after them.
        """
        async with self._pool.connection() as conn, conn.transaction():
            alert = await alerts_sql.get_alert(conn, alert_id, for_update=True)
            if alert is None:
                raise AlertNotFound(f"no alert {alert_id}")
            next_status(AlertStatus(alert.status), Action.PASS_ON)  # raises IllegalTransition
            if alert.acknowledged_by != by:
                raise IllegalTransition(
                    f"only {alert.acknowledged_by}, who took it on, can pass it on"
                )
            passer = await people.user_by_username(conn, by)
            assert passer is not None, "the signed-in user"
            # Only the order of the rungs matters here; the scheduler times them.
            rungs = await ladder_now(
                conn, alert.resident_id, Severity(alert.severity), ack_timeout=timedelta(0)
            )
            climbed = await escalation_sql.rung_of(conn, alert_id)
            target = pass_on_rung(rungs, passer=passer.id, climbed=climbed)
            if target is None:
                raise IllegalTransition(
                    "there is nobody after you on the ladder to pass it to (no other carer"
                    " is free and no responder is on duty): keep it, or pass it to the alarm centre"
                )
            rung = rungs[target]
            names = ", ".join(c.name for c in rung.contacts if c.user_id != passer.id)
            to = f"the responders on duty ({names})" if rung.escalates else names
            me = next((c.name for r in rungs for c in r.contacts if c.user_id == passer.id), by)
            await alerts_sql.set_passed_on(conn, alert_id, by=by, to=to, escalated=rung.escalates)
            # Due at once: the scheduler sends the rung now, then climbs on from there.
            await escalation_sql.schedule_rung(
                conn, alert_id, rung=target, due_at=datetime.now(UTC)
            )
            await alerts_sql.add_event(
                conn,
                alert_id,
                actor=by,
                action="passed_on",
                note=f"Passed on by {me} to {to}.",
                details={"rung": target + 1},
            )
            updated = await alerts_sql.get_alert(conn, alert_id)
        assert updated is not None
        return updated

    async def acknowledge_by_link(self, token: str) -> alerts_sql.AlertRow:
        """A one-tap link from a notification: valid, unexpired and unused, or LinkRefused."""
        link = read_link(self._link_key, token, now=datetime.now(UTC))
        async with self._pool.connection() as conn, conn.transaction():
            username = await escalation_sql.use_link(conn, link.nonce)
            user = None if username is None else await people.user_by_username(conn, username)
        if username is None:
            raise LinkRefused("this link has already been used")
        by_carer = user is not None and user.role is Role.CARER
        return await self.acknowledge(link.alert_id, by=username, by_carer=by_carer)

    async def resolve(
        self, alert_id: uuid.UUID, *, by: str, outcome: Outcome, note: str | None = None
    ) -> alerts_sql.AlertRow:
        """A person closed the alert with an outcome."""
        return await self._step(alert_id, Action.RESOLVE, by=by, outcome=outcome, note=note)

    async def add_note(self, alert_id: uuid.UUID, *, by: str, note: str) -> alerts_sql.AlertRow:
        """A person's note on the alert's audit trail (what the resident said on the call)."""
        async with self._pool.connection() as conn, conn.transaction():
            if await alerts_sql.get_alert(conn, alert_id, for_update=True) is None:
                raise AlertNotFound(f"no alert {alert_id}")
            await alerts_sql.add_event(conn, alert_id, actor=by, action="note", note=note)
            updated = await alerts_sql.get_alert(conn, alert_id)
        assert updated is not None
        return updated

    async def tick_step(
        self, alert_id: uuid.UUID, *, by: str, step: str, done: bool = True
    ) -> alerts_sql.AlertRow:
        """A step of the alert's response plan done (or undone), on its audit trail."""
        async with self._pool.connection() as conn, conn.transaction():
            alert = await alerts_sql.get_alert(conn, alert_id, for_update=True)
            if alert is None:
                raise AlertNotFound(f"no alert {alert_id}")
            if alert.status == AlertStatus.RESOLVED:
                raise IllegalTransition("the alert is already closed")
            kind = AlertKind(alert.kind)
            # The resident's own checklist: her own steps if she has them, her contacts' rungs.
            own = await plans_sql.own_plan(conn, alert.resident_id, kind)
            contacts = await record_sql.contacts(conn, alert.resident_id)
            words = next((s.words for s in checklist(kind, own, contacts) if s.id == step), None)
            if words is None:
                raise StepNotInPlan(
                    f"{step!r} is not a step of this resident's {kind.value} plan:"
                    " reload the console to see the plan as it is now"
                )
            await alerts_sql.set_plan_step(conn, alert_id, step=step, done=done)
            await alerts_sql.add_event(
                conn,
                alert_id,
                actor=by,
                action="step_done" if done else "step_undone",
                note=words,
                details={"step": step},
            )
            updated = await alerts_sql.get_alert(conn, alert_id)
        assert updated is not None
        return updated

    async def _step(
        self,
        alert_id: uuid.UUID,
        action: Action,
        *,
        by: str,
        outcome: Outcome | None = None,
        note: str | None = None,
    ) -> alerts_sql.AlertRow:
        async with self._pool.connection() as conn, conn.transaction():
            alert = await alerts_sql.get_alert(conn, alert_id, for_update=True)
            if alert is None:
                raise AlertNotFound(f"no alert {alert_id}")
            next_status(AlertStatus(alert.status), action)  # raises IllegalTransition
            if action is Action.RESOLVE:
                assert outcome is not None
                refused = resolution_refused(Severity(alert.severity), outcome, note)
                if refused is not None and by != "system":
                    raise ResolutionRefused(refused)
            if action is Action.ACKNOWLEDGE:
                await alerts_sql.set_acknowledged(conn, alert_id, by=by)
            elif action is Action.ESCALATE:
                await alerts_sql.set_escalated(conn, alert_id)
                # Due at once: the scheduler goes straight to the responders' rung.
                await escalation_sql.schedule_rung(conn, alert_id, rung=0, due_at=datetime.now(UTC))
            else:
                assert outcome is not None
                await alerts_sql.set_resolved(conn, alert_id, by=by, outcome=outcome)
            await alerts_sql.add_event(
                conn,
                alert_id,
                actor=by,
                action=action.value,
                note=note,
                details={"outcome": outcome.value} if outcome else None,
            )
            updated = await alerts_sql.get_alert(conn, alert_id)
        assert updated is not None
        return updated

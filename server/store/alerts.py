"""SQL for alerts and their audit trail; every change is announced with NOTIFY."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from server.domain.access import Viewer, address_shown, failure_shown
from server.domain.alerts import AlertKind, AlertStatus, Outcome, Severity
from server.store import escalation as escalation_sql
from server.store.pool import DbConn
from server.store.residents import visible_to

__all__ = [
    "ALERT_CHANNEL",
    "AlertEvent",
    "AlertRow",
    "NewAlert",
    "active_for_update",
    "add_event",
    "add_press",
    "audit_for_resident",
    "events_for",
    "events_of",
    "get_alert",
    "get_visible_alert",
    "insert_alert",
    "insert_new_alerts",
    "list_alerts",
    "past_for_resident",
    "recently_closed",
    "set_acknowledged",
    "set_carer_responding",
    "set_escalated",
    "set_needs_review",
    "set_nobody_notified",
    "set_passed_on",
    "set_plan_step",
    "set_resolved",
    "timings_since",
]

# Listeners (the API's live stream) learn of every change on this channel.
ALERT_CHANNEL = "carewatch_alerts"

_SELECT = (
    "SELECT a.id, a.resident_id, r.name AS resident, a.hub_id AS hub, a.kind, a.severity,"
    " a.status, a.raised_at, a.event_at, a.reason, a.details, a.acknowledged_at,"
    " a.acknowledged_by, a.resolved_at, a.resolved_by, a.outcome, a.updated_at"
    " FROM alerts a JOIN residents r ON r.id = a.resident_id"
)


@dataclass(slots=True, frozen=True)
class AlertRow:
    """An alert as stored, with its resident's name."""

    id: uuid.UUID
    resident_id: int
    resident: str
    hub: str | None
    kind: str
    severity: str
    status: str
    raised_at: datetime
    event_at: datetime
    reason: str
    details: dict[str, Any]
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    outcome: str | None
    updated_at: datetime


@dataclass(slots=True, frozen=True)
class NewAlert:
    """What is needed to raise an alert."""

    resident_id: int
    hub: str | None
    kind: AlertKind
    severity: Severity
    event_at: datetime
    reason: str
    details: dict[str, Any]


async def _notify(conn: DbConn, alert_id: uuid.UUID) -> None:
    # Delivered on commit, so listeners never see a change that was rolled back.
    await conn.execute("SELECT pg_notify(%s, %s)", (ALERT_CHANNEL, str(alert_id)))


async def insert_alert(
    conn: DbConn, alert: NewAlert, *, note_repeat: bool = True
) -> tuple[uuid.UUID, bool]:
    """Raise the alert, or find the active one for the same resident and kind.

    Returns the alert's id and whether it is new. A repeat is noted on the
    active alert's trail unless ``note_repeat`` is False (the caller says more).
    """
    # Twice at most: the active alert that blocked the insert may be resolved
    # before we read it, and then this condition raises a new one.
    for _ in range(2):
        # The alert, its "raised" row on the trail and its announcement in one statement:
        # a pendant's alarm waits for each round trip to the database (and, on a busy
        # event loop, for the loop's turn after each), so it makes as few as it can.
        cursor = await conn.execute(
            "WITH raised AS (INSERT INTO alerts (resident_id, hub_id, kind, severity, status,"
            " event_at, reason, details, escalation_due_at)"
            " VALUES (%s, %s, %s, %s, 'open', %s, %s, %s, now())"
            " ON CONFLICT (resident_id, kind) WHERE status <> 'resolved' DO NOTHING RETURNING id),"
            " trail AS (INSERT INTO alert_events (alert_id, actor, action, note, details)"
            " SELECT id, 'system', 'raised', %s, '{}'::jsonb FROM raised)"
            " SELECT id, pg_notify(%s, id::text) FROM raised",
            (
                alert.resident_id,
                alert.hub,
                alert.kind.value,
                alert.severity.value,
                alert.event_at,
                alert.reason,
                Jsonb(alert.details),
                alert.reason,
                ALERT_CHANNEL,
            ),
        )
        row = await cursor.fetchone()
        if row is not None:
            alert_id: uuid.UUID = row[0]
            return alert_id, True
        cursor = await conn.execute(
            "SELECT id FROM alerts WHERE resident_id = %s AND kind = %s AND status <> 'resolved'"
            " FOR UPDATE",
            (alert.resident_id, alert.kind.value),
        )
        existing = await cursor.fetchone()
        if existing is None:
            continue
        existing_id: uuid.UUID = existing[0]
        if note_repeat:
            await add_event(conn, existing_id, actor="system", action="repeated", note=alert.reason)
        return existing_id, False
    raise RuntimeError(f"the active {alert.kind.value} alert kept changing; not raised")


async def insert_new_alerts(conn: DbConn, alerts: Sequence[NewAlert]) -> list[uuid.UUID | None]:
    """Raise many alerts in one statement, each with its audit row and announcement.

    Returns each alert's id, or None where its resident already has an active alert
    of that kind: the caller raises those with :func:`insert_alert`, which notes the
    repeat. The (resident, kind) pairs must be distinct. One round trip for the lot,
    against three or four an alert: a storm of 100,000 findings is 200 statements.
    """
    if len({(a.resident_id, a.kind) for a in alerts}) != len(alerts):
        raise ValueError("insert_new_alerts needs each resident and kind once")
    cursor = await conn.execute(
        "WITH new AS ("
        " INSERT INTO alerts (resident_id, hub_id, kind, severity, status, event_at, reason,"
        "  details, escalation_due_at)"
        " SELECT resident_id, hub_id, kind, severity, 'open', event_at, reason, details::jsonb,"
        "  now() FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[],"
        "  %s::timestamptz[], %s::text[], %s::text[])"
        "  AS t(resident_id, hub_id, kind, severity, event_at, reason, details)"
        " ON CONFLICT (resident_id, kind) WHERE status <> 'resolved' DO NOTHING"
        " RETURNING id, resident_id, kind, reason),"
        " trail AS (INSERT INTO alert_events (alert_id, actor, action, note)"
        "  SELECT id, 'system', 'raised', reason FROM new)"
        # Delivered on commit, as _notify's.
        " SELECT id, resident_id, kind, pg_notify(%s, id::text) FROM new",
        (
            [a.resident_id for a in alerts],
            [a.hub for a in alerts],
            [a.kind.value for a in alerts],
            [a.severity.value for a in alerts],
            [a.event_at for a in alerts],
            [a.reason for a in alerts],
            [json.dumps(a.details) for a in alerts],
            ALERT_CHANNEL,
        ),
    )
    raised = {
        (resident_id, kind): alert_id for alert_id, resident_id, kind, _ in await cursor.fetchall()
    }
    return [raised.get((a.resident_id, a.kind.value)) for a in alerts]


async def add_press(
    conn: DbConn, alert_id: uuid.UUID, *, alarm_id: str, at: datetime, note: str
) -> int:
    """Another alarm on an active alert: count it on the alert, trail it; which press it is.

    The count lives in the alert's details, so the console, which is sent the
    alert on every change, shows how many times the person has asked.
    """
    cursor = await conn.execute(
        "UPDATE alerts SET details = details || jsonb_build_object("
        " 'presses', coalesce((details->>'presses')::int, 1) + 1, 'last_alarm_at', %s::text)"
        " WHERE id = %s RETURNING (details->>'presses')::int",
        (at.isoformat(), alert_id),
    )
    row = await cursor.fetchone()
    assert row is not None, "the caller holds the alert"
    press = int(row[0])
    await add_event(
        conn,
        alert_id,
        actor="system",
        action="pressed_again",
        note=f"{note} Press {press} on this alert.",
        details={"alarm_id": alarm_id, "press": press, "at": at.isoformat()},
    )
    return press


async def add_event(
    conn: DbConn,
    alert_id: uuid.UUID,
    *,
    actor: str,
    action: str,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append to the alert's audit trail and announce the change."""
    await conn.execute(
        "INSERT INTO alert_events (alert_id, actor, action, note, details) VALUES (%s, %s, %s, %s, %s)",
        (alert_id, actor, action, note, Jsonb(details or {})),
    )
    await conn.execute("UPDATE alerts SET updated_at = now() WHERE id = %s", (alert_id,))
    await _notify(conn, alert_id)


async def get_alert(
    conn: DbConn, alert_id: uuid.UUID, *, for_update: bool = False
) -> AlertRow | None:
    """One alert."""
    query = _SELECT + " WHERE a.id = %s" + (" FOR UPDATE OF a" if for_update else "")
    async with conn.cursor(row_factory=class_row(AlertRow)) as cur:
        await cur.execute(query.encode(), (alert_id,))
        return await cur.fetchone()


async def get_visible_alert(
    conn: DbConn, alert_id: uuid.UUID, visible: tuple[str, tuple[Any, ...]]
) -> AlertRow | None:
    """One alert, if its resident matches ``visible`` (a condition on residents ``r``)."""
    condition, params = visible
    query = _SELECT + f" WHERE a.id = %s AND ({condition})"
    async with conn.cursor(row_factory=class_row(AlertRow)) as cur:
        await cur.execute(query.encode(), (alert_id, *params))
        return await cur.fetchone()


async def list_alerts(
    conn: DbConn,
    *,
    statuses: tuple[AlertStatus, ...],
    visible: tuple[str, tuple[Any, ...]] = ("TRUE", ()),
    resident_id: int | None = None,
    limit: int = 500,
) -> list[AlertRow]:
    """Alerts in the given statuses, most severe first.

    Within a severity, alerts still being worked come oldest first (the longest
    wait is answered first) and resolved ones newest first. ``visible`` is a
    condition on the residents ``r`` (see residents.visible_to).
    """
    condition, params = visible
    order = "a.raised_at DESC" if statuses == (AlertStatus.RESOLVED,) else "a.raised_at"
    query = (
        _SELECT + f" WHERE a.status = ANY(%s) AND ({condition})"
        " AND (%s::bigint IS NULL OR a.resident_id = %s::bigint)"
        " ORDER BY CASE a.severity WHEN 'emergency' THEN 0 WHEN 'urgent' THEN 1"
        f" WHEN 'advisory' THEN 2 ELSE 3 END, {order} LIMIT %s"
    )
    async with conn.cursor(row_factory=class_row(AlertRow)) as cur:
        await cur.execute(
            query.encode(),
            ([s.value for s in statuses], *params, resident_id, resident_id, limit),
        )
        return await cur.fetchall()


async def past_for_resident(conn: DbConn, resident_id: int, *, limit: int = 20) -> list[AlertRow]:
    """A resident's closed alerts, the most recently raised first, whatever their severity."""
    query = (
        _SELECT
        + " WHERE a.status = 'resolved' AND a.resident_id = %s ORDER BY a.raised_at DESC LIMIT %s"
    )
    async with conn.cursor(row_factory=class_row(AlertRow)) as cur:
        await cur.execute(query.encode(), (resident_id, limit))
        return await cur.fetchall()


async def recently_closed(
    conn: DbConn, *, visible: tuple[str, tuple[Any, ...]], since: datetime, limit: int = 20
) -> list[AlertRow]:
    """Alerts closed since ``since`` of the residents ``visible`` (see residents.visible_to),
    the most recently closed first: what the shift has just dealt with."""
    condition, params = visible
    query = (
        _SELECT + f" WHERE a.status = 'resolved' AND a.resolved_at >= %s AND ({condition})"
        " ORDER BY a.resolved_at DESC LIMIT %s"
    )
    async with conn.cursor(row_factory=class_row(AlertRow)) as cur:
        await cur.execute(query.encode(), (since, *params, limit))
        return await cur.fetchall()


async def set_acknowledged(conn: DbConn, alert_id: uuid.UUID, *, by: str) -> None:
    """Mark acknowledged by ``by``; the time stays the first acknowledgement's.

    An alert acknowledged, escalated and acknowledged again was answered the
    first time: the service's answer times are measured to that moment.
    """
    await conn.execute(
        "UPDATE alerts SET status = 'acknowledged', acknowledged_at = coalesce(acknowledged_at,"
        " now()), acknowledged_by = %s,"
        " escalation_due_at = NULL WHERE id = %s",
        (by, alert_id),
    )


async def set_resolved(conn: DbConn, alert_id: uuid.UUID, *, by: str, outcome: Outcome) -> None:
    """Mark resolved by ``by`` now, with the outcome."""
    await conn.execute(
        "UPDATE alerts SET status = 'resolved', resolved_at = now(), resolved_by = %s, outcome = %s,"
        " escalation_due_at = NULL WHERE id = %s",
        (by, outcome.value, alert_id),
    )


async def set_carer_responding(conn: DbConn, alert_id: uuid.UUID, *, by: str) -> None:
    """A carer is on the way to an emergency: shown on the alert, the status unchanged."""
    await conn.execute(
        "UPDATE alerts SET details = jsonb_set(details, '{responding}',"
        " coalesce(details->'responding', '[]'::jsonb)"
        " || jsonb_build_array(jsonb_build_object('by', %s::text, 'at', now()))) WHERE id = %s",
        (by, alert_id),
    )


async def set_passed_on(
    conn: DbConn, alert_id: uuid.UUID, *, by: str, to: str, escalated: bool
) -> None:
    """Nobody has it now: open again (or escalated, for the responders), ``details.passed_on``
    saying who passed it to whom. The first acknowledgement's time stays: the service
    answered then."""
    await conn.execute(
        "UPDATE alerts SET status = %s, acknowledged_by = NULL, details = details"
        " || jsonb_build_object('passed_on', jsonb_build_object('by', %s::text, 'to', %s::text,"
        " 'at', now())) WHERE id = %s",
        ("escalated" if escalated else "open", by, to, alert_id),
    )


async def set_needs_review(conn: DbConn, alert_id: uuid.UUID, *, reason: str) -> None:
    """The condition ended on an alert nobody answered: keep it for a person, stop the ladder."""
    await conn.execute(
        "UPDATE alerts SET escalation_due_at = NULL, details = details || jsonb_build_object("
        " 'needs_review', true, 'cleared_at', now(), 'cleared_reason', %s::text) WHERE id = %s",
        (reason, alert_id),
    )


async def set_nobody_notified(conn: DbConn, alert_id: uuid.UUID) -> None:
    """The ladder's last rung had nobody to call: the console must say so on the alert."""
    await conn.execute(
        "UPDATE alerts SET details = details || '{\"nobody_notified\": true}'::jsonb WHERE id = %s",
        (alert_id,),
    )


async def set_plan_step(conn: DbConn, alert_id: uuid.UUID, *, step: str, done: bool) -> None:
    """Tick (or untick) a step of the alert's response plan, kept in ``details.steps_done``."""
    await conn.execute(
        "UPDATE alerts SET details = jsonb_set(details, '{steps_done}', coalesce(("
        " SELECT jsonb_agg(s) FROM jsonb_array_elements_text("
        "  coalesce(details->'steps_done', '[]'::jsonb)) AS s WHERE s <> %s), '[]'::jsonb)"
        " || CASE WHEN %s THEN jsonb_build_array(%s::text) ELSE '[]'::jsonb END) WHERE id = %s",
        (step, done, step, alert_id),
    )


async def active_for_update(
    conn: DbConn, resident_id: int, kind: str
) -> tuple[uuid.UUID, str, str] | None:
    """(id, status, severity) of the resident's active alert of ``kind``, locked."""
    cursor = await conn.execute(
        "SELECT id, status, severity FROM alerts WHERE resident_id = %s AND kind = %s"
        " AND status <> 'resolved' FOR UPDATE",
        (resident_id, kind),
    )
    row = await cursor.fetchone()
    return None if row is None else (row[0], str(row[1]), str(row[2]))


async def set_escalated(conn: DbConn, alert_id: uuid.UUID) -> None:
    """Hand the alert to the responders."""
    await conn.execute("UPDATE alerts SET status = 'escalated' WHERE id = %s", (alert_id,))


@dataclass(slots=True, frozen=True)
class AlertEvent:
    """One line of the audit trail."""

    at: datetime
    alert_id: uuid.UUID
    kind: str
    actor: str
    action: str
    note: str | None
    details: dict[str, Any]


_EVENTS = (
    "SELECT e.at, e.alert_id, a.kind, e.actor, e.action, e.note, e.details"
    " FROM alert_events e JOIN alerts a ON a.id = e.alert_id"
)


async def events_for(conn: DbConn, alert_id: uuid.UUID) -> list[AlertEvent]:
    """An alert's audit trail, oldest first."""
    async with conn.cursor(row_factory=class_row(AlertEvent)) as cur:
        await cur.execute(
            (_EVENTS + " WHERE e.alert_id = %s ORDER BY e.at, e.id").encode(), (alert_id,)
        )
        return await cur.fetchall()


async def events_of(conn: DbConn, alert_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[AlertEvent]]:
    """The audit trails of several alerts at once, each oldest first."""
    trails: dict[uuid.UUID, list[AlertEvent]] = {alert_id: [] for alert_id in alert_ids}
    async with conn.cursor(row_factory=class_row(AlertEvent)) as cur:
        await cur.execute(
            (_EVENTS + " WHERE e.alert_id = ANY(%s) ORDER BY e.at, e.id").encode(), (alert_ids,)
        )
        for event in await cur.fetchall():
            trails[event.alert_id].append(event)
    return trails


async def audit_for_resident(conn: DbConn, resident_id: int, viewer: Viewer) -> list[AlertEvent]:
    """Every change to every alert of a resident and every notification about them, oldest first.

    Notifications name who was told, by name and role; where they were sent
    and a failure's own words only for a ``viewer`` who may see contact details.
    """
    async with conn.cursor(row_factory=class_row(AlertEvent)) as cur:
        await cur.execute(
            (_EVENTS + " WHERE a.resident_id = %s ORDER BY e.at, e.id").encode(), (resident_id,)
        )
        events = await cur.fetchall()
    kinds = {e.alert_id: e.kind for e in events}
    attempts = await escalation_sql.notifications_for_resident(conn, resident_id)
    missing = {n.alert_id for n in attempts} - kinds.keys()
    if missing:
        cursor = await conn.execute(
            "SELECT id, kind FROM alerts WHERE id = ANY(%s)", (list(missing),)
        )
        kinds.update({row[0]: row[1] for row in await cursor.fetchall()})
    told = [_notification_event(n, kinds[n.alert_id], viewer) for n in attempts]
    # Stable: at the same instant, the change comes before the notifications it caused.
    return sorted([*events, *told], key=lambda e: e.at)


def _notification_event(n: escalation_sql.Notification, kind: str, viewer: Viewer) -> AlertEvent:
    """One delivery attempt as a line of the trail, as ``viewer`` may see it."""
    who = n.name or "a removed user"
    address = address_shown(viewer, n.channel, n.address)
    shown = ", ".join(part for part in (n.role, address) if part)
    note = f"{n.channel} to {who}" + (f" ({shown})" if shown else "")
    error = failure_shown(viewer, n.error)
    if error is not None:
        note += f": {error}"
    details: dict[str, Any] = {"rung": n.rung + 1, "attempt": n.attempt, "to": who, "role": n.role}
    if n.press is not None:
        details["press"] = n.press
    return AlertEvent(
        at=n.at,
        alert_id=n.alert_id,
        kind=kind,
        actor="system",
        action="notified" if n.ok else "notification_failed",
        note=note,
        details=details,
    )


async def timings_since(conn: DbConn, since: datetime, viewer: Viewer) -> list[tuple[Any, ...]]:
    """(severity, kind, event_at, raised_at, acknowledged_at, resolved_at, outcome) per alert
    of the residents ``viewer`` may see (a responder: their own service's)."""
    visible, params = visible_to(viewer, "r")
    cursor = await conn.execute(
        "SELECT a.severity, a.kind, a.event_at, a.raised_at, a.acknowledged_at, a.resolved_at,"
        " a.outcome FROM alerts a JOIN residents r ON r.id = a.resident_id"
        f" WHERE a.raised_at >= %s AND {visible}",
        (since, *params),
    )
    return await cursor.fetchall()


async def open_alerts_by_hub(conn: DbConn, kinds: Sequence[str]) -> list[tuple[str, str]]:
    """(hub, kind) of every alert of ``kinds`` not yet resolved: what a restart must not raise again."""
    cursor = await conn.execute(
        "SELECT hub_id, kind FROM alerts WHERE kind = ANY(%s) AND status <> 'resolved'"
        " AND hub_id IS NOT NULL",
        (list(kinds),),
    )
    return [(hub, kind) for hub, kind in await cursor.fetchall()]

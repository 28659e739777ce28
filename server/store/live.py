"""SQL for the live alert feed: changed alerts with who may see them, and who saw them.

One query serves every open live stream (see :mod:`server.api.live`), so the
alert comes with its resident's access scope and the streams are filtered in
memory by :func:`server.domain.access.may_see`.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import fields
from datetime import timedelta

from server.domain.access import ResidentScope, Viewer
from server.store.alerts import AlertRow
from server.store.pool import DbConn

__all__ = ["changed_alerts", "log_reads"]

# The columns of AlertRow, in order, then the resident's scope.
_CHANGED = (
    "SELECT a.id, a.resident_id, r.name, a.hub_id, a.kind, a.severity, a.status, a.raised_at,"
    " a.event_at, a.reason, a.details, a.acknowledged_at, a.acknowledged_by, a.resolved_at,"
    " a.resolved_by, a.outcome, a.updated_at,"
    " r.service, r.share_health_notes, r.share_activity_with_carers,"
    " ARRAY(SELECT c.user_id FROM resident_carers c WHERE c.resident_id = r.id)"
    " FROM alerts a JOIN residents r ON r.id = a.resident_id WHERE a.id = ANY(%s)"
    " ORDER BY a.updated_at"
)
_ROW_COLUMNS = len(fields(AlertRow))


async def changed_alerts(
    conn: DbConn, alert_ids: Collection[uuid.UUID]
) -> list[tuple[AlertRow, ResidentScope]]:
    """The alerts as they are now, each with what decides who may see it (oldest change first)."""
    cursor = await conn.execute(_CHANGED, (list(alert_ids),))
    found = []
    for row in await cursor.fetchall():
        alert = AlertRow(*row[:_ROW_COLUMNS])
        service, share_health, share_activity, carers = row[_ROW_COLUMNS:]
        scope = ResidentScope(
            resident_id=alert.resident_id,
            service=service,
            carer_ids=frozenset(int(c) for c in carers),
            share_health_notes=share_health,
            share_activity_with_carers=share_activity,
        )
        found.append((alert, scope))
    return found


async def log_reads(
    conn: DbConn, reads: Sequence[tuple[Viewer, int]], what: str, *, unless_within: timedelta
) -> None:
    """Log that each viewer saw the resident, in one statement; once per ``unless_within``."""
    unique = sorted({(v.user_id, v.username, v.role.value, r) for v, r in reads})
    if not unique:
        return
    users, names, roles, residents = (list(column) for column in zip(*unique, strict=True))
    await conn.execute(
        "INSERT INTO record_reads (user_id, username, role, resident_id, what, allowed)"
        " SELECT t.u, t.n, t.ro, t.r, %(what)s, true"
        " FROM unnest(%(users)s::bigint[], %(names)s::text[], %(roles)s::text[],"
        " %(residents)s::bigint[]) AS t(u, n, ro, r)"
        " WHERE NOT EXISTS (SELECT 1 FROM record_reads x WHERE x.user_id = t.u"
        " AND x.resident_id = t.r AND x.what = %(what)s AND x.at > now() - %(within)s)",
        {
            "users": users,
            "names": names,
            "roles": roles,
            "residents": residents,
            "what": what,
            "within": unless_within,
        },
    )

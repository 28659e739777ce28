"""SQL for services' ARC accounts and the outbox of alerts to forward to them."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.domain.alerts import AlertKind, Severity
from server.domain.arc import ArcAccount, EventFormat, ReceiverPath, key_bytes
from server.store.alerts import ALERT_CHANNEL
from server.store.pool import DbConn

__all__ = [
    "Candidate",
    "Delivery",
    "accounts",
    "claim_due",
    "delete_account",
    "listen_to_alerts",
    "mark_delivered",
    "mark_not_forwarded",
    "mark_refused",
    "new_candidates",
    "new_presses",
    "put_account",
    "queue",
    "reschedule",
    "set_reported",
]

log = logging.getLogger(__name__)

_ACCOUNT = (
    "SELECT service, account, receiver, prefix, primary_host, primary_port, backup_host,"
    " backup_port, encryption_key, event_format, urgent_kinds, supervision_s FROM arc_accounts"
)


def _account(row: tuple[Any, ...]) -> ArcAccount:
    """An ``arc_accounts`` row as the domain's account."""
    (service, account, receiver, prefix, host, port, b_host, b_port, key, fmt, urgent, sup) = row
    return ArcAccount(
        service=str(service),
        account=str(account),
        primary=ReceiverPath(str(host), int(port)),
        backup=None if b_host is None else ReceiverPath(str(b_host), int(b_port)),
        receiver=None if receiver is None else str(receiver),
        prefix=str(prefix),
        key=None if key is None else key_bytes(str(key)),
        event_format=EventFormat(fmt),
        urgent_kinds=frozenset(AlertKind(k) for k in urgent),
        supervision_s=float(sup),
    )


async def put_account(conn: DbConn, account: ArcAccount, *, key_text: str | None) -> None:
    """Create or replace a service's ARC account (``key_text`` as typed, checked by key_bytes)."""
    await conn.execute(
        "INSERT INTO arc_accounts (service, account, receiver, prefix, primary_host, primary_port,"
        " backup_host, backup_port, encryption_key, event_format, urgent_kinds, supervision_s)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (service) DO UPDATE SET account = EXCLUDED.account,"
        " receiver = EXCLUDED.receiver, prefix = EXCLUDED.prefix,"
        " primary_host = EXCLUDED.primary_host, primary_port = EXCLUDED.primary_port,"
        " backup_host = EXCLUDED.backup_host, backup_port = EXCLUDED.backup_port,"
        " encryption_key = EXCLUDED.encryption_key, event_format = EXCLUDED.event_format,"
        " urgent_kinds = EXCLUDED.urgent_kinds, supervision_s = EXCLUDED.supervision_s",
        (
            account.service,
            account.account.upper(),
            account.receiver.upper() if account.receiver else None,
            account.prefix.upper(),
            account.primary.host,
            account.primary.port,
            account.backup.host if account.backup else None,
            account.backup.port if account.backup else None,
            key_text,
            account.event_format.value,
            sorted(k.value for k in account.urgent_kinds),
            account.supervision_s,
        ),
    )


async def delete_account(conn: DbConn, service: str) -> bool:
    """Stop forwarding a service's alerts; whether it had an account."""
    cursor = await conn.execute("DELETE FROM arc_accounts WHERE service = %s", (service,))
    return cursor.rowcount > 0


async def accounts(conn: DbConn) -> list[ArcAccount]:
    """Every service's ARC account that can be used; a row that cannot is logged and left out.

    One service's bad row (a key edited by hand) must not stop the others' forwarding.
    """
    cursor = await conn.execute((_ACCOUNT + " ORDER BY service").encode())
    found = []
    for row in await cursor.fetchall():
        try:
            found.append(_account(row))
        except ValueError as exc:
            log.error("the ARC account of service %s cannot be used: %s", row[0], exc)
    return found


async def listen_to_alerts(conn: DbConn) -> None:
    """Have ``conn`` (autocommit) hear of every alert change: the channel alerts announce on."""
    await conn.execute(f"LISTEN {ALERT_CHANNEL}")


@dataclass(slots=True, frozen=True)
class Candidate:
    """An alert of a service with an ARC account that has not been considered yet."""

    alert_id: uuid.UUID
    service: str
    kind: AlertKind
    severity: Severity


async def new_candidates(conn: DbConn) -> list[Candidate]:
    """Alerts raised since their service's account was made, not yet in the outbox."""
    cursor = await conn.execute(
        "SELECT a.id, r.service, a.kind, a.severity FROM alerts a"
        " JOIN residents r ON r.id = a.resident_id"
        " JOIN arc_accounts s ON s.service = r.service"
        " WHERE a.raised_at >= s.created_at AND a.raised_at > now() - interval '1 day'"
        " AND NOT EXISTS (SELECT 1 FROM arc_deliveries d WHERE d.alert_id = a.id)"
        " ORDER BY a.raised_at"
    )
    return [
        Candidate(row[0], row[1], AlertKind(row[2]), Severity(row[3]))
        for row in await cursor.fetchall()
    ]


async def queue(conn: DbConn, alert_id: uuid.UUID, service: str, *, press: int = 1) -> bool:
    """Put an alert (or a further press on it) in the outbox, due now; False if already there."""
    cursor = await conn.execute(
        "INSERT INTO arc_deliveries (alert_id, press, service, seq)"
        " VALUES (%s, %s, %s, nextval('arc_seq') %% 9999 + 1) ON CONFLICT DO NOTHING",
        (alert_id, press, service),
    )
    return cursor.rowcount > 0


async def new_presses(conn: DbConn) -> list[tuple[uuid.UUID, str, int]]:
    """(alert, service, press) for each press on an open forwarded alert not yet in the outbox."""
    cursor = await conn.execute(
        "SELECT a.id, d.service, p.press FROM alerts a"
        " JOIN arc_deliveries d ON d.alert_id = a.id AND d.press = 1"
        " AND d.state <> 'not_forwarded'"
        " CROSS JOIN LATERAL generate_series(2, coalesce((a.details->>'presses')::int, 1)) p(press)"
        " WHERE a.status <> 'resolved' AND NOT EXISTS (SELECT 1 FROM arc_deliveries e"
        " WHERE e.alert_id = a.id AND e.press = p.press) ORDER BY a.id, p.press"
    )
    return [(row[0], row[1], int(row[2])) for row in await cursor.fetchall()]


async def mark_not_forwarded(conn: DbConn, alert_id: uuid.UUID, service: str) -> None:
    """Remember that this alert is not for the ARC, so it is not looked at again."""
    await conn.execute(
        "INSERT INTO arc_deliveries (alert_id, service, seq, state) VALUES (%s, %s, 1,"
        " 'not_forwarded') ON CONFLICT DO NOTHING",
        (alert_id, service),
    )


@dataclass(slots=True, frozen=True)
class Delivery:
    """An alert due to be sent to its service's ARC, with what the event says."""

    alert_id: uuid.UUID
    press: int
    service: str
    seq: int
    rounds: int
    created_at: datetime
    failing_since: datetime | None
    reported: bool
    resident_id: int
    resident: str
    timezone: str
    hub: str | None
    kind: AlertKind


async def claim_due(conn: DbConn, *, lease_s: float, limit: int = 50) -> list[Delivery]:
    """Pending deliveries that are due, leased for ``lease_s`` so no other process sends them."""
    cursor = await conn.execute(
        "WITH due AS (SELECT alert_id, press FROM arc_deliveries WHERE state = 'pending'"
        " AND next_at <= now() ORDER BY next_at LIMIT %s FOR UPDATE SKIP LOCKED)"
        " UPDATE arc_deliveries d SET next_at = now() + make_interval(secs => %s)"
        " FROM due, alerts a JOIN residents r ON r.id = a.resident_id"
        " WHERE d.alert_id = due.alert_id AND d.press = due.press AND a.id = d.alert_id"
        " RETURNING d.alert_id, d.press, d.service, d.seq, d.rounds, d.created_at, d.failing_since,"
        " d.reported, a.resident_id, r.name, r.timezone, a.hub_id, a.kind",
        (limit, lease_s),
    )
    return [
        Delivery(
            alert_id=row[0],
            press=row[1],
            service=row[2],
            seq=row[3],
            rounds=row[4],
            created_at=row[5],
            failing_since=row[6],
            reported=row[7],
            resident_id=row[8],
            resident=row[9],
            timezone=row[10],
            hub=row[11],
            kind=AlertKind(row[12]),
        )
        for row in await cursor.fetchall()
    ]


async def mark_delivered(conn: DbConn, alert_id: uuid.UUID, press: int) -> None:
    """The ARC acknowledged the event."""
    await conn.execute(
        "UPDATE arc_deliveries SET state = 'delivered', delivered_at = now(), failing_since = NULL"
        " WHERE alert_id = %s AND press = %s",
        (alert_id, press),
    )


async def mark_refused(conn: DbConn, alert_id: uuid.UUID, press: int) -> None:
    """Every receiver answered DUH: sending it again would change nothing."""
    await conn.execute(
        "UPDATE arc_deliveries SET state = 'refused' WHERE alert_id = %s AND press = %s",
        (alert_id, press),
    )


async def reschedule(
    conn: DbConn, alert_id: uuid.UUID, press: int, *, delay_s: float, failing_since: datetime
) -> None:
    """A round failed on every path: try again after ``delay_s``."""
    await conn.execute(
        "UPDATE arc_deliveries SET rounds = rounds + 1,"
        " next_at = now() + make_interval(secs => %s),"
        " failing_since = coalesce(failing_since, %s) WHERE alert_id = %s AND press = %s",
        (delay_s, failing_since, alert_id, press),
    )


async def set_reported(conn: DbConn, alert_id: uuid.UUID, press: int) -> None:
    """A technical alert now says this delivery is failing."""
    await conn.execute(
        "UPDATE arc_deliveries SET reported = true WHERE alert_id = %s AND press = %s",
        (alert_id, press),
    )

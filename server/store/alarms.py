"""SQL for alarms as they came from the hubs, one row per alarm id."""

from __future__ import annotations

from edge.protocol import Alarm
from server.store.pool import DbConn

__all__ = ["insert_alarm"]


async def insert_alarm(conn: DbConn, alarm: Alarm) -> bool:
    """Keep the alarm once; False when this hub sent this id before (a redelivery)."""
    cursor = await conn.execute(
        "INSERT INTO alarms (hub_id, id, sensor, kind, ts, received_at)"
        " VALUES (%s, %s, %s, %s, %s, now()) ON CONFLICT DO NOTHING",
        (alarm.hub, alarm.id, alarm.sensor, alarm.kind.value, alarm.ts),
    )
    return cursor.rowcount > 0

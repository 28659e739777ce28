"""SQL for one hub's sensor map as the installer keeps it: each sensor's kind and room."""

from __future__ import annotations

from collections.abc import Sequence

from server.store.pool import DbConn

__all__ = ["hub_is_active", "replace_sensor_map", "sensor_map_of"]


async def hub_is_active(conn: DbConn, hub: str) -> bool:
    """Whether the hub is provisioned and not revoked."""
    cursor = await conn.execute("SELECT 1 FROM hubs WHERE id = %s AND revoked_at IS NULL", (hub,))
    return await cursor.fetchone() is not None


async def sensor_map_of(conn: DbConn, hub: str) -> list[tuple[str, str, str]]:
    """(sensor, kind, room) of each sensor on the hub's map, by sensor id."""
    cursor = await conn.execute(
        "SELECT sensor, kind, room FROM hub_sensors WHERE hub_id = %s ORDER BY sensor", (hub,)
    )
    return [(str(s), str(k), str(r)) for s, k, r in await cursor.fetchall()]


async def replace_sensor_map(
    conn: DbConn, hub: str, sensors: Sequence[tuple[str, str, str]]
) -> None:
    """The hub's whole map becomes ``sensors`` (sensor, kind, room): a sensor left out is gone."""
    await conn.execute("DELETE FROM hub_sensors WHERE hub_id = %s", (hub,))
    if sensors:
        await conn.execute(
            "INSERT INTO hub_sensors (hub_id, sensor, kind, room)"
            " SELECT %s, * FROM unnest(%s::text[], %s::text[], %s::text[])",
            (hub, *(list(column) for column in zip(*sensors, strict=True))),
        )

"""SQL for importing many homes at once: what is there already, and a chunk written in one go."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from server.store.pool import DbConn

__all__ = [
    "ExistingHub",
    "ImportedHome",
    "existing_hubs",
    "insert_homes",
    "resident_timezones",
    "sensor_maps",
]


@dataclass(slots=True, frozen=True)
class ExistingHub:
    """A hub already in the database, whoever's home it is in."""

    hub: str
    resident: str
    revoked: bool


@dataclass(slots=True, frozen=True)
class ImportedHome:
    """One hub to write: its resident, its broker password's hash, its sensor map."""

    hub: str
    resident: str
    timezone: str
    password_hash: str
    # (sensor, kind, room)
    sensors: Sequence[tuple[str, str, str]]


async def existing_hubs(conn: DbConn, hubs: Collection[str]) -> dict[str, ExistingHub]:
    """Those of ``hubs`` already provisioned (or revoked), by id."""
    cursor = await conn.execute(
        "SELECT h.id, r.name, h.revoked_at IS NOT NULL FROM hubs h"
        " JOIN residents r ON r.id = h.resident_id WHERE h.id = ANY(%s)",
        (list(hubs),),
    )
    return {row[0]: ExistingHub(*row) for row in await cursor.fetchall()}


async def resident_timezones(conn: DbConn, names: Collection[str]) -> dict[str, str]:
    """The time zone of each of ``names`` that is already a resident."""
    cursor = await conn.execute(
        "SELECT name, timezone FROM residents WHERE name = ANY(%s)", (list(names),)
    )
    return {name: timezone for name, timezone in await cursor.fetchall()}


async def insert_homes(conn: DbConn, homes: Sequence[ImportedHome]) -> list[str]:
    """Write residents (if new), hubs and sensor maps; the ids of the hubs written.

    A hub that appeared since it was checked (another ``hub add``) is not
    written and not returned: the caller rolls the chunk back.
    """
    residents = {home.resident: home.timezone for home in homes}
    await conn.execute(
        "INSERT INTO residents (name, timezone) SELECT * FROM unnest(%s::text[], %s::text[])"
        " ON CONFLICT (name) DO NOTHING",
        (list(residents), list(residents.values())),
    )
    cursor = await conn.execute(
        "INSERT INTO hubs (id, resident_id, password_hash)"
        " SELECT h.id, r.id, h.password_hash"
        " FROM unnest(%s::text[], %s::text[], %s::text[]) AS h (id, resident, password_hash)"
        " JOIN residents r ON r.name = h.resident"
        " ON CONFLICT (id) DO NOTHING RETURNING id",
        (
            [home.hub for home in homes],
            [home.resident for home in homes],
            [home.password_hash for home in homes],
        ),
    )
    written = [row[0] for row in await cursor.fetchall()]
    sensors = [(home.hub, *sensor) for home in homes for sensor in home.sensors]
    await conn.execute(
        "INSERT INTO hub_sensors (hub_id, sensor, kind, room)"
        " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[])"
        " ON CONFLICT (hub_id, sensor) DO UPDATE SET kind = EXCLUDED.kind, room = EXCLUDED.room",
        tuple(list(column) for column in zip(*sensors, strict=True)) if sensors else ([],) * 4,
    )
    return written


async def sensor_maps(
    conn: DbConn, hubs: Collection[str] | None = None
) -> dict[str, dict[str, str]]:
    """Hub → sensor → room, from the installer's map (every hub's, or those of ``hubs``)."""
    if hubs is None:
        cursor = await conn.execute("SELECT hub_id, sensor, room FROM hub_sensors")
    else:
        cursor = await conn.execute(
            "SELECT hub_id, sensor, room FROM hub_sensors WHERE hub_id = ANY(%s)", (list(hubs),)
        )
    maps: dict[str, dict[str, str]] = {}
    for hub, sensor, room in await cursor.fetchall():
        maps.setdefault(hub, {})[sensor] = room
    return maps

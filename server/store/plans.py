"""SQL for residents' own response plans: her steps for a kind of alert, or none (the default)."""

from __future__ import annotations

from collections.abc import Sequence

from server.domain.alerts import AlertKind
from server.store.pool import DbConn

__all__ = ["own_plan", "own_plans", "set_own_plan"]


async def own_plans(conn: DbConn, resident_id: int) -> dict[AlertKind, tuple[str, ...]]:
    """The resident's own steps for each kind she has a plan for."""
    cursor = await conn.execute(
        "SELECT kind, steps FROM resident_plans WHERE resident_id = %s", (resident_id,)
    )
    return {AlertKind(kind): tuple(steps) for kind, steps in await cursor.fetchall()}


async def own_plan(conn: DbConn, resident_id: int, kind: AlertKind) -> tuple[str, ...]:
    """The resident's own steps for ``kind``; () when she follows the kind's plan."""
    cursor = await conn.execute(
        "SELECT steps FROM resident_plans WHERE resident_id = %s AND kind = %s",
        (resident_id, kind.value),
    )
    row = await cursor.fetchone()
    return () if row is None else tuple(row[0])


async def set_own_plan(
    conn: DbConn, resident_id: int, kind: AlertKind, steps: Sequence[str], *, by: str
) -> None:
    """Give the resident her own steps for ``kind``; no steps puts her back on the default."""
    if not steps:
        await conn.execute(
            "DELETE FROM resident_plans WHERE resident_id = %s AND kind = %s",
            (resident_id, kind.value),
        )
        return
    await conn.execute(
        "INSERT INTO resident_plans (resident_id, kind, steps, changed_by) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (resident_id, kind) DO UPDATE SET steps = excluded.steps,"
        " changed_by = excluded.changed_by, changed_at = now()",
        (resident_id, kind.value, list(steps), by),
    )

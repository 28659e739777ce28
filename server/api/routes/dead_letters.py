"""Dead letters: messages the server refused, with why, for the people who run the service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from server.api.deps import MAX_ID, ServicesDep, require_role
from server.domain.access import Role
from server.store.dead_letters import StoredDeadLetter, list_dead_letters

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/dead-letters", tags=["dead letters"])


@router.get("", dependencies=[require_role(Role.ADMIN)])
async def dead_letters(
    services: ServicesDep,
    hub: Annotated[str | None, Query(max_length=64, description="only this hub")] = None,
    reason: Annotated[
        str | None, Query(max_length=200, description="reasons starting with this")
    ] = None,
    before_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="page back from this id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[StoredDeadLetter]:
    """Refused messages, newest first: unprovisioned hubs, invalid payloads, absurd timestamps."""
    async with services.pool.connection() as conn:
        return await list_dead_letters(
            conn, hub=hub, reason=reason, before_id=before_id, limit=limit
        )

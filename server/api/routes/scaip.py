"""Social-alarm units that may send alarms over SCAIP: admins add, move and remove them."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, Field

from server.api.deps import ServicesDep, require_role
from server.domain.access import Role
from server.domain.scaip import ScaipUnit
from server.store import scaip as scaip_sql

__all__ = ["router"]

router = APIRouter(
    prefix="/api/v1/scaip-units", tags=["scaip"], dependencies=[require_role(Role.ADMIN)]
)

# The unit's controller id (SCAIP cid), as it sends it.
UnitId = Annotated[str, Path(pattern=r"^\+?[0-9]{1,16}$")]


class ScaipUnitIn(BaseModel):
    """Whose home the unit is in, the hub there if any, and its heartbeat interval."""

    resident: str = Field(min_length=1, max_length=200)
    hub: str | None = Field(default=None, min_length=1, max_length=100)
    heartbeat_s: int | None = Field(default=None, ge=1, le=7 * 24 * 3600)


class ScaipUnitOut(BaseModel):
    """A provisioned unit."""

    unit: str
    resident_id: int
    resident: str
    hub: str | None
    heartbeat_s: int | None


def _out(unit: ScaipUnit) -> ScaipUnitOut:
    return ScaipUnitOut(
        unit=unit.unit,
        resident_id=unit.resident_id,
        resident=unit.resident,
        hub=unit.hub,
        heartbeat_s=unit.heartbeat_s,
    )


@router.get("")
async def list_scaip_units(services: ServicesDep) -> list[ScaipUnitOut]:
    """Every provisioned unit."""
    async with services.pool.connection() as conn:
        return [_out(u) for u in await scaip_sql.all_units(conn)]


@router.put("/{unit}", responses={404: {}})
async def put_scaip_unit(services: ServicesDep, unit: UnitId, body: ScaipUnitIn) -> ScaipUnitOut:
    """Add the unit (or move it to another resident): its alarms raise on their record."""
    try:
        async with services.pool.connection() as conn:
            added = await scaip_sql.put_unit(
                conn, unit, resident=body.resident, hub=body.hub, heartbeat_s=body.heartbeat_s
            )
    except psycopg.errors.ForeignKeyViolation:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no hub {body.hub!r}") from None
    if added is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no resident {body.resident!r}")
    return _out(added)


@router.delete("/{unit}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {}})
async def delete_scaip_unit(services: ServicesDep, unit: UnitId) -> None:
    """Refuse the unit's messages from now on (its alarms and alerts stay)."""
    async with services.pool.connection() as conn:
        if not await scaip_sql.remove_unit(conn, unit):
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no SCAIP unit {unit}")

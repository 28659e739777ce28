"""Services' accounts at their alarm receiving centres (SIA DC-09): admins set them; keys never leave."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, Field, field_validator

from edge.protocol import AlarmKind
from server.api.deps import ServicesDep, require_role
from server.domain.access import Role
from server.domain.alerts import AlertKind
from server.domain.arc import EVENT_CODES, ArcAccount, EventFormat, ReceiverPath, key_bytes
from server.store import arc as arc_sql

__all__ = ["router"]

router = APIRouter(
    prefix="/api/v1/arc-accounts", tags=["arc"], dependencies=[require_role(Role.ADMIN)]
)

# The urgent kinds a service may add; alarms (emergencies) always go.
URGENT_KINDS = frozenset(k for k in EVENT_CODES if k.value not in set(AlarmKind))

_HOST = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:\[\]-]+$")
_PORT = Field(ge=1, le=65535)


class Receiver(BaseModel):
    """A receiver path: host and TCP port."""

    host: str = _HOST
    port: int = _PORT


class ArcAccountIn(BaseModel):
    """A service's ARC account. ``key`` is written, never read back."""

    account: str = Field(pattern=r"^[0-9A-Fa-f]{3,16}$")
    primary: Receiver
    backup: Receiver | None = None
    receiver: str | None = Field(default=None, pattern=r"^[0-9A-Fa-f]{1,6}$")
    prefix: str = Field(default="0", pattern=r"^[0-9A-Fa-f]{1,6}$")
    key: str | None = Field(
        default=None,
        max_length=68,
        description="16, 24 or 32 characters, or hex: and 32, 48 or 64 hex digits",
    )
    event_format: EventFormat = EventFormat.SIA_DCS
    urgent_kinds: list[AlertKind] = Field(
        default_factory=list,
        max_length=20,
        description="urgent kinds to forward too: " + ", ".join(sorted(URGENT_KINDS)),
    )
    supervision_s: float = Field(default=0.0, ge=0, le=7 * 24 * 3600)

    @field_validator("urgent_kinds")
    @classmethod
    def _only_urgent_kinds(cls, kinds: list[AlertKind]) -> list[AlertKind]:
        others = sorted(set(kinds) - URGENT_KINDS)
        if others:
            raise ValueError(f"not an urgent kind an ARC can be sent: {', '.join(others)}")
        return kinds


class ArcAccountOut(BaseModel):
    """A service's ARC account as shown: whether it encrypts, never the key."""

    service: str
    account: str
    primary: Receiver
    backup: Receiver | None
    receiver: str | None
    prefix: str
    encrypted: bool
    event_format: EventFormat
    urgent_kinds: list[str]
    supervision_s: float


def _out(account: ArcAccount) -> ArcAccountOut:
    """The account without its key."""
    backup = account.backup
    return ArcAccountOut(
        service=account.service,
        account=account.account,
        primary=Receiver(host=account.primary.host, port=account.primary.port),
        backup=None if backup is None else Receiver(host=backup.host, port=backup.port),
        receiver=account.receiver,
        prefix=account.prefix,
        encrypted=account.key is not None,
        event_format=account.event_format,
        urgent_kinds=sorted(k.value for k in account.urgent_kinds),
        supervision_s=account.supervision_s,
    )


@router.get("")
async def list_arc_accounts(services: ServicesDep) -> list[ArcAccountOut]:
    """Every service's ARC account."""
    async with services.pool.connection() as conn:
        return [_out(a) for a in await arc_sql.accounts(conn)]


ServiceName = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._ -]+$")]


@router.put("/{service}", responses={422: {}})
async def put_arc_account(
    services: ServicesDep, service: ServiceName, body: ArcAccountIn
) -> ArcAccountOut:
    """Set or replace ``service``'s ARC account; its alerts raised from now on are forwarded."""
    try:
        key = None if body.key is None else key_bytes(body.key)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    account = ArcAccount(
        service=service,
        account=body.account.upper(),
        primary=ReceiverPath(body.primary.host, body.primary.port),
        backup=None if body.backup is None else ReceiverPath(body.backup.host, body.backup.port),
        receiver=None if body.receiver is None else body.receiver.upper(),
        prefix=body.prefix.upper(),
        key=key,
        event_format=body.event_format,
        urgent_kinds=frozenset(body.urgent_kinds),
        supervision_s=body.supervision_s,
    )
    async with services.pool.connection() as conn, conn.transaction():
        await arc_sql.put_account(conn, account, key_text=body.key)
    return _out(account)


@router.delete("/{service}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {}})
async def delete_arc_account(services: ServicesDep, service: ServiceName) -> None:
    """Stop forwarding ``service``'s alerts."""
    async with services.pool.connection() as conn, conn.transaction():
        if not await arc_sql.delete_account(conn, service):
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{service} has no ARC account")

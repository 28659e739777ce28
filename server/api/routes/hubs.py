"""Hubs: provision one or many (passwords are shown once), list them with their state, revoke one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from server import provisioning
from server.api.deps import ServicesDep, require_role, viewer_of
from server.bulk_provisioning import import_homes
from server.hub_import import HomeEntry, ImportRefused, SensorEntry
from server.provisioning import HubTaken, provision_hub
from server.store import people
from server.store.residents import visible_to

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/hubs", tags=["hubs"])

_ADMIN = require_role("admin")


class NewHub(BaseModel):
    """A hub to fit in a resident's home."""

    hub: Annotated[str, Field(min_length=1, max_length=64, examples=["hub-0001"])]
    resident: Annotated[str, Field(min_length=1, max_length=200, examples=["Mrs Edith Clarke"])]
    timezone: str = "Europe/London"


class ProvisionedHubOut(BaseModel):
    """The hub's credentials and the agent's settings: shown once, store them on the hub."""

    hub: str
    resident: str
    username: str
    password: str
    broker_account_written: bool
    agent_settings: dict[str, str]


class SensorOut(BaseModel):
    """A sensor as the hub last reported it; rooms are set on the hub (agent.toml)."""

    sensor: str
    room: str | None = None
    battery: float | None = Field(default=None, description="per cent")
    link: float | None = Field(default=None, description="radio link quality")


class HubOut(BaseModel):
    """A hub, how it last reported, and its sensors with their rooms."""

    hub: str
    resident: str
    state: str | None
    last_seen_at: datetime | None
    revoked_at: datetime | None
    firmware: str | None = None
    sensors: list[SensorOut] = Field(default_factory=list)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[_ADMIN])
async def add_hub(services: ServicesDep, new: NewHub) -> ProvisionedHubOut:
    """Provision a hub in a resident's home (the resident is created if new)."""
    settings = services.settings
    try:
        async with services.pool.connection() as conn:
            made = await provision_hub(
                conn,
                new.hub,
                resident=new.resident,
                timezone=new.timezone,
                credentials_dir=settings.broker_credentials_dir,
                broker_url=settings.broker_public_url,
                server_names=settings.server_broker_names(),
            )
    except HubTaken as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
    except ValueError as exc:
        raise HTTPException(422, detail=str(exc)) from None
    return ProvisionedHubOut(
        hub=made.hub,
        resident=made.resident,
        username=made.hub,
        password=made.password,
        broker_account_written=made.broker_account_written,
        agent_settings=made.agent_settings(),
    )


class SensorIn(BaseModel):
    """One sensor of the hub's map, as the installer fitted it."""

    sensor: Annotated[str, Field(min_length=1, max_length=128, examples=["kitchen-pir"])]
    kind: Annotated[str, Field(min_length=1, max_length=32, examples=["motion"])]
    room: Annotated[str, Field(min_length=1, max_length=64, examples=["kitchen"])]


class HomeIn(BaseModel):
    """A hub in a resident's home, with its sensor map."""

    hub: Annotated[str, Field(min_length=1, max_length=64, examples=["hub-0001"])]
    resident: Annotated[str, Field(min_length=1, max_length=200, examples=["Mrs Edith Clarke"])]
    timezone: str = "Europe/London"
    sensors: list[SensorIn] = Field(default_factory=list, max_length=256)


class HomesImport(BaseModel):
    """Homes to provision at once: all are checked before any is written."""

    homes: Annotated[list[HomeIn], Field(max_length=20_000)]


class ImportedHubOut(ProvisionedHubOut):
    """A hub the import created; ``where`` is its place in the request (homes[3])."""

    where: str


class SkippedHubOut(BaseModel):
    """A hub already provisioned in the same resident's home: left as it was."""

    where: str
    hub: str


class ImportOut(BaseModel):
    """What the import did: the created hubs' credentials (shown once), the skipped ones."""

    created: list[ImportedHubOut]
    skipped: list[SkippedHubOut]
    broker_account_written: bool


@router.post(
    "/import",
    dependencies=[_ADMIN],
    responses={422: {"description": "Every problem found (where, problem); nothing was written"}},
)
async def import_hubs(services: ServicesDep, request: HomesImport) -> ImportOut:
    """Provision many homes (hubs, residents, sensor maps, broker accounts); a re-run skips them.

    The broker's password file is written once; reload the broker afterwards
    (Mosquitto re-reads it on SIGHUP). For a county's worth of homes, use
    ``carewatch hub import FILE.csv``, which takes a file of any length.
    """
    homes = [
        HomeEntry(
            where=f"homes[{n}]",
            hub=home.hub,
            resident=home.resident.strip(),
            timezone=home.timezone,
            sensors=tuple(SensorEntry(s.sensor, s.kind, s.room) for s in home.sensors),
        )
        for n, home in enumerate(request.homes)
    ]
    settings = services.settings
    try:
        async with services.pool.connection() as conn:
            report = await import_homes(
                conn,
                homes,
                credentials_dir=settings.broker_credentials_dir,
                broker_url=settings.broker_public_url,
                server_names=settings.server_broker_names(),
                # A thread or two: the server's own work (and its alarms) keeps its cores.
                threads=1,
            )
    except ImportRefused as exc:
        raise HTTPException(
            422, detail=[{"where": p.where, "problem": p.message} for p in exc.problems]
        ) from None
    return ImportOut(
        created=[
            ImportedHubOut(
                where=made.where,
                hub=made.hub.hub,
                resident=made.hub.resident,
                username=made.hub.hub,
                password=made.hub.password,
                broker_account_written=made.hub.broker_account_written,
                agent_settings=made.hub.agent_settings(),
            )
            for made in report.created
        ],
        skipped=[SkippedHubOut(where=home.where, hub=home.hub) for home in report.skipped],
        broker_account_written=report.broker_account_written,
    )


@router.get("")
async def list_hubs(
    services: ServicesDep, user: Annotated[people.User, require_role("admin", "responder")]
) -> list[HubOut]:
    """The hubs of your service's residents (every hub, for admins), with their last state."""
    condition, params = visible_to(viewer_of(user))
    async with services.pool.connection() as conn:
        rows = await people.hubs_where(conn, condition, params)
    return [
        HubOut(
            hub=row.hub,
            resident=row.resident,
            state=row.state,
            last_seen_at=row.last_seen_at,
            revoked_at=row.revoked_at,
            firmware=(row.last_status or {}).get("firmware"),
            sensors=[SensorOut(**sensor) for sensor in (row.last_status or {}).get("sensors", [])],
        )
        for row in rows
    ]


@router.post("/{hub}/revoke", dependencies=[_ADMIN])
async def revoke_hub(services: ServicesDep, hub: str) -> dict[str, str]:
    """Lock the hub out (broker account removed, messages refused); its history stays."""
    async with services.pool.connection() as conn:
        revoked = await provisioning.revoke_hub(
            conn, hub, credentials_dir=services.settings.broker_credentials_dir
        )
    if not revoked.in_database:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no active hub {hub}")
    return {"hub": hub, "status": "revoked"}

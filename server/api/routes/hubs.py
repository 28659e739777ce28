"""Hubs: provision one or many (passwords are shown once), list them with their state, revoke one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from server import provisioning
from server.api.deps import ServicesDep, require_role, viewer_of
from server.bulk_provisioning import import_homes
from server.domain.access import Role
from server.hub_config import ConfigNotSent, hub_config
from server.hub_import import (
    SENSOR_KINDS,
    HomeEntry,
    ImportRefused,
    SensorEntry,
    sensor_map_problems,
)
from server.provisioning import HubTaken, provision_hub
from server.store import people
from server.store import sensor_maps as maps_sql
from server.store.residents import visible_to

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/hubs", tags=["hubs"])

_ADMIN = require_role(Role.ADMIN)


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
    services: ServicesDep, user: Annotated[people.User, require_role(Role.ADMIN, Role.RESPONDER)]
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


class SensorMapIn(BaseModel):
    """A hub's whole sensor map: a sensor left out is taken off it."""

    sensors: list[SensorIn] = Field(max_length=256)


class SensorMapOut(BaseModel):
    """A hub's sensor map as kept here, and whether the hub has been sent it."""

    hub: str
    sensors: list[SensorIn]
    kinds: list[str] = Field(description="what a sensor may be")
    sent: bool | None = Field(
        default=None,
        description="after a change: whether the broker took the hub's new config (retained)",
    )
    note: str | None = Field(default=None, description="what happened, in words")


async def _active(services: ServicesDep, hub: str) -> list[tuple[str, str, str]]:
    async with services.pool.connection() as conn:
        if not await maps_sql.hub_is_active(conn, hub):
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                detail=f"no hub {hub} in service (revoked, or never added): check the hub id",
            )
        return await maps_sql.sensor_map_of(conn, hub)


def _map_out(hub: str, sensors: list[tuple[str, str, str]], **after: object) -> SensorMapOut:
    return SensorMapOut(
        hub=hub,
        sensors=[SensorIn(sensor=s, kind=k, room=r) for s, k, r in sensors],
        kinds=sorted(SENSOR_KINDS),
        **after,  # type: ignore[arg-type]
    )


@router.get("/{hub}/sensors", dependencies=[_ADMIN], responses={404: {}})
async def sensor_map(services: ServicesDep, hub: str) -> SensorMapOut:
    """The hub's sensor map: each sensor's kind and the room it is in."""
    return _map_out(hub, await _active(services, hub))


@router.put(
    "/{hub}/sensors",
    dependencies=[_ADMIN],
    responses={404: {}, 422: {"description": "what is wrong with the map; nothing was saved"}},
)
async def set_sensor_map(services: ServicesDep, hub: str, wanted: SensorMapIn) -> SensorMapOut:
    """Replace the hub's sensor map, and send it to the hub, retained on its config topic.

    The detectors place the sensors at once. A hub offline now gets the map
    when it next connects (the broker keeps it). ``sent`` false: saved, but the
    broker did not take it; save again once the broker is back.
    """
    await _active(services, hub)
    entries = [
        SensorEntry(s.sensor.strip(), s.kind.strip(), s.room.strip()) for s in wanted.sensors
    ]
    problems = list(sensor_map_problems(entries))
    if problems:
        raise HTTPException(422, detail="; ".join(problems))
    # By sensor id, as the map is read back: the page and the hub see one order.
    sensors = sorted((e.sensor, e.kind, e.room) for e in entries)
    async with services.pool.connection() as conn, conn.transaction():
        await maps_sql.replace_sensor_map(conn, hub, sensors)
    services.sensor_map_edited(hub, {sensor: room for sensor, _, room in sensors})
    config = hub_config(sensors, heartbeat_s=services.settings.hub_heartbeat_s)
    try:
        await services.publish_hub_config(hub, config)
    except ConfigNotSent as exc:
        return _map_out(
            hub,
            sensors,
            sent=False,
            note=f"Saved here, but not sent to the hub: {exc}. Save again once the broker is back.",
        )
    return _map_out(
        hub,
        sensors,
        sent=True,
        note=f"Saved and sent to {hub}: it has the map as soon as it is connected.",
    )

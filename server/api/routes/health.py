"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from server.api.deps import ServicesDep

__all__ = ["router"]

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """Whether the process, and what it depends on, is working."""

    status: str
    database: bool | None = None
    alert_feed: bool | None = None


@router.get("/healthz")
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz")
async def readyz(services: ServicesDep, response: Response) -> Health:
    """The database answers and the live alert feed is listening."""
    try:
        async with services.pool.connection(timeout=2.0) as conn:
            await conn.execute("SELECT 1")
        database = True
    except Exception:
        database = False
    feed = services.feed.listening.is_set()
    ready = database and feed
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(status="ok" if ready else "unavailable", database=database, alert_feed=feed)

"""Liveness, readiness and metrics for load balancers, orchestrators and monitoring."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

from server.api.deps import ServicesDep

__all__ = ["router"]

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """Whether the process, and what it depends on, is working."""

    status: str
    database: bool | None = None
    alert_feed: bool | None = None
    ingest: bool | None = None
    # What is wrong, in words, when not ready.
    problem: str | None = None


@router.get("/healthz")
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz")
async def readyz(services: ServicesDep, response: Response) -> Health:
    """The database answers, the live alert feed is listening and readings are being stored."""
    try:
        async with services.pool.connection(timeout=2.0) as conn:
            await conn.execute("SELECT 1")
        database = True
    except Exception:
        database = False
    feed = services.feed.listening.is_set()
    problem = services.ingest_problem()
    ready = database and feed and problem is None
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(
        status="ok" if ready else "unavailable",
        database=database,
        alert_feed=feed,
        ingest=problem is None,
        problem=problem,
    )


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(services: ServicesDep) -> PlainTextResponse:
    """Prometheus metrics: ingest counts, dead letters by reason, flush sizes and times, lag."""
    return PlainTextResponse(services.metrics.render(), media_type=CONTENT_TYPE_LATEST)

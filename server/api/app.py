"""Build the FastAPI application around already-opened services."""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from psycopg_pool import PoolTimeout

from server.api import api_docs, pages
from server.api.deps import Services
from server.api.error_pages import install_error_pages
from server.api.limits import BodyLimit
from server.api.routes import (
    ack_links,
    alerts,
    arc,
    auth,
    care_record,
    dead_letters,
    fhir,
    health,
    hubs,
    passwords,
    plans,
    push,
    reach,
    reports,
    residents,
    scaip,
    shift,
    users,
    vocabulary,
    voice,
)
from server.api.security import SecurityHeaders

__all__ = ["create_app"]

log = logging.getLogger(__name__)


async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    # Text with a NUL byte, a number past bigint: the request's fault, not the server's.
    log.info("refused %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": f"a value in the request cannot be stored: {str(exc).splitlines()[0]}"},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


async def _pool_exhausted(request: Request, exc: Exception) -> JSONResponse:
    # Every API connection is busy: say so and when to come back, rather than a 500.
    # Alarms are not affected; they have a pool of their own.
    log.warning("no database connection for %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": "the server is busy; try again in a few seconds"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "5"},
    )


def create_app(services: Services) -> FastAPI:
    """The API and the console, served by one app."""
    app = FastAPI(
        title="carewatch",
        summary="Telecare alerts for carers and responders",
        version="0.1.0",
        # Served by api_docs instead, without a CDN and within the pages' CSP.
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services

    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, max_bytes=services.settings.http_max_body_bytes)
    app.add_exception_handler(psycopg.DataError, _unstorable)
    app.add_exception_handler(PoolTimeout, _pool_exhausted)
    install_error_pages(app)
    app.include_router(auth.router)
    app.include_router(alerts.router)
    app.include_router(reports.router)
    app.include_router(push.router)
    app.include_router(reach.router)
    app.include_router(voice.router)
    app.include_router(dead_letters.router)
    app.include_router(hubs.router)
    app.include_router(ack_links.router)
    app.include_router(health.router)
    app.include_router(residents.router)
    app.include_router(care_record.router)
    app.include_router(plans.router)
    app.include_router(users.router)
    app.include_router(passwords.router)
    app.include_router(shift.router)
    app.include_router(arc.router)
    app.include_router(scaip.router)
    app.include_router(vocabulary.router)
    app.include_router(fhir.router)
    app.include_router(fhir.sharing_router)
    app.add_exception_handler(fhir.FhirProblem, fhir.fhir_problem)
    app.include_router(pages.router)
    app.include_router(api_docs.router)
    # Before /static, which would otherwise take these paths and find nothing.
    app.mount("/static/api-tools", StaticFiles(directory=api_docs.ASSETS), name="api-tools")
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    return app

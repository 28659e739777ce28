"""Build the FastAPI application around already-opened services."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from server.api.deps import Services
from server.api.routes import (
    ack_links,
    alerts,
    auth,
    dead_letters,
    health,
    hubs,
    push,
    reports,
)

__all__ = ["create_app"]

_STATIC = Path(str(resources.files("server.api").joinpath("static")))


def create_app(services: Services) -> FastAPI:
    """The API and the console, served by one app."""
    app = FastAPI(
        title="carewatch",
        summary="Telecare alerts for carers and responders",
        version="0.1.0",
    )
    app.state.services = services
    app.include_router(auth.router)
    app.include_router(alerts.router)
    app.include_router(reports.router)
    app.include_router(push.router)
    app.include_router(dead_letters.router)
    app.include_router(hubs.router)
    app.include_router(ack_links.router)
    app.include_router(health.router)
    app.mount("/static", StaticFiles(directory=_STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def console() -> FileResponse:
        return FileResponse(_STATIC / "console.html", headers={"Cache-Control": "no-store"})

    return app

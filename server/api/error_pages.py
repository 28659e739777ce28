"""Errors as a page for a person's browser, as JSON for a program.

A browser asking for a page (``Accept: text/html``, a path outside ``/api/``)
that is not there, or that failed, gets a page in the site's own style that
says what happened and where to go; an API client gets FastAPI's usual JSON
(``{"detail": ...}``), whatever its Accept header, so programs are never
handed HTML to parse.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.api.render import render

__all__ = ["install_error_pages", "wants_page"]

log = logging.getLogger(__name__)

_WORDS = {
    status.HTTP_404_NOT_FOUND: (
        "Page not found",
        "There is no page at this address. It may have been mistyped, or the link you "
        "followed may be old.",
    ),
    status.HTTP_500_INTERNAL_SERVER_ERROR: (
        "Something went wrong on our side",
        "The server could not show this page. Try again in a minute; if it keeps "
        "happening, tell your service's administrator. Alarms and alerts are not affected.",
    ),
}


def wants_page(path: str, accept: str) -> bool:
    """Whether to answer with a page rather than JSON.

    >>> wants_page("/no-such-page", "text/html,application/xhtml+xml,*/*;q=0.8")
    True
    >>> wants_page("/api/v1/nothing", "text/html"), wants_page("/no-such-page", "*/*")
    (False, False)
    """
    return not (path == "/api" or path.startswith("/api/")) and "text/html" in accept


def _page(code: int) -> HTMLResponse:
    title, message = _WORDS[code]
    return HTMLResponse(
        render("error.html", title=title, message=message),
        status_code=code,
        headers={"Cache-Control": "no-store"},
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in _WORDS and wants_page(
        request.url.path, request.headers.get("accept", "")
    ):
        return _page(exc.status_code)
    return await http_exception_handler(request, exc)


async def _server_error(request: Request, exc: Exception) -> Response:
    # Starlette logs the traceback too; this line ties it to the request.
    log.error("%s %s failed: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
    if wants_page(request.url.path, request.headers.get("accept", "")):
        return _page(status.HTTP_500_INTERNAL_SERVER_ERROR)
    return JSONResponse(
        {"detail": "internal server error"}, status_code=status.HTTP_500_INTERNAL_SERVER_ERROR
    )


def install_error_pages(app: FastAPI) -> None:
    """Answer 404s and unhandled errors as a page or as JSON, by who is asking."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)

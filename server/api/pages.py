"""The pages: sign-in, the responders' console, the carer's view, the resident's page, a record,
administration.

Each page is a Jinja2 template on the shared layout (server/api/render.py)
with a small script that reads the API with the session cookie. The server checks who may open a page before sending it,
so a record opened by URL is refused (and logged) here, not only by its data.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Cookie, HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.api.deps import SESSION_COOKIE, ResidentId, Services, ServicesDep, resident_in_reach
from server.api.render import render
from server.store import people, sessions

__all__ = ["router"]

STATIC = Path(str(resources.files("server.api").joinpath("static")))

router = APIRouter(include_in_schema=False)

_NO_STORE = {"Cache-Control": "no-store"}
# Which roles each page is for.
_PAGES = {
    "/console": ("console.html", ("admin", "responder")),
    "/carer": ("carer.html", ("carer",)),
    "/me": ("resident.html", ("resident",)),
    "/admin": ("admin.html", ("admin",)),
    "/account": ("account.html", ("admin", "responder", "carer", "resident")),
}

SessionCookie = Annotated[str | None, Cookie(alias=SESSION_COOKIE)]


async def _signed_in(services: Services, session_id: str | None) -> people.User | None:
    if not session_id:
        return None
    async with services.pool.connection() as conn:
        found = await sessions.session_user(conn, session_id)
    return found.user if found else None


def _sign_in_first(path: str) -> RedirectResponse:
    return RedirectResponse(f"/?next={quote(path)}", status_code=303)


def _refused(message: str, *, status_code: int = 403) -> HTMLResponse:
    return HTMLResponse(
        render("refused.html", message=message), status_code=status_code, headers=_NO_STORE
    )


@router.get("/")
async def sign_in_page() -> HTMLResponse:
    """Sign in; the page sends each role on to its own page."""
    return HTMLResponse(render("login.html"), headers=_NO_STORE)


async def _page(services: Services, session_id: str | None, path: str) -> Response:
    user = await _signed_in(services, session_id)
    if user is None:
        return _sign_in_first(path)
    name, roles = _PAGES[path]
    if user.role not in roles:
        return _refused(
            f"This page is for {' and '.join(roles)} accounts; you are signed in as a {user.role}."
        )
    return HTMLResponse(render(name), headers=_NO_STORE)


@router.get("/console")
async def console_page(services: ServicesDep, session: SessionCookie = None) -> Response:
    """The responders' triage console."""
    return await _page(services, session, "/console")


@router.get("/carer")
async def carer_page(services: ServicesDep, session: SessionCookie = None) -> Response:
    """A carer's residents, mobile first."""
    return await _page(services, session, "/carer")


@router.get("/me")
async def resident_page(services: ServicesDep, session: SessionCookie = None) -> Response:
    """The resident's own page."""
    return await _page(services, session, "/me")


@router.get("/admin")
async def admin_page(services: ServicesDep, session: SessionCookie = None) -> Response:
    """Residents, the people who sign in, and each resident's carers."""
    return await _page(services, session, "/admin")


@router.get("/account")
async def account_page(services: ServicesDep, session: SessionCookie = None) -> Response:
    """Your own account: change your password."""
    return await _page(services, session, "/account")


@router.get("/reset")
async def reset_page() -> HTMLResponse:
    """Set a new password with an admin's one-time link (its token is in the fragment)."""
    return HTMLResponse(render("reset.html"), headers=_NO_STORE)


@router.get("/residents/{resident_id}")
async def record_page(
    services: ServicesDep, resident_id: ResidentId, session: SessionCookie = None
) -> Response:
    """One resident's record, for whoever may see it; anyone else gets 403 and is logged."""
    user = await _signed_in(services, session)
    if user is None:
        return _sign_in_first(f"/residents/{resident_id}")
    try:
        await resident_in_reach(services, user, resident_id, "record page")
    except HTTPException as refused:
        if refused.status_code == 404:
            return _refused(f"There is no resident {resident_id}.", status_code=404)
        return _refused(
            "You are not one of this resident's carers or responders, so their record "
            "stays closed to you. This attempt has been logged."
        )
    return HTMLResponse(render("record.html"), headers=_NO_STORE)

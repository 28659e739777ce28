"""What route functions are handed: the services, the database pool and the signed-in user."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.security import APIKeyCookie, OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param

from edge.protocol import HubConfig
from server.alerts.service import AlertService
from server.api.live import AlertFeed
from server.api.login_limit import LoginLimiter
from server.domain.access import ResidentScope, Role, Viewer, may_see
from server.hub_config import ConfigNotSent
from server.metrics import IngestMetrics
from server.passwords import PasswordWork
from server.settings import ServerSettings
from server.store import people, sessions
from server.store import residents as residents_sql
from server.store.pool import DbConn, Pool

__all__ = [
    "CSRF_HEADER",
    "MAX_ID",
    "SESSION_COOKIE",
    "CurrentUser",
    "IdQuery",
    "ResidentId",
    "Services",
    "ServicesDep",
    "bearer_token",
    "credential_of",
    "get_services",
    "log_list_reads",
    "require_role",
    "resident_in_reach",
    "still_signed_in",
    "viewer_of",
]

# Ids are PostgreSQL bigints: a larger number names nothing and is refused up front.
MAX_ID = 2**63 - 1
ResidentId = Annotated[int, Path(ge=1, le=MAX_ID, description="a resident's id")]
IdQuery = Query(ge=1, le=MAX_ID)

SESSION_COOKIE = "carewatch_session"
CSRF_HEADER = "X-CSRF-Token"
# Methods that change nothing need no CSRF token.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(slots=True)
class Services:
    """Everything the API needs, opened by whoever runs the app."""

    settings: ServerSettings
    # The API's own pool: ingest and alarms have another, so no request can starve them.
    pool: Pool
    # Alert changes made from the API (acknowledge, resolve), on the API's pool.
    alerts: AlertService
    feed: AlertFeed
    # Signs and checks the one-tap acknowledge links in notifications.
    link_key: bytes
    # What browsers subscribe to Web Push with (base64url VAPID public key).
    push_public_key: str
    metrics: IngestMetrics
    login_limiter: LoginLimiter
    # Hashes and checks passwords off the event loop.
    passwords: PasswordWork
    # Why ingest is not making progress (the reading writer stalled), or None.
    ingest_problem: Callable[[], str | None] = lambda: None
    # Tells ingest that hubs were removed or changed, so it re-reads them at once.
    hubs_changed: Callable[[], Awaitable[None]] = lambda: _nothing()
    # Sends a hub its config, retained on its config topic (server/hub_config.py);
    # raises ConfigNotSent when the broker does not take it.
    publish_hub_config: Callable[[str, HubConfig], Awaitable[None]] = lambda hub, config: (
        _not_sent()
    )
    # Tells the detectors a hub's sensor map was edited: sensor -> room.
    sensor_map_edited: Callable[[str, Mapping[str, str]], None] = lambda hub, rooms: None


async def _nothing() -> None:
    return None


async def _not_sent() -> None:
    raise ConfigNotSent("this server has no broker to send it on")


def get_services(request: Request) -> Services:
    """The services the app was created with."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
_session = APIKeyCookie(name=SESSION_COOKIE, auto_error=False)


async def _user_of(
    conn: DbConn, token: str | None, session_id: str | None
) -> tuple[people.User | None, sessions.WebSession | None]:
    """Who a bearer token (first) or a session cookie belongs to, and the session if any."""
    if token:
        return await people.user_by_token(conn, token), None
    if session_id:
        session = await sessions.session_user(conn, session_id)
        return (session.user if session else None), session
    return None, None


async def current_user(
    services: ServicesDep,
    request: Request,
    token: Annotated[str | None, Depends(_bearer)],
    session_id: Annotated[str | None, Depends(_session)],
) -> people.User:
    """The user a bearer token or a page's session cookie belongs to, or 401.

    A session cookie is sent by the browser on its own, so a request that
    changes something must also carry the session's CSRF token in a header.
    """
    async with services.pool.connection() as conn:
        user, session = await _user_of(conn, token, session_id)
    if session and request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not secrets.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"missing or wrong {CSRF_HEADER} header; reload the page",
            )
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="not signed in, or the session or token has expired; sign in again",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def bearer_token(request: Request) -> str | None:
    """The request's bearer token, read as the sign-in dependency reads it, if it has one."""
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    return token if scheme.lower() == "bearer" and token else None


def credential_of(request: Request) -> str:
    """A fingerprint of what the request signed in with (bearer token, else session cookie)."""
    secret = bearer_token(request) or request.cookies.get(SESSION_COOKIE)
    return hashlib.sha256(secret.encode()).hexdigest() if secret else ""


async def still_signed_in(services: Services, request: Request) -> bool:
    """Whether the request's token or session still works (for long-lived streams)."""
    async with services.pool.connection() as conn:
        user, _ = await _user_of(conn, bearer_token(request), request.cookies.get(SESSION_COOKIE))
    return user is not None


CurrentUser = Annotated[people.User, Depends(current_user)]


def require_role(*roles: Role) -> Any:
    """A dependency that lets only users with one of ``roles`` through (403 otherwise)."""

    async def check(user: CurrentUser) -> people.User:
        if user.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"this needs the role {' or '.join(roles)}; you are {user.role}",
            )
        return user

    return Depends(check)


def viewer_of(user: people.User) -> Viewer:
    """The user as the access rules see them."""
    return Viewer(
        user_id=user.id,
        username=user.username,
        role=user.role,
        service=user.service,
        resident_id=user.resident_id,
    )


# A console refreshes its lists often: a person seeing a resident on one is logged
# once in this long, not at every refresh.
_LIST_READ_EVERY = timedelta(minutes=10)


async def log_list_reads(
    conn: DbConn, viewer: Viewer, resident_ids: Iterable[int], what: str
) -> None:
    """Log that ``viewer`` saw these residents on a list (a resident's own are not news)."""
    if viewer.role is Role.RESIDENT:
        return
    await residents_sql.log_list_reads(
        conn, viewer, resident_ids, what, unless_within=_LIST_READ_EVERY
    )


async def resident_in_reach(
    services: Services, user: people.User, resident_id: int, what: str
) -> ResidentScope:
    """The resident's scope if the user may see them; 404 or 403 otherwise.

    Every attempt is written to the record's read log, refused ones too.
    """
    viewer = viewer_of(user)
    async with services.pool.connection() as conn:
        home = await residents_sql.scope(conn, resident_id)
        if home is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no resident {resident_id}")
        allowed = may_see(viewer, home)
        await residents_sql.log_read(conn, viewer, resident_id, what, allowed=allowed)
    if not allowed:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="you are not one of this resident's carers or responders; "
            "the attempt has been logged",
        )
    return home

"""Signing in: a bearer token for API clients, a session cookie for the pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from server.api.deps import (
    SESSION_COOKIE,
    CurrentUser,
    Services,
    ServicesDep,
    bearer_token,
    credential_of,
)
from server.domain.access import Role
from server.passwords import generate_token
from server.settings import Environment
from server.store import people, sessions

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["auth"])


class Token(BaseModel):
    """A bearer token for the Authorization header."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class Me(BaseModel):
    """Who is signed in, and where their page is."""

    username: str
    role: Role
    service: str | None
    resident_id: int | None
    home_page: str


class SessionOut(Me):
    """A page's session: send ``csrf_token`` in the X-CSRF-Token header of every change."""

    csrf_token: str


_HOME_PAGES = {"admin": "/console", "responder": "/console", "carer": "/carer", "resident": "/me"}


def _me(user: people.User) -> Me:
    return Me(
        username=user.username,
        role=user.role,
        service=user.service,
        resident_id=user.resident_id,
        home_page=_HOME_PAGES[user.role],
    )


async def _check_password(
    services: Services, request: Request, username: str, password: str
) -> people.User:
    """The user if the password is right; 429 while too many wrong tries, 401 otherwise."""
    who = (username, request.client.host if request.client else "unknown")
    limiter = services.login_limiter
    async with services.pool.connection() as conn:
        # Counted (as a failure, until proved right) before any hashing: tries over
        # the limit cost one small query, not 0.1 s of argon2.
        user = await people.user_by_username(conn, username)
        wait = await limiter.admit(conn, who, known=user is not None)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"too many wrong passwords; try again in {int(wait) + 1} s",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    # No connection is held while hashing: a queue of sign-ins must not empty the pool.
    # A made-up or turned-off account costs the same argon2 run as a real one, and
    # gets the same answer: neither the words nor the time say which accounts exist.
    if user is None or user.disabled:
        right = await services.passwords.verify_nobody(password)
    else:
        right = await services.passwords.verify(user.password_hash, password)
    if user is None or user.disabled or not right:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="wrong username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    async with services.pool.connection() as conn:
        await limiter.succeeded(conn, who)
    return user


@router.post("/auth/token", responses={401: {}, 429: {}})
async def issue_token(
    services: ServicesDep,
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    """Exchange a username and password for a bearer token."""
    user = await _check_password(services, request, form.username, form.password)
    token = generate_token()
    lifetime = services.settings.token_lifetime_s
    async with services.pool.connection() as conn:
        await people.issue_token(conn, user.id, token, lifetime=timedelta(seconds=lifetime))
    return Token(access_token=token, expires_in=int(lifetime))


@router.post("/auth/session", responses={401: {}, 429: {}})
async def open_session(
    services: ServicesDep,
    request: Request,
    response: Response,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> SessionOut:
    """Sign a browser in: sets an HttpOnly, SameSite=Strict session cookie."""
    user = await _check_password(services, request, form.username, form.password)
    session_id, csrf = generate_token(), generate_token()
    lifetime = services.settings.token_lifetime_s
    async with services.pool.connection() as conn:
        await sessions.open_session(
            conn, user.id, session_id, csrf, lifetime=timedelta(seconds=lifetime)
        )
    secure = services.settings.cookie_secure
    if secure is None and services.settings.environment is Environment.PRODUCTION:
        secure = True  # production is served over https, whatever the proxy tells us
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(lifetime),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https" if secure is None else secure,
        path="/",
    )
    return SessionOut(**_me(user).model_dump(), csrf_token=csrf)


@router.get("/auth/session", responses={401: {}})
async def current_session(services: ServicesDep, request: Request) -> SessionOut:
    """The page's session, for a page that was reloaded."""
    session_id = request.cookies.get(SESSION_COOKIE)
    found = None
    if session_id:
        async with services.pool.connection() as conn:
            found = await sessions.session_user(conn, session_id)
    if found is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="not signed in")
    return SessionOut(**_me(found.user).model_dump(), csrf_token=found.csrf_token)


@router.delete("/auth/session", status_code=status.HTTP_204_NO_CONTENT)
async def close_session(services: ServicesDep, request: Request, user: CurrentUser) -> Response:
    """Sign out: the bearer token or the session ends on the server, with its live streams."""
    del user
    token = bearer_token(request)
    session_id = request.cookies.get(SESSION_COOKIE)
    credential = credential_of(request)
    async with services.pool.connection() as conn:
        if token:
            await people.revoke_token(conn, token)
        elif session_id:
            await sessions.end_session(conn, session_id)
    services.feed.signed_out(credential)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me")
async def me(user: CurrentUser) -> Me:
    """The signed-in user."""
    return _me(user)

"""Passwords: change your own, an admin's one-time reset link, and spending that link."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel, Field

from server.api.deps import SESSION_COOKIE, CurrentUser, ServicesDep, require_role
from server.domain.access import Role
from server.passwords import generate_token
from server.store import passwords as passwords_sql
from server.store import people

__all__ = ["RESET_LIFETIME", "router"]

router = APIRouter(prefix="/api/v1", tags=["passwords"])

# Long enough to pass on by phone the same day, short enough not to lie about for weeks.
RESET_LIFETIME = timedelta(hours=24)
_NEW_PASSWORD = Field(min_length=10, max_length=200, description="at least 10 characters")


class PasswordChange(BaseModel):
    """Your current password, and the new one."""

    current_password: str = Field(max_length=200)
    new_password: str = _NEW_PASSWORD


class ResetLink(BaseModel):
    """A one-time link to set a new password: give it to the person, not by e-mail in clear."""

    url: str
    expires_at: datetime


class Reset(BaseModel):
    """A reset link's token and the new password."""

    token: str = Field(min_length=20, max_length=200)
    new_password: str = _NEW_PASSWORD


@router.put("/me/password", status_code=status.HTTP_204_NO_CONTENT, responses={403: {}, 422: {}})
async def change_own_password(
    services: ServicesDep, user: CurrentUser, request: Request, change: PasswordChange
) -> Response:
    """Change your password; every other sign-in of yours ends (this page's session stays)."""
    if not await services.passwords.verify(user.password_hash, change.current_password):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            detail="Your current password is not right. Type it again, or ask an administrator"
            " for a reset link.",
        )
    if change.new_password == change.current_password:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail="The new password is the same as the old one: choose a different one.",
        )
    password_hash = await services.passwords.hash(change.new_password)
    async with services.pool.connection() as conn, conn.transaction():
        await passwords_sql.set_password(conn, user.id, password_hash)
        await passwords_sql.end_sign_ins(
            conn, user.id, keep_session=request.cookies.get(SESSION_COOKIE)
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/users/{username}/reset-link",
    status_code=status.HTTP_201_CREATED,
    dependencies=[require_role(Role.ADMIN)],
    responses={404: {}},
)
async def issue_reset_link(
    services: ServicesDep, admin: CurrentUser, request: Request, username: str
) -> ResetLink:
    """A link that sets a new password once, within a day; earlier unused links stop working."""
    async with services.pool.connection() as conn:
        found = await people.user_by_username(conn, username)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no account {username!r}")
        token = generate_token()
        expires = await passwords_sql.issue_reset(
            conn, found.id, token, by=admin.username, lifetime=RESET_LIFETIME
        )
    # The token rides in the fragment: browsers never send it, so no log keeps it.
    return ResetLink(url=f"{str(request.base_url).rstrip('/')}/reset#{token}", expires_at=expires)


@router.post("/auth/reset", status_code=status.HTTP_204_NO_CONTENT, responses={400: {}, 422: {}})
async def reset_password(services: ServicesDep, reset: Reset) -> Response:
    """Set a new password with a reset link; the person is signed out everywhere."""
    password_hash = await services.passwords.hash(reset.new_password)
    async with services.pool.connection() as conn, conn.transaction():
        user_id = await passwords_sql.use_reset(conn, reset.token)
        if user_id is None:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                detail="This link has been used or has expired. Ask your administrator for a"
                " new one.",
            )
        await passwords_sql.set_password(conn, user_id, password_hash)
        await passwords_sql.end_sign_ins(conn, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

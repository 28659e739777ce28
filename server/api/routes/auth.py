"""Signing in: OAuth2 password flow for a bearer token."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from server.api.deps import CurrentUser, ServicesDep
from server.db import people
from server.passwords import generate_token, verify_password

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["auth"])


class Token(BaseModel):
    """A bearer token for the Authorization header."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class Me(BaseModel):
    """Who the token belongs to."""

    username: str
    role: str


@router.post("/auth/token")
async def issue_token(
    services: ServicesDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> Token:
    """Exchange a username and password for a bearer token."""
    async with services.pool.connection() as conn:
        user = await people.user_by_username(conn, form.username)
        if user is None or not verify_password(user.password_hash, form.password):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="wrong username or password",
                headers={"WWW-Authenticate": "Bearer"},
            )
        token = generate_token()
        lifetime = services.settings.token_lifetime_s
        await people.issue_token(conn, user.id, token, lifetime=timedelta(seconds=lifetime))
    return Token(access_token=token, expires_in=int(lifetime))


@router.get("/me")
async def me(user: CurrentUser) -> Me:
    """The signed-in user."""
    return Me(username=user.username, role=user.role)

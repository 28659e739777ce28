"""What route functions are handed: the services, the database pool and the signed-in user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from server.alerts.service import AlertService
from server.api.live import AlertFeed
from server.db import people
from server.db.pool import Pool
from server.metrics import IngestMetrics
from server.settings import ServerSettings

__all__ = ["CurrentUser", "Services", "ServicesDep", "get_services", "require_role"]


@dataclass(slots=True)
class Services:
    """Everything the API needs, opened by whoever runs the app."""

    settings: ServerSettings
    pool: Pool
    alerts: AlertService
    feed: AlertFeed
    # Signs and checks the one-tap acknowledge links in notifications.
    link_key: bytes
    # What browsers subscribe to Web Push with (base64url VAPID public key).
    push_public_key: str
    metrics: IngestMetrics


def get_services(request: Request) -> Services:
    """The services the app was created with."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token")


async def current_user(
    services: ServicesDep, token: Annotated[str, Depends(_bearer)]
) -> people.User:
    """The user the bearer token belongs to, or 401."""
    async with services.pool.connection() as conn:
        user = await people.user_by_token(conn, token)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="token is invalid or has expired; sign in again",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[people.User, Depends(current_user)]


def require_role(*roles: str) -> Any:
    """A dependency that lets only users with one of ``roles`` through (403 otherwise)."""

    async def check(user: CurrentUser) -> people.User:
        if user.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"this needs the role {' or '.join(roles)}; you are {user.role}",
            )
        return user

    return Depends(check)

"""Web Push: the key browsers subscribe with, and storing a carer's phone subscription."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from server.alerts.webpush import (
    MAX_PUSH_SUBSCRIPTIONS,
    parse_subscription,
    subscription_endpoint,
)
from server.api.deps import CurrentUser, ServicesDep
from server.store import escalation as escalation_sql

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["push"])


class PushKey(BaseModel):
    """What ``pushManager.subscribe({applicationServerKey})`` needs."""

    public_key: str


@router.get("/push/key")
async def push_key(services: ServicesDep) -> PushKey:
    """The server's VAPID public key, base64url."""
    return PushKey(public_key=services.push_public_key)


class Subscribed(BaseModel):
    """The subscription now tried first, and any old ones dropped to stay within the cap."""

    endpoint: str
    dropped: list[str]


@router.post(
    "/me/push-subscriptions",
    status_code=status.HTTP_201_CREATED,
    responses={422: {"description": "not a browser's subscription on a public push service"}},
)
async def subscribe(
    services: ServicesDep, user: CurrentUser, subscription: dict[str, Any]
) -> Subscribed:
    """Notify me on this browser first (the body is ``PushSubscription.toJSON()``).

    A person keeps at most ten subscriptions. The newest always wins: the one
    subscribed longest ago is dropped (and named in ``dropped``), because the
    browser in someone's hand now must never be refused while a phone they
    replaced holds a place.

    The endpoint must be https on a public push service (Google's FCM,
    Mozilla's, Apple's, Microsoft's): the server posts to it, so any other
    address is refused.
    """
    try:
        checked = parse_subscription(json.dumps(subscription), hosts=services.settings.push_hosts)
    except ValueError as exc:
        raise HTTPException(422, detail=str(exc)) from None
    async with services.pool.connection() as conn, conn.transaction():
        dropped = await escalation_sql.add_push_subscription(
            conn, user.id, json.dumps(checked, sort_keys=True), keep=MAX_PUSH_SUBSCRIPTIONS
        )
    return Subscribed(
        endpoint=checked["endpoint"], dropped=[subscription_endpoint(a) for a in dropped]
    )

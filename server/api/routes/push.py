"""Web Push: the key browsers subscribe with, and storing a carer's phone subscription."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from server.alerts.webpush import parse_subscription
from server.api.deps import CurrentUser, ServicesDep
from server.db import people

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["push"])


class PushKey(BaseModel):
    """What ``pushManager.subscribe({applicationServerKey})`` needs."""

    public_key: str


@router.get("/push/key")
async def push_key(services: ServicesDep) -> PushKey:
    """The server's VAPID public key, base64url."""
    return PushKey(public_key=services.push_public_key)


@router.post("/me/push-subscriptions", status_code=status.HTTP_201_CREATED)
async def subscribe(
    services: ServicesDep, user: CurrentUser, subscription: dict[str, Any]
) -> dict[str, str]:
    """Notify me on this browser first (the body is ``PushSubscription.toJSON()``)."""
    try:
        checked = parse_subscription(json.dumps(subscription))
    except ValueError as exc:
        raise HTTPException(422, detail=str(exc)) from None
    async with services.pool.connection() as conn:
        await people.add_first_channel(
            conn, user.id, "webpush", json.dumps(checked, sort_keys=True)
        )
    return {"endpoint": checked["endpoint"]}

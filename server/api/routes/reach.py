"""How I am reached: my channels (e-mail, SMS, voice call), quiet hours and time away."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from server.alerts.addresses import checked_address
from server.alerts.webpush import subscription_endpoint
from server.api.deps import CurrentUser, ServicesDep
from server.domain.contacts import Channel, QuietHours
from server.store import reach as reach_sql

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["how I am reached"])

_CHANNEL_WORDS = {"email": "e-mail", "sms": "text messages", "voice": "voice calls"}

# Longer than this, an away that was forgotten would keep a carer off every ladder.
_LONGEST_AWAY = timedelta(days=90)


class ChannelIn(BaseModel):
    """One way to reach me; a phone number may be typed as on a card (07400 123456)."""

    kind: Literal["email", "sms", "voice"]
    address: str = Field(min_length=1, max_length=320)


class ChannelOut(BaseModel):
    """One way I am reached, in the order tried. A browser's push subscription shows its service."""

    kind: str
    address: str
    editable: bool = Field(description="false for push subscriptions and webhooks")


class Quiet(BaseModel):
    """Quiet hours in the service's time zone; an end before the start runs over midnight."""

    start: time
    end: time


class ReachIn(BaseModel):
    """My channels, most preferred first (push subscriptions and webhooks stay, tried first),
    quiet hours (null: none) and the end of time away (null: not away)."""

    channels: list[ChannelIn] = Field(max_length=10)
    quiet_hours: Quiet | None = None
    away_until: datetime | None = None


class ReachOut(BaseModel):
    """How I am reached now."""

    channels: list[ChannelOut]
    quiet_hours: Quiet | None
    away_until: datetime | None
    away: bool = Field(description="whether I am away now: urgent alerts skip me")
    timezone: str = Field(description="the zone quiet hours are in")
    offered: list[Literal["email", "sms", "voice"]] = Field(
        description="the kinds of channel this service can send, for the form to offer"
    )


def _offered(services: ServicesDep) -> list[Literal["email", "sms", "voice"]]:
    # E-mail is always taken, as before: a mail server set up later sends to it.
    offered: list[Literal["email", "sms", "voice"]] = ["email"]
    if services.settings.sms_url is not None:
        offered.append("sms")
    if services.settings.voice_url is not None:
        offered.append("voice")
    return offered


def _shown(channel: Channel) -> ChannelOut:
    if channel.kind == "webpush":
        # The subscription is a browser's secret; its push service is enough to recognise it.
        host = urlsplit(subscription_endpoint(channel.address)).hostname or "a push service"
        return ChannelOut(kind="webpush", address=f"a browser, through {host}", editable=False)
    return ChannelOut(
        kind=channel.kind, address=channel.address, editable=channel.kind != "webhook"
    )


async def _reach(services: ServicesDep, user_id: int) -> ReachOut:
    async with services.pool.connection() as conn:
        found = await reach_sql.reach_of(conn, user_id)
    now = datetime.now(UTC)
    return ReachOut(
        channels=[_shown(c) for c in found.channels],
        quiet_hours=Quiet(start=found.quiet.start, end=found.quiet.end) if found.quiet else None,
        away_until=found.away_until,
        away=found.away_until is not None and found.away_until > now,
        timezone=services.settings.service_timezone,
        offered=_offered(services),
    )


@router.get("/me/reach")
async def my_reach(services: ServicesDep, user: CurrentUser) -> ReachOut:
    """My channels in the order they are tried, my quiet hours and whether I am away."""
    return await _reach(services, user.id)


@router.put("/me/reach", responses={422: {"description": "a channel, quiet hours or away refused"}})
async def set_my_reach(services: ServicesDep, user: CurrentUser, wanted: ReachIn) -> ReachOut:
    """Set how I am reached.

    Quiet hours hold back what can wait (the advisories' morning digest waits
    until they end); an urgent alert or an emergency is never held. While
    away, I am left off the carers' ladder: the next carer is called instead.
    """
    region = services.settings.phone_region
    channels: list[Channel] = []
    offered = _offered(services)
    for wanted_channel in wanted.channels:
        words = _CHANNEL_WORDS[wanted_channel.kind]
        if wanted_channel.kind not in offered:
            raise HTTPException(
                422,
                detail=f"this service does not send {words} yet: choose another way, "
                "or ask your administrator to set it up",
            )
        try:
            address = checked_address(wanted_channel.kind, wanted_channel.address, region=region)
        except ValueError as exc:
            # Named, so a form with a box for each way says which box is wrong.
            raise HTTPException(422, detail=f"{words}: {exc}") from None
        channel = Channel(wanted_channel.kind, address)
        if channel not in channels:
            channels.append(channel)
    quiet = None
    if wanted.quiet_hours is not None:
        if wanted.quiet_hours.start == wanted.quiet_hours.end:
            raise HTTPException(422, detail="quiet hours must end at another time than they start")
        quiet = QuietHours(wanted.quiet_hours.start, wanted.quiet_hours.end)
    away_until = wanted.away_until
    if away_until is not None:
        if away_until.tzinfo is None:
            raise HTTPException(422, detail="say which time zone 'away until' is in (e.g. Z)")
        now = datetime.now(UTC)
        if away_until <= now:
            raise HTTPException(422, detail="'away until' has passed: choose a later time")
        if away_until > now + _LONGEST_AWAY:
            raise HTTPException(422, detail="you can be away for up to 90 days at a time")
    async with services.pool.connection() as conn, conn.transaction():
        await reach_sql.set_reach(
            conn, user.id, channels=channels, quiet=quiet, away_until=away_until
        )
    return await _reach(services, user.id)

"""Signing out ends a bearer token at once, and the live streams opened with it."""

from __future__ import annotations

import asyncio

import httpx

from server.runtime import CarewatchServer
from tests.server.helpers import token


async def test_a_signed_out_token_stops_working_and_its_stream_ends(
    server: CarewatchServer,
) -> None:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as client:
        mine, other = await token(client), await token(client)
        client.headers["Authorization"] = f"Bearer {mine}"
        assert (await client.get("/api/v1/me")).status_code == 200
        lines: list[str] = []
        opened = asyncio.Event()

        async def listen() -> None:
            async with client.stream("GET", "/api/v1/alerts/stream") as live:
                async for line in live.aiter_lines():
                    lines.append(line)
                    opened.set()

        stream = asyncio.create_task(listen())
        await asyncio.wait_for(opened.wait(), 5)
        assert (await client.delete("/api/v1/auth/session")).status_code == 204
        async with asyncio.timeout(5):
            await stream  # the server ended it
        assert "event: signed_out" in lines
        assert (await client.get("/api/v1/me")).status_code == 401
        # Another token of the same person is untouched.
        client.headers["Authorization"] = f"Bearer {other}"
        assert (await client.get("/api/v1/me")).status_code == 200

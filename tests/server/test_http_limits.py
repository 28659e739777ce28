"""One client cannot hold the server's memory with a huge body or a connection with slow headers."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import httpx

from tests.server.helpers import running_server


async def test_huge_bodies_are_refused_and_slow_headers_cut_off(
    database_url: str, mqtt_url: str
) -> None:
    async with (
        running_server(database_url, mqtt_url, http_header_timeout_s=1.0) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=10) as client,
    ):
        address = urlsplit(server.http_url)
        assert address.hostname is not None
        assert address.port is not None
        host, port = address.hostname, address.port

        async def answer_to(head: bytes, body: bytes = b"") -> bytes:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(head + body)
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), 5)
            writer.close()
            return status

        # 200 MB declared and not sent: refused before a byte of it is read.
        declared = await answer_to(
            b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 200000000\r\n\r\n"
        )
        assert declared.startswith(b"HTTP/1.1 413"), declared

        # Chunked, with no length: refused once it passes the limit.
        chunk = b"y" * 100_000
        chunked = await answer_to(
            b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n",
            (f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n") * 12,
        )
        assert chunked.startswith(b"HTTP/1.1 413"), chunked

        # Headers one byte a while: the connection is closed, not held.
        reader, writer = await asyncio.open_connection(host, port)
        started = time.monotonic()
        closed = False
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
            writer.write(bytes([byte]))
            await writer.drain()
            try:
                if await asyncio.wait_for(reader.read(1), 0.2) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except ConnectionError:
                closed = True
                break
        writer.close()
        assert closed, "a client sending headers slowly was never cut off"
        assert time.monotonic() - started < 5

        # Everyone else is served as before.
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200

"""The TCP shell around the DC-09 codec: one frame to one receiver path, its answer back."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable

from server.domain.arc import ReceiverPath

__all__ = ["Exchange", "exchange"]

# How the forwarder talks to a receiver; tests of the forwarder's logic may pass another.
Exchange = Callable[[ReceiverPath, bytes, float], Awaitable[bytes]]


async def exchange(path: ReceiverPath, frame: bytes, timeout_s: float) -> bytes:
    """Connect, send ``frame``, return the receiver's answer (up to its CR), within ``timeout_s``.

    A connection per message, as DC-09 allows over TCP: an idle connection an
    ARC's firewall dropped would otherwise cost the first alarm after it.
    Raises OSError, TimeoutError or asyncio.IncompleteReadError.
    """
    async with asyncio.timeout(timeout_s):
        reader, writer = await asyncio.open_connection(path.host, path.port)
        try:
            # The frame is one small write; do not let Nagle hold it back.
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            writer.write(frame)
            await writer.drain()
            return await reader.readuntil(b"\r")
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

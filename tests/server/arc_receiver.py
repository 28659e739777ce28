"""A real DC-09 receiver for tests: Home Assistant's pysiaalarm listening on a local TCP port."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass, field

from pysiaalarm.account import SIAAccount
from pysiaalarm.aio.client import SIAClient
from pysiaalarm.event import SIAEvent


def free_port() -> int:
    """A TCP port nothing listens on now (and, for a "down" receiver, nothing will)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Heard:
    """One event the receiver acknowledged, as pysiaalarm read it, and when."""

    account: str
    code: str
    zone: str | None
    user: str | None
    encrypted: bool
    at: float = field(default_factory=time.perf_counter)


class ArcReceiver:
    """``async with ArcReceiver(account, key=...)``; ``stop()``/``start()`` to take it down and up."""

    def __init__(
        self,
        account: str,
        *,
        key: str | None = None,
        port: int | None = None,
        timeband: tuple[int, int] = (40, 20),
    ) -> None:
        self.account = account
        self.key = key
        # Seconds before and after its own clock that the receiver accepts a timestamp in.
        self.timeband = timeband
        self.port = port or free_port()
        self.heard: list[Heard] = []
        self.arrived = asyncio.Event()
        self._client: SIAClient | None = None

    async def _on_event(self, event: SIAEvent) -> None:
        self.heard.append(
            Heard(
                account=str(event.account),
                code=str(event.code),
                zone=event.ri,
                user=event.id,
                encrypted=bool(event.encrypted),
            )
        )
        self.arrived.set()

    def events(self, code: str | None = None) -> list[Heard]:
        """What was heard, only ``code`` if given (link tests arrive as RP)."""
        return [h for h in self.heard if code is None or h.code == code]

    async def start(self) -> None:
        # SIAClient picks its TCP subclass in __new__; mypy sees only the abstract base.
        self._client = SIAClient(  # type: ignore[abstract]
            "127.0.0.1",
            self.port,
            [SIAAccount(self.account, self.key, allowed_timeband=self.timeband)],
            self._on_event,
        )
        await self._client.async_start(reuse_address=True)

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.async_stop()
            self._client = None

    async def __aenter__(self) -> ArcReceiver:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

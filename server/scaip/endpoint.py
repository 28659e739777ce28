"""The SIP endpoint social-alarm units send SCAIP to: UDP and TCP on one port.

aiosipua reads and writes the messages and holds the sockets; this shell
takes each MESSAGE to ``handler`` (which stores what it carries before it
returns), answers with the handler's final response, and then sends the
handler's SCAIP answer (``<mrs>``) to the unit in a MESSAGE of its own, as
SS 91100 has it (RFC 3428: a 2xx to a MESSAGE carries no body). A unit's
retransmission of a MESSAGE being handled is ignored, and one already
answered is answered again with the same response, never handled twice.
OPTIONS (a unit's or a proxy's keep-alive) is answered 200; any other
method 405.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from aiosipua import SipRequest, SipResponse, SipTransport, TcpSipTransport, UdpSipTransport

from server.scaip.sip import Answered, answer, message_to, retransmit_delays, transaction_key

__all__ = ["Inbound", "Reply", "ScaipEndpoint"]

log = logging.getLogger(__name__)

Transport = Literal["udp", "tcp"]


@dataclass(slots=True, frozen=True)
class Inbound:
    """A MESSAGE as the endpoint received it."""

    body: bytes
    content_type: str
    transport: Transport
    source: tuple[str, int]
    received_at: datetime

    @property
    def address(self) -> str:
        """Where it came from, as ``udp:HOST:PORT``."""
        return f"{self.transport}:{self.source[0]}:{self.source[1]}"


@dataclass(slots=True, frozen=True)
class Reply:
    """The handler's decision: the SIP final response, and the SCAIP answer to send after it."""

    status: int
    reason: str
    # For an error: what was wrong, in a Warning header (RFC 3261 §20.43).
    warning: str | None = None
    scaip: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Inbound], Awaitable[Reply]]


class _UdpProtocol(asyncio.DatagramProtocol):
    """Hands each datagram to aiosipua's parser and dispatcher."""

    def __init__(self, owner: _UdpTransport) -> None:
        self._owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self._owner._dispatch(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        log.warning("SCAIP UDP socket: %s", exc)


class _UdpTransport(UdpSipTransport):
    """aiosipua's UDP transport, bound without its protocol's type assertion.

    aiosipua 0.7.1 asserts that the loop's datagram transport is an
    ``asyncio.DatagramTransport``, which Python 3.11's selector transport is
    not (it became one in 3.12); the rest of aiosipua's transport is used as is.
    """

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _UdpProtocol(self), local_addr=self.local_addr
        )
        self._udp_transport = transport


class ScaipEndpoint:
    """Listens on ``host:port`` over UDP and TCP (``port`` 0: one free port for both)."""

    def __init__(
        self,
        handler: Handler,
        *,
        host: str = "0.0.0.0",  # noqa: S104 (units call in from their homes)
        port: int = 5060,
    ) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._udp: UdpSipTransport | None = None
        self._tcp: TcpSipTransport | None = None
        self._answered = Answered()
        self._tasks: set[asyncio.Task[None]] = set()
        # Our MESSAGEs (SCAIP answers) waiting for the unit's final response, by branch.
        self._awaiting: dict[str, asyncio.Event] = {}
        self.handled = 0

    @property
    def port(self) -> int:
        """The port both transports listen on."""
        return self._port

    async def start(self) -> None:
        """Bind UDP, then TCP on the same port (for port 0, a port free for both)."""
        # A free UDP port may be taken for TCP: then another one, a few times.
        for attempt in range(1 if self._port else 20):
            udp = _UdpTransport(local_addr=(self._host, self._port))
            udp.on_message = lambda message, source: self._received("udp", message, source)
            await udp.start()
            bound = udp._udp_transport
            assert bound is not None
            port = int(bound.get_extra_info("sockname")[1])
            udp.local_addr = (self._host, port)
            tcp = TcpSipTransport(local_addr=(self._host, port))
            tcp.on_message = lambda message, source: self._received("tcp", message, source)
            try:
                await tcp.start()
            except OSError:
                await udp.stop()
                if self._port or attempt == 19:
                    raise
                continue
            self._udp, self._tcp, self._port = udp, tcp, port
            break
        log.info("SCAIP endpoint listening on %s:%d (UDP and TCP)", self._host, self._port)

    async def stop(self) -> None:
        """Stop listening; what is being handled is finished or cancelled."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for transport in (self._tcp, self._udp):
            if transport is not None:
                await transport.stop()

    async def __aenter__(self) -> ScaipEndpoint:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _transport(self, name: Transport) -> SipTransport:
        transport = self._udp if name == "udp" else self._tcp
        assert transport is not None, "endpoint not started"
        return transport

    def _received(
        self, name: Transport, message: SipRequest | SipResponse, source: tuple[str, int]
    ) -> None:
        if isinstance(message, SipResponse):
            self._response(message)
            return
        method = message.method.upper()
        if method == "ACK":
            return
        if method == "OPTIONS":
            self._reply(
                name,
                answer(
                    message, 200, "OK", headers={"Allow": "MESSAGE, OPTIONS", "Accept": _ACCEPT}
                ),
                source,
            )
            return
        if method != "MESSAGE":
            self._reply(
                name,
                answer(message, 405, "Method Not Allowed", headers={"Allow": "MESSAGE, OPTIONS"}),
                source,
            )
            return
        key = transaction_key(message)
        if key is None:
            self._reply(name, answer(message, 400, "Missing Via Branch"), source)
            return
        known, final = self._answered.seen(key, time.monotonic())
        if known:
            # The unit did not hear our answer (UDP) and sent it again.
            if final is not None:
                self._reply(name, final, source)
            return
        inbound = Inbound(
            body=message.body,
            content_type=message.content_type or "",
            transport=name,
            source=source,
            received_at=datetime.now(UTC),
        )
        self._spawn(self._handle(name, message, key, inbound))

    async def _handle(
        self, name: Transport, message: SipRequest, key: tuple[str, str, str], inbound: Inbound
    ) -> None:
        try:
            reply = await self._handler(inbound)
        except Exception:
            log.exception("handling a SCAIP message from %s failed", inbound.address)
            reply = Reply(500, "Server Internal Error", warning="the message could not be handled")
        headers = dict(reply.headers)
        if reply.warning is not None:
            text = reply.warning.replace('"', "'").replace("\r", " ").replace("\n", " ")
            headers["Warning"] = f'399 carewatch "{text[:200]}"'
        response = answer(message, reply.status, reply.reason, headers=headers)
        self._reply(name, response, inbound.source)
        if reply.status >= 500:
            # Not taken: the unit's retransmission (or its retry) is handled anew.
            self._answered.forget(key)
        else:
            self._answered.done(key, response, time.monotonic())
        self.handled += 1
        if reply.scaip is not None:
            await self._send_scaip(name, message, reply.scaip, inbound.source)

    def _reply(self, name: Transport, response: SipResponse, source: tuple[str, int]) -> None:
        """Over TCP on the unit's own connection (its Via names its listening port, which
        is seldom the connection's); over UDP where the Via says (RFC 3261 §18.2.2)."""
        try:
            if name == "tcp":
                self._transport(name).send(response, source)
            else:
                self._transport(name).send_reply(response)
        except (RuntimeError, OSError, ValueError) as exc:
            log.warning("could not answer %s:%d over %s (%s)", *source, name, exc)

    async def _send_scaip(
        self, name: Transport, request: SipRequest, body: bytes, destination: tuple[str, int]
    ) -> None:
        """The SCAIP answer in a MESSAGE to the unit: again and again over UDP until answered."""
        transport = self._transport(name)
        local = (self._advertised_host(destination), self._port)
        message = message_to(request, body, transport=name, local=local)
        branch = message.via[0].branch or ""
        heard = asyncio.Event()
        self._awaiting[branch] = heard
        try:
            transport.send(message, destination)
            if name == "tcp":
                return
            for delay in retransmit_delays():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await heard.wait()
                if heard.is_set():
                    return
                transport.send(message, destination)
            log.info("unit at %s:%d did not answer its SCAIP response", *destination)
        except (RuntimeError, OSError) as exc:
            log.warning("could not send the SCAIP response to %s:%d (%s)", *destination, exc)
        finally:
            self._awaiting.pop(branch, None)

    def _response(self, response: SipResponse) -> None:
        vias = response.via
        if not vias or response.status_code < 200:
            return
        heard = self._awaiting.get(vias[0].branch or "")
        if heard is not None:
            heard.set()

    def _advertised_host(self, destination: tuple[str, int]) -> str:
        if self._host not in ("0.0.0.0", "::", ""):  # noqa: S104
            return self._host
        # Bound to every address: the one the unit reaches us on is loopback for a
        # local unit, else the host's own (what a reply from us carries as its source).
        return "127.0.0.1" if destination[0].startswith("127.") else _own_address(destination)


_ACCEPT = "application/scaip+xml, application/xml, text/xml"


def _own_address(destination: tuple[str, int]) -> str:
    """The local address the system would use towards ``destination`` (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(destination)
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"

"""Real receivers for notifications: an SMTP server (aiosmtpd), an HTTP webhook endpoint, and
an endpoint that accepts connections and never answers (a hung push service)."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from server.embedded._broker import free_port


@dataclass
class Mailbox:
    """Every message the SMTP server accepted: (recipients, subject, body)."""

    messages: list[tuple[list[str], str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        part = message.get_body(preferencelist=("plain", "html"))
        body = part.get_content() if part is not None else ""
        self.messages.append((list(envelope.rcpt_tos), str(message["Subject"]), body))
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[tuple[str, Mailbox]]:
    """An SMTP server on localhost; yields its apprise URL and the mailbox."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"mailto://127.0.0.1:{port}?from=carewatch@example.org&mode=insecure", mailbox
    finally:
        controller.stop()


@dataclass
class Hooks:
    """Every webhook call received: (path, JSON body)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Bodies that are not JSON (Web Push payloads are encrypted), with their headers.
    raw: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [body for p, body in self.calls if p == path]


@contextmanager
def webhook_server() -> Iterator[tuple[str, Hooks]]:
    """An HTTP server that records POSTed JSON; yields its base URL and the record."""
    hooks = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            data = self.rfile.read(length)
            with hooks.lock:
                try:
                    hooks.calls.append((self.path, json.loads(data or b"{}")))
                except ValueError:
                    hooks.raw.append((self.path, data, dict(self.headers.items())))
            self.send_response(201 if self.path.startswith("/push") else 200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hooks
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def answering_server(
    status: int, *, body: bytes = b"", headers: dict[str, str] | None = None
) -> Iterator[tuple[str, list[str]]]:
    """An HTTP server that answers every request with ``status``, ``body`` and ``headers``.

    Yields its base URL and the path of each request it was sent: an internal
    service with something to say, or one that redirects elsewhere.
    """
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            asked.append(self.path)
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def silent_server() -> Iterator[tuple[str, list[float]]]:
    """A TCP endpoint that accepts every connection and never answers.

    Yields its base URL and the monotonic time of each connection it took.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    accepted: list[float] = []
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)
            accepted.append(time.monotonic())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()

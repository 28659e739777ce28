"""A real ``carewatch server`` process, to kill with SIGKILL and start again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from server.embedded._broker import free_port
from tests.server.helpers import ADMIN_PASSWORD


class ServerProcess:
    """``carewatch server`` on the given database and broker, with a fixed MQTT session id."""

    def __init__(
        self,
        database_url: str,
        mqtt_url: str,
        *,
        client_id: str,
        log: Path | None = None,
        **env: str,
    ) -> None:
        self.port = free_port()
        # Where its output goes (None: nowhere).
        self._log = log
        self._env = {
            **os.environ,
            "CAREWATCH_DATABASE_URL": database_url,
            "CAREWATCH_MQTT_URL": mqtt_url,
            "CAREWATCH_HTTP_PORT": str(self.port),
            "CAREWATCH_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "CAREWATCH_MQTT_CLIENT_ID": client_id,
            **env,
        }
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, *, within: float = 60.0) -> None:
        """Start and wait until /readyz answers."""
        output = self._log.open("ab") if self._log is not None else subprocess.DEVNULL
        self._process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "server"],
            env=self._env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + within
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"carewatch server exited with {self._process.returncode}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("carewatch server did not become ready")
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        """The process id, once started."""
        assert self._process is not None
        return self._process.pid

    def kill(self) -> None:
        """SIGKILL: no chance to flush or say goodbye."""
        assert self._process is not None
        self._process.send_signal(signal.SIGKILL)
        self._process.wait(10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(20)
        except subprocess.TimeoutExpired:
            self._process.kill()

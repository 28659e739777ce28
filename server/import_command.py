"""``carewatch hub import FILE``: the command around server.bulk_provisioning, with progress on stderr."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from server.bulk_provisioning import (
    ImportedHub,
    import_homes,
    open_credentials_file,
    write_credentials,
)
from server.hub_import import ImportRefused, Problem, check_homes, read_homes_csv

if TYPE_CHECKING:
    from server.settings import ServerSettings
    from server.store.pool import DbConn

__all__ = ["ProgressLines", "run_hub_import"]

Database = Callable[[], AbstractAsyncContextManager["DbConn"]]
# Enough to fix a file by; the count says how many more there are.
_PROBLEMS_SHOWN = 50


class ProgressLines:
    """Plain progress lines, at most one every ``every_s`` per stage, and each stage's last.

    >>> clock = iter([0.0, 0.5, 3.0, 3.1]).__next__
    >>> lines = []
    >>> progress = ProgressLines(lines.append, clock=clock, every_s=2.0)
    >>> for done in (100, 200, 300, 400): progress("writing", done, 400)
    >>> lines
    ['writing: 100/400 hubs (25 %)', 'writing: 300/400 hubs (75 %)', 'writing: 400/400 hubs (100 %)']
    """

    def __init__(
        self,
        say: Callable[[str], object],
        *,
        clock: Callable[[], float] = time.monotonic,
        every_s: float = 2.0,
    ) -> None:
        self._say = say
        self._clock = clock
        self._every_s = every_s
        self._last: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self._clock()
        last = self._last.get(stage)
        if done < total and last is not None and now - last < self._every_s:
            return
        self._last[stage] = now
        self._say(f"{stage}: {done}/{total} hubs ({100 * done // max(total, 1)} %)")


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _show_problems(problems: Sequence[Problem]) -> None:
    for problem in problems[:_PROBLEMS_SHOWN]:
        _stderr(f"carewatch: {problem}")
    if len(problems) > _PROBLEMS_SHOWN:
        _stderr(f"carewatch: … and {len(problems) - _PROBLEMS_SHOWN} more problems")


async def run_hub_import(
    settings: ServerSettings, database: Database, file: Path, out: Path, chunk: int
) -> int:
    """Import the homes in ``file``, credentials to ``out``; 0, 1 (refused) or 2 (unusable input)."""
    if chunk < 1:
        _stderr("carewatch: --chunk must be at least 1")
        return 2
    try:
        with file.open(newline="", encoding="utf-8") as lines:
            homes, problems = read_homes_csv(lines)
    except (OSError, UnicodeDecodeError) as exc:
        _stderr(f"carewatch: cannot read {file}: {exc}; give a UTF-8 CSV file")
        return 2
    # The file alone, before the database is opened; conflicts with it are found next.
    problems += check_homes(homes, server_names=settings.server_broker_names())
    if problems:
        _show_problems(problems)
        _stderr(f"carewatch: {len(problems)} problem(s) in {file}; nothing was imported")
        return 2
    try:
        credentials = open_credentials_file(out)
    except FileExistsError:
        _stderr(f"carewatch: {out} exists; give another --out (it is never overwritten)")
        return 2
    except OSError as exc:
        _stderr(f"carewatch: cannot create {out}: {exc}")
        return 2

    def keep(created: Sequence[ImportedHub], into: TextIO = credentials) -> None:
        write_credentials(into, created)
        into.close()

    started = time.monotonic()
    try:
        async with database() as conn:
            report = await import_homes(
                conn,
                homes,
                credentials_dir=settings.broker_credentials_dir,
                broker_url=settings.broker_public_url,
                server_names=settings.server_broker_names(),
                keep_credentials=keep,
                chunk_size=chunk,
                progress=ProgressLines(_stderr),
            )
    except ImportRefused as exc:
        _show_problems(exc.problems)
        _stderr(f"carewatch: {exc}")
        return 1
    finally:
        if not credentials.closed:
            # Refused before any password was made: the empty file would only confuse.
            credentials.close()
            os.unlink(out)
    took = time.monotonic() - started
    print(f"Imported {len(report.created)} hubs in {took:.1f} s; credentials in {out} (mode 0600).")
    if report.skipped:
        where = ", ".join(home.where for home in report.skipped[:10])
        more = f" and {len(report.skipped) - 10} more" if len(report.skipped) > 10 else ""
        print(
            f"Skipped {len(report.skipped)} hubs already provisioned for the same resident "
            f"({where}{more})."
        )
    if report.broker_account_written:
        print(
            f"Broker accounts written to {settings.broker_credentials_dir}/passwords; "
            "reload the broker: docker compose kill -s HUP mosquitto"
        )
    return 0

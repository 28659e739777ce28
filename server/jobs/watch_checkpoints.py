"""Asking :class:`HomeWatch` for one home's checkpoint at a time.

``HomeWatch.take_checkpoints()`` serialises every changed home in one call,
which at fleet scale holds the event loop (and so alarms) for seconds. The
keeper needs the changed homes' names first and their bytes one by one, so it
can yield between them and stop at its byte bound. HomeWatch has no such
calls yet and server/detect/ is being reworked elsewhere, so they are read
here from its own bookkeeping (mypy checks the names); they belong in
HomeWatch as ``changed_homes()`` and ``checkpoint(hub)`` once it is free to
change. The bytes are HomeState's own ``to_bytes()``: opaque here.
"""

from __future__ import annotations

from server.detect.watch import HomeWatch

__all__ = ["changed_homes", "checkpoint_of"]


def changed_homes(detector: HomeWatch) -> list[str]:
    """The homes whose state moved since last asked (they are no longer marked changed)."""
    changed, detector._changed = detector._changed, set()
    return list(changed)


def checkpoint_of(detector: HomeWatch, hub: str) -> bytes | None:
    """``hub``'s checkpoint now, or None when the detector no longer has the home."""
    home = detector._homes.get(hub)
    return None if home is None else home.to_bytes()

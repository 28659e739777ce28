"""A home's checkpoint as it is kept in PostgreSQL: compressed, the plain form still read.

Pure. A learned home's checkpoint is mostly a histogram of silences in which
three cells in four are zero, and a small MessagePack header: zlib (the
standard library's, level 6) takes the 17.0 KB of a home with two weeks
learned to 5.2 KB in about 0.31 ms, and back in 0.1 ms (level 1 would save
0.11 ms a home for 4 % more bytes, and bytes are what the keeper's bound counts). That is a third of the bytes
per home written a minute, read at a restart and kept on disk, for no
change to what the detectors remember. Rows saved before packing (plain
checkpoints, which begin with their own magic) are read as they are.

>>> plain = b"CWH1" + bytes(1000)
>>> packed = pack(plain)
>>> len(packed) < 40, unpack(packed) == plain, unpack(plain) == plain
(True, True, True)
>>> unpack(b"CWZ1 not zlib")
Traceback (most recent call last):
...
server.detect.home_state.CheckpointError: a packed checkpoint that does not unpack (Error -3 while decompressing data: incorrect header check)
"""

from __future__ import annotations

import zlib

from server.detect.home_state import CheckpointError

__all__ = ["pack", "unpack"]

_PACKED = b"CWZ1"


def pack(checkpoint: bytes) -> bytes:
    """``checkpoint`` in the form it is stored."""
    return _PACKED + zlib.compress(checkpoint)


def unpack(stored: bytes) -> bytes:
    """The checkpoint a stored row holds (packed or, from before packing, plain).

    A packed row that does not unpack raises :class:`CheckpointError`, as an
    unreadable checkpoint does: the home learns its routine again.
    """
    if stored[: len(_PACKED)] != _PACKED:
        return stored
    try:
        return zlib.decompress(stored[len(_PACKED) :])
    except zlib.error as exc:
        raise CheckpointError(f"a packed checkpoint that does not unpack ({exc})") from exc

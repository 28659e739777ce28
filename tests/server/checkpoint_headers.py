"""Reading and rewriting a home checkpoint's header in tests, in either of its forms.

Formats 1 to 4 begin ``CWH1`` with a JSON header, format 5 on ``CWH2`` with a
MessagePack one; the rest (the gap histogram) is the same. A test that makes an
older checkpoint out of today's writes the older form, the daily longest silences
as the lists of numbers those formats had.
"""

from __future__ import annotations

import json
import struct
from array import array
from typing import Any

import msgpack

__all__ = ["join", "split"]

_HEADER = struct.Struct(">4sI")


def split(checkpoint: bytes) -> tuple[dict[str, Any], bytes]:
    """The header (decoded) and what follows it."""
    magic, length = _HEADER.unpack_from(checkpoint)
    raw = checkpoint[_HEADER.size : _HEADER.size + length]
    header = msgpack.unpackb(raw) if magic == b"CWH2" else json.loads(raw)
    assert isinstance(header, dict)
    return header, checkpoint[_HEADER.size + length :]


def join(header: dict[str, Any], rest: bytes) -> bytes:
    """A checkpoint of ``header``'s format: JSON for formats up to 4 (or no ``v``), else MessagePack."""
    if header.get("v", 1) >= 5:
        packed: bytes = msgpack.packb(header)
        return _HEADER.pack(b"CWH2", len(packed)) + packed + rest
    older = dict(header)
    if isinstance(longest := older.get("longest"), dict):
        older["longest"] = {
            **longest,
            "today": _as_list(longest["today"]),
            "days": [[d, _as_list(cells)] for d, cells in longest["days"]],
        }
    encoded = json.dumps(older, separators=(",", ":")).encode()
    return _HEADER.pack(b"CWH1", len(encoded)) + encoded + rest


def _as_list(cells: bytes | list[float]) -> list[float]:
    if isinstance(cells, list):
        return cells
    return [round(m, 1) for m in array("f", cells)]

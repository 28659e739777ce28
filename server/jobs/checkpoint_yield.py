"""Whether a checkpoint chunk waits because ingest is behind.

Checkpoints and ingest share the event loop's CPU. While messages wait at
this process (ingest's backlog at or past ``behind_at``), serialising a chunk
of homes takes from ingest what it needs most, so the chunk is skipped. But
state never waits unsaved past ``max_unsaved_s``: once the home at the front
of the line has waited that long, chunks are saved, behind or not. A fleet
that is always behind still checkpoints, at the rate its homes reach the
ceiling (within the byte bound), and a restart never has more than that to
fold in again from the stored readings.

Pure: handed the backlog and the front's wait; the keeper asks before each chunk.

>>> policy = YieldToBacklog(behind_at=500, max_unsaved_s=1_800.0)
>>> chunk_waits(policy, backlog=20, waited_s=60.0)
False
>>> chunk_waits(policy, backlog=900, waited_s=60.0)
True
>>> chunk_waits(policy, backlog=900, waited_s=1_800.0)  # the ceiling: saved anyway
False
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["YieldToBacklog", "chunk_waits"]


@dataclass(slots=True, frozen=True)
class YieldToBacklog:
    """When ingest counts as behind, and the longest a changed home may stay unsaved for it.

    ``behind_at`` is in messages received and not yet through ingest (0: never
    yield). The default is a fifth of the broker's in-flight window (1,000
    in deploy/mosquitto): a server keeping up holds a few dozen at a time.
    """

    behind_at: int = 200
    max_unsaved_s: float = 30 * 60.0


def chunk_waits(policy: YieldToBacklog, *, backlog: int, waited_s: float) -> bool:
    """Whether the next chunk is skipped: ingest is behind and no home has waited too long.

    ``backlog``: messages waiting at this process now; ``waited_s``: how long
    the home at the front of the checkpoint line has waited unsaved.
    """
    if policy.behind_at <= 0 or backlog < policy.behind_at:
        return False
    return waited_s < policy.max_unsaved_s

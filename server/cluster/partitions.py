"""Which partition a hub is in, how many partitions a process should hold, and the subjects.

Pure: no sockets, no clock. The broker (NATS) puts each hub's readings and
status on a partition's subject with its ``partition()`` mapping, an FNV-1a
hash of the hub id; :func:`partition_of` computes the same number here, so a
process taking a partition over knows which homes to restore.

>>> partition_of("hub-0001", 4), partition_of("hub-0002", 4)
(0, 1)
>>> topic_of("carewatch.p.1.hub-0002.readings")
'carewatch/v1/hubs/hub-0002/readings'
>>> share = Share(partitions=12, members=3)
>>> share.target
4
>>> share.decide(held=frozenset({0, 1, 2, 3, 4, 5}))
Decision(release=(5, 4), take=0)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from edge.protocol import TOPIC_PREFIX, Channel

__all__ = [
    "ALARM_SUBJECTS",
    "PARTITION_PREFIX",
    "Decision",
    "Share",
    "has_nats_safe_id",
    "nats_mappings",
    "partition_of",
    "partition_subjects",
    "topic_of",
]

# Hubs' readings and status, each on its partition's subjects: carewatch.p.<n>.<hub>.<channel>.
PARTITION_PREFIX = "carewatch.p"
# Alarms are not partitioned: any live process raises any hub's alarm (each is
# stored once by its id), so an alarm never waits for a partition to move.
ALARM_SUBJECTS = f"{TOPIC_PREFIX.replace('/', '.')}.*.{Channel.ALARM.value}"

_FNV_OFFSET = 2166136261
_FNV_PRIME = 16777619
# The channels that carry a home's detector state forward, kept in order per hub.
_PARTITIONED = (Channel.READINGS, Channel.STATUS)


def partition_of(hub: str, partitions: int) -> int:
    """The partition of ``hub``: FNV-1a (32 bit) of its id, modulo ``partitions``, as NATS does."""
    digest = _FNV_OFFSET
    for byte in hub.encode():
        digest = ((digest ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return digest % partitions


def partition_subjects(partition: int) -> str:
    """The subjects of one partition's messages, for its consumer's filter."""
    return f"{PARTITION_PREFIX}.{partition}.>"


def topic_of(subject: str) -> str:
    """The hub's MQTT topic a partition's (or the alarms') subject came from."""
    # carewatch.p.<n>.<hub>.<channel> and carewatch.v1.hubs.<hub>.alarm alike.
    tokens = subject.split(".")
    if len(tokens) != 5 or tokens[0] != "carewatch":
        raise ValueError(f"{subject!r} is not a hub's subject; check the broker's mappings")
    return f"{TOPIC_PREFIX}/{tokens[3]}/{tokens[4]}"


def has_nats_safe_id(hub: str) -> bool:
    """Whether a hub id can travel through NATS: its MQTT gateway refuses '.' in a topic."""
    return "." not in hub


def nats_mappings(partitions: int) -> dict[str, str]:
    """The broker's subject mappings that put hubs' readings and status on partitions.

    Only hub → server channels are mapped: what the server sends to hubs
    (config, alarm confirmations) keeps its subject, so hubs' subscriptions match.
    """
    base = TOPIC_PREFIX.replace("/", ".")
    return {
        f"{base}.*.{channel.value}": (
            f"{PARTITION_PREFIX}.{{{{partition({partitions},1)}}}}.{{{{wildcard(1)}}}}.{channel.value}"
        )
        for channel in _PARTITIONED
    }


@dataclass(slots=True, frozen=True)
class Decision:
    """What one process does this round: partitions to let go, how many more to try to take."""

    release: tuple[int, ...]
    take: int


@dataclass(slots=True, frozen=True)
class Share:
    """A fair share of ``partitions`` among ``members`` live processes."""

    partitions: int
    members: int

    @property
    def target(self) -> int:
        """The most partitions one process should hold (rounded up: every one is held)."""
        return -(-self.partitions // max(1, self.members))

    def decide(self, *, held: frozenset[int]) -> Decision:
        """Let go of what is past the share (highest first), or ask for what is missing."""
        extra = len(held) - self.target
        if extra > 0:
            return Decision(release=tuple(sorted(held, reverse=True)[:extra]), take=0)
        return Decision(release=(), take=self.target - len(held))

    def candidates(self, *, free: Iterable[int], rank: int) -> list[int]:
        """Free partitions in the order this process tries them: each starts elsewhere,
        so that processes taking at once rarely race for the same lock."""
        offset = (rank * self.target) % max(1, self.partitions)
        return sorted(free, key=lambda p: (p - offset) % self.partitions)

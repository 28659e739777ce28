"""The partition plan: the broker's hash, fair shares, and subjects back to topics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.cluster.partitions import (
    Share,
    has_nats_safe_id,
    nats_mappings,
    partition_of,
    partition_subjects,
    topic_of,
)

ROOT = Path(__file__).resolve().parents[2]


def test_hubs_spread_over_the_partitions_about_evenly() -> None:
    counts = [0] * 12
    for n in range(12_000):
        counts[partition_of(f"hub-{n:05d}", 12)] += 1
    assert min(counts) > 850
    assert max(counts) < 1150


def test_the_hash_is_fnv1a_as_nats_computes_it() -> None:
    # Known FNV-1a 32-bit values: "" is the offset basis, "a" is 0xe40c292c.
    assert partition_of("", 2**31) == 2166136261 % 2**31
    assert partition_of("a", 2**32 - 1) == 0xE40C292C % (2**32 - 1)
    # What nats-server 2.9's partition(4,1) gave for these hubs (the NATS check in the slow test).
    assert [partition_of(h, 4) for h in ("hub-0001", "hub-0002", "hub-0003", "hub_x")] == [
        0,
        1,
        2,
        3,
    ]


@pytest.mark.parametrize(
    ("partitions", "members", "held", "release", "take"),
    [
        (12, 1, set(), (), 12),
        (12, 3, set(range(12)), (11, 10, 9, 8, 7, 6, 5, 4), 0),
        (12, 3, {0, 1, 2, 3}, (), 0),
        # One of three died: each survivor asks for two more.
        (12, 2, {0, 1, 2, 3}, (), 2),
        # Uneven: every partition is wanted by someone (3 shares of 4 cover 10).
        (10, 3, set(), (), 4),
        # A member counted before its first lock: never below one.
        (12, 0, set(), (), 12),
    ],
)
def test_a_fair_share_lets_go_of_the_extra_and_asks_for_the_missing(
    partitions: int, members: int, held: set[int], release: tuple[int, ...], take: int
) -> None:
    decision = Share(partitions=partitions, members=members).decide(held=frozenset(held))
    assert decision.release == release
    assert decision.take == take


def test_members_look_for_free_partitions_from_different_places() -> None:
    share = Share(partitions=12, members=3)
    first = share.candidates(free=range(12), rank=0)
    second = share.candidates(free=range(12), rank=1)
    assert sorted(first) == sorted(second) == list(range(12))
    assert first[0] != second[0]
    assert share.candidates(free=[7, 2], rank=0) == [2, 7]


def test_subjects_turn_back_into_the_hubs_topics() -> None:
    assert topic_of("carewatch.p.3.hub-7.status") == "carewatch/v1/hubs/hub-7/status"
    assert topic_of("carewatch.v1.hubs.hub-7.alarm") == "carewatch/v1/hubs/hub-7/alarm"
    assert partition_subjects(3) == "carewatch.p.3.>"
    with pytest.raises(ValueError, match="mappings"):
        topic_of("elsewhere.p.3.hub-7")


def test_hub_ids_with_a_dot_cannot_travel_through_nats() -> None:
    assert has_nats_safe_id("hub-0001")
    assert not has_nats_safe_id("hub.0001")


def test_only_what_hubs_send_the_server_is_mapped() -> None:
    mappings = nats_mappings(12)
    assert set(mappings) == {"carewatch.v1.hubs.*.readings", "carewatch.v1.hubs.*.status"}
    assert all("{{partition(12,1)}}" in target for target in mappings.values())


def test_the_shipped_nats_config_has_the_code_s_mappings() -> None:
    config = (ROOT / "deploy" / "nats" / "carewatch.conf").read_text()
    shipped = dict(re.findall(r'^\s*"(carewatch\.v1[^"]+)":\s*"([^"]+)"', config, re.MULTILINE))
    assert shipped == nats_mappings(12)

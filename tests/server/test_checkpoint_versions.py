"""Checkpoints of every format this server has written restore, and the home goes on as before.

``data/home_checkpoint_v1.bin`` was written by the code before the detectors had a
checkpoint section each (format 1: every field flat, one ``raised`` for both
silences), at the end of :func:`checkpoint_life.before`; ``.json`` is every finding
that code made after restoring it and living :func:`checkpoint_life.after`.
``home_checkpoint_v2`` the same from the code of format 2 (a section each for the cold
home, the front door, night toilets, batteries, coverage and the mornings; the rest flat),
``home_checkpoint_v3`` from format 3 (sections for the sensors, meals, the decline and the
day profile too; the bed and chair pads and the stirring after an alert still flat), its
life with the chair pad and a stirring after the alert that the earlier ones lacked;
``home_checkpoint_v4`` from format 4, the last with a JSON header (every section, the
daily longest silences as lists of numbers rounded to 0.1 min).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest

from server.detect.day_profile import MEASURES
from server.detect.home_state import CheckpointError, HomeState
from tests.server.checkpoint_headers import join, split
from tests.server.checkpoint_life import HUB, after, as_json, before, new_watch

_DATA = Path(__file__).parent / "data"
_V1 = _DATA / "home_checkpoint_v1.bin"
_V2 = _DATA / "home_checkpoint_v2.bin"
_V3 = _DATA / "home_checkpoint_v3.bin"
_V4 = _DATA / "home_checkpoint_v4.bin"
_NOW = 5


def test_a_version_1_checkpoint_restores_and_the_home_goes_on_exactly_as_before() -> None:
    watch = new_watch()
    watch.restore(HUB, _V1.read_bytes())
    home = watch._homes[HUB]
    # Every section came back: the silence raised, the door's feedback, the nights.
    assert home.no_movement_raised
    assert not home.not_up_raised
    assert home.batteries.low == {"bathroom-pir"}
    assert home.coverage.told
    assert list(home.toilets.counts) == [2] * 14 + [0]
    assert home.door.slack == 1.0
    assert home.cold.since == {}
    expected = json.loads(_V1.with_suffix(".json").read_text(encoding="utf-8"))
    assert as_json(after(watch)) == expected


@pytest.mark.parametrize("fixture", [_V1, _V2, _V3, _V4], ids=["v1", "v2", "v3", "v4"])
def test_an_older_checkpoint_restores_its_flat_fields_to_sections_and_goes_on_as_before(
    fixture: Path,
) -> None:
    watch = new_watch()
    watch.restore(HUB, fixture.read_bytes())
    home = watch._homes[HUB]
    sensors = home.sensors
    # The sensors' section came from the flat fields: each one heard, the movements counted.
    assert set(sensors.seen) >= {"kitchen-pir", "bathroom-pir", "lounge-temp"}
    assert sensors.environment == {"lounge-temp": True}
    assert sensors.movements > 2000
    assert sensors.span["kitchen-pir"] > 0
    # Meals at 12:00 and 18:00, and a day's movements each day lived.
    assert len(home.meals.lunch_times) == len(home.meals.dinner_times) == 14
    assert set(home.meals.seen_on) == {"lunch", "dinner"}
    assert len(home.decline.day_counts) == 14
    # The day profile's days (the kitchen at 08, 12 and 18), and today's counts by name:
    # the last day so far only the lounge at 10:00, not yet to bed.
    assert len(home.profile.days) == 14
    assert home.profile.days[0][MEASURES.index("kitchen_visits")] == 3
    assert home.profile.today.kitchen_visits == 0
    assert math.isnan(home.profile.today.bed_time)
    expected = json.loads(fixture.with_suffix(".json").read_text(encoding="utf-8"))
    assert as_json(after(watch)) == expected


def test_a_version_3_checkpoint_restores_to_the_state_the_same_life_reaches_today() -> None:
    header, _ = split(_V3.read_bytes())
    assert header["v"] == 3
    assert not {"pads", "stirring"} & set(header)  # flat in format 3
    assert {"in_bed", "bed_stay", "chair_pulsing", "stirred_at"} <= set(header)
    watch = new_watch()
    watch.restore(HUB, _V3.read_bytes())
    home = watch._homes[HUB]
    # The pads: off the bed since 07:00, and a chair pad learned to pulse whose last press
    # still counts; after the alert in the chair, one blip in the hall.
    assert home.pads.has_bed_pad
    assert not home.pads.in_bed
    assert not home.pads.bed_stay
    assert home.pads.bed_left == home.pads.in_bed_at == datetime(2026, 11, 16, 7, 0, tzinfo=UTC)
    assert home.pads.bed_pressed == datetime(2026, 11, 15, 22, 9, tzinfo=UTC)
    assert not home.pads.in_chair
    assert home.pads.chair_pressed == datetime(2026, 11, 16, 9, 55, tzinfo=UTC)
    assert 0.7 < home.pads.chair_pulsing < 0.75
    assert home.no_movement_raised
    assert home.stirring.at == datetime(2026, 11, 16, 13, 45, tzinfo=UTC)
    assert home.stirring.by == "hall-pir"
    # Nothing lost or changed in the reading: today's code, living the same fortnight,
    # checkpoints what the format-3 checkpoint restores to (to the 0.1 min it kept).
    lived = new_watch()
    before(lived)
    assert _as_format_4(watch.checkpoint(HUB)) == _as_format_4(lived.checkpoint(HUB))


def test_a_version_4_checkpoint_restores_to_the_state_the_same_life_reaches_today() -> None:
    header, _ = split(_V4.read_bytes())
    assert header["v"] == 4
    assert isinstance(header["longest"]["today"], list)  # JSON numbers in format 4
    watch = new_watch()
    watch.restore(HUB, _V4.read_bytes())
    lived = new_watch()
    before(lived)
    assert _as_format_4(watch.checkpoint(HUB)) == _as_format_4(lived.checkpoint(HUB))
    # Read once from JSON, the longest silences are kept exactly from then on.
    exact = watch.checkpoint(HUB)
    assert exact is not None
    again = new_watch()
    again.restore(HUB, exact)
    assert again.checkpoint(HUB) == exact


def _as_format_4(checkpoint: bytes | None) -> bytes:
    """``checkpoint`` as format 4 wrote it: JSON, the longest silences rounded to 0.1 min."""
    assert checkpoint is not None
    header, rest = split(checkpoint)
    return join({**header, "v": 4}, rest)


def test_todays_checkpoint_restores_to_the_same_state_and_the_same_findings() -> None:
    lived = new_watch()
    before(lived)
    checkpoint = lived.checkpoint(HUB)
    assert checkpoint is not None
    header, _ = split(checkpoint)
    assert header["v"] == _NOW
    # Format 2's sections, and those formats 3 and 4 added.
    format_2, _ = split(_V2.read_bytes())
    sections = {"cold_home", "front_door", "night_toilets", "batteries", "coverage", "mornings"}
    assert sections <= set(format_2)
    assert set(header) >= sections | {
        "sensors",
        "meals",
        "decline",
        "day_profile",
        "pads",
        "stirring",
    }
    # In their sections, not flat.
    flat = {
        "sensor_seen",
        "lunch_times",
        "day_counts",
        "profile_days",
        "in_bed",
        "chair_pulsing",
        "stirred_at",
    }
    assert not flat & set(header)
    restored = new_watch()
    restored.restore(HUB, checkpoint)
    assert restored.checkpoint(HUB) == checkpoint
    assert as_json(after(restored)) == as_json(after(lived))


def test_a_version_1_not_up_goes_to_its_own_slot() -> None:
    header, rest = split(_V1.read_bytes())
    assert "v" not in header
    header["raised"] = "not_up"
    state = HomeState.from_bytes(join(header, rest))
    assert state.not_up_raised
    assert not state.no_movement_raised


def test_a_checkpoint_from_a_newer_server_is_refused_saying_what_to_do() -> None:
    lived = new_watch()
    before(lived)
    checkpoint = lived.checkpoint(HUB)
    assert checkpoint is not None
    header, rest = split(checkpoint)
    header["v"] = _NOW + 1
    with pytest.raises(CheckpointError, match="upgrade the server"):
        HomeState.from_bytes(join(header, rest))

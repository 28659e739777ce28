"""The comparison's measures on tiny hand-made streams, where the right answer is plain to see."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from bench.sim_compare import MEASURES, compare, markdown
from firmware_sim.measures import Event, HomeMeasures, HomeStream, measure

T0 = datetime(2026, 1, 5, tzinfo=UTC).timestamp()  # a Monday, local midnight in UTC
H = 3600.0
SENSORS = {
    "lounge-pir": ("motion", "lounge"),
    "bedroom-pir": ("motion", "bedroom"),
    "bathroom-pir": ("motion", "bathroom"),
    "bed": ("bed", "bedroom"),
    "front-door": ("contact", "front_door"),
    "fridge-door": ("contact", "kitchen"),
    "lounge-temp": ("temperature", "lounge"),
}


def _at(hour: float, sensor: str, value: float = 1.0) -> Event:
    return (T0 + hour * H, sensor, SENSORS[sensor][0], value)


def _home(events: list[Event], days: int = 1) -> HomeMeasures:
    return measure(HomeStream(sorted(events), SENSORS, "UTC", T0, T0 + days * 86400))


def test_silences_are_gaps_between_movements_of_a_minute_or_more() -> None:
    m = _home([_at(9, "lounge-pir"), _at(9 + 30 / 3600, "lounge-pir"), _at(9.5, "lounge-pir")])
    # 30 s is the same movement; 29.5 min is a silence.
    assert m.silences_min == [pytest.approx(29.5)]
    assert m.longest_silence_h == [pytest.approx(29.5 / 60)]


def test_a_pir_clearing_and_a_thermometer_are_not_movements() -> None:
    m = _home(
        [
            _at(9, "lounge-pir"),
            _at(9.1, "lounge-pir", 0.0),
            _at(10, "lounge-temp", 19.5),
            _at(11, "lounge-pir"),
        ]
    )
    assert m.silences_min == [pytest.approx(120.0)]
    assert m.readings_per_day == {"motion": [3], "temperature": [1]}


def test_out_of_the_front_door_is_not_a_silence_at_home() -> None:
    m = _home(
        [
            _at(10, "lounge-pir"),
            _at(10.1, "front-door"),
            _at(10.1 + 10 / 3600, "front-door", 0.0),
            _at(13.1, "front-door"),
            _at(13.2, "lounge-pir"),
        ]
    )
    assert m.outings_per_day == [1]
    assert m.out_h_per_day == [pytest.approx(3.0, abs=0.01)]
    assert m.naps_per_day == [0]
    assert all(s < 60 for s in m.silences_min)


def test_a_door_then_movement_inside_is_a_visitor_leaving_not_an_outing() -> None:
    m = _home([_at(10, "front-door"), _at(10.01, "front-door", 0.0), _at(12, "lounge-pir")])
    assert m.outings_per_day == [0]
    assert m.naps_per_day == [1]  # two silent hours at home from 10:00


def test_evening_still_spell_is_clipped_to_the_evening() -> None:
    m = _home([_at(17, "lounge-pir"), _at(20, "lounge-pir"), _at(20.5, "lounge-pir")])
    assert m.evening_still_min == [pytest.approx(120.0)]


def test_a_night_in_bed_with_one_toilet_trip() -> None:
    events = [
        _at(21, "lounge-pir"),
        _at(22.5, "bedroom-pir"),
        _at(22.6, "bed"),
        _at(26, "bed", 0.0),
        _at(26.05, "bathroom-pir"),
        _at(26.15, "bedroom-pir"),
        _at(26.2, "bed"),
        _at(31, "bed", 0.0),
        _at(31.1, "bathroom-pir"),
        _at(31.5, "lounge-pir"),
    ]
    m = _home(events, days=2)
    assert m.bed_hour == [pytest.approx(22.5)]
    assert m.up_hour == [pytest.approx(7.1)]
    assert m.night_toilet_visits == [1]
    assert m.spread_min([22.0, 23.0, 22.5]) == [30.0, 30.0, 0.0]


def test_a_long_trip_out_of_the_bedroom_ends_the_night() -> None:
    events = [
        _at(22, "bedroom-pir"),
        _at(23, "bed"),
        _at(27, "lounge-pir"),  # up at 03:00 and stays up
        _at(28, "lounge-pir"),
        _at(29, "lounge-pir"),
    ]
    m = _home(events, days=2)
    assert m.bed_hour == [pytest.approx(22.0)]
    assert m.up_hour == [pytest.approx(3.0)]
    assert m.night_toilet_visits == [0]


def test_unseen_share_counts_silences_over_an_hour() -> None:
    m = _home([_at(6, "lounge-pir"), _at(18, "lounge-pir"), _at(18.5, "lounge-pir")])
    # 00:00-06:00 has no movement before it, so it is not a silence; 06-18 is.
    assert m.unseen_share == [pytest.approx(0.5)]


def test_only_whole_days_count() -> None:
    stream = HomeStream(
        [_at(13, "lounge-pir"), _at(30, "lounge-pir")], SENSORS, "UTC", T0 + 12 * H, T0 + 60 * H
    )
    assert len(measure(stream).naps_per_day) == 1


def test_compare_gives_zero_distance_for_the_same_homes_and_a_table() -> None:
    m = _home([_at(h, "lounge-pir") for h in (8, 9, 11, 14, 20)])
    c = compare([m], [m])
    silence = c.rows[0]
    assert silence.ks == 0.0
    assert np.array_equal(silence.real, silence.sim)
    table = markdown(c)
    assert table.count("\n") == len(MEASURES) + 2
    assert "| silence between movements | min |" in table

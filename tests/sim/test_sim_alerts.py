"""bench.sim_alerts: the real homes' false-alert rate against the simulator's, and the verdict."""

from __future__ import annotations

import pytest

from bench.sim_alerts import REAL_HOMES, Rate, main, ratio_within, split_homes, table, trial_lengths
from firmware_sim.realism import realism_overrides
from firmware_sim.recording import read_recording


def test_the_table_pools_the_real_homes_by_resident_months_and_gives_the_ratio() -> None:
    real = [
        Rate("house-b", 0.9, {"carewatch": 15, "fixed-timer": 20}),
        Rate("house-c", 0.6, {"carewatch": 2, "fixed-timer": 29}),
    ]
    sim = Rate("sim", 200.0, {"carewatch": 1000, "fixed-timer": 3000})
    text = table(real, sim)
    # (15 + 2) / 1.5 = 11.33 against 5.00: 2.27, outside; (20 + 29) / 1.5 = 32.67 against 15.
    assert "| real homes (2, pooled) | 1.50 | 11.33 | 32.67 |" in text
    assert "| sim | 200.00 | 5.00 | 15.00 |" in text
    assert "2.27 (NOT within 2x) | 2.18 (NOT within 2x)" in text


def test_within_a_factor_works_both_ways() -> None:
    assert ratio_within(4.0, 2.0)
    assert ratio_within(2.0, 4.0)
    assert not ratio_within(4.1, 2.0)
    assert not ratio_within(1.0, 0.0)


def test_a_wrong_realism_override_says_which_keys_there_are(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(ValueError, match="errands"):
        realism_overrides(["errand=0"])
    with pytest.raises(ValueError, match="not a number"):
        realism_overrides(["errands=lots"])
    assert main(["--realism", "stuck=1"]) == 2
    assert "stuck_devices" in capsys.readouterr().err


def test_simulated_homes_are_recorded_as_long_as_the_real_ones() -> None:
    homes = sorted(REAL_HOMES.iterdir()) if REAL_HOMES.is_dir() else []
    real = [read_recording(path) for path in homes if path.is_dir()]
    if not real:
        pytest.skip(f"no real homes in {REAL_HOMES}")
    lengths = trial_lengths("like-real", real)
    # Each real recording's length, in whole days (house B 27.0 days, house C 18.4).
    assert lengths == [round((r.end - r.start).total_seconds() / 86_400) for r in real]
    assert trial_lengths("30", real) == [30]
    assert split_homes(201, lengths)[0][0] == 101
    assert sum(homes for homes, _ in split_homes(201, lengths)) == 201


def test_a_wrong_trial_length_says_what_to_give(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--days", "a month"]) == 2
    assert "'like-real'" in capsys.readouterr().err

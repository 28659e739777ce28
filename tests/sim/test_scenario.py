"""Scenario files: a trial described in TOML, refused with a clear reason when it is wrong."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from firmware_sim.cli import main
from firmware_sim.incidents import Fall, HubOffline, WanderOut
from firmware_sim.scenario import Scenario, ScenarioError, load_scenario

EXAMPLE = Path(__file__).parents[2] / "docs" / "scenarios" / "winter-trial.toml"


def test_the_documented_example_loads() -> None:
    scenario = load_scenario(EXAMPLE)
    assert scenario.trial.homes >= 200
    assert scenario.trial.days >= 60


def test_a_scenario_sets_the_mix_and_the_rates(tmp_path: Path) -> None:
    path = tmp_path / "trial.toml"
    path.write_text(
        """
[trial]
homes = 400
days = 60
seed = 8
quiet_days = 0

[personas]
night_waker = 1

[incidents]
fall = 1.0
hub_offline = 0.0
wander_out = 0.1
wander_out_night_waker_factor = 10
"""
    )
    scenario = load_scenario(path)
    homes = list(scenario.homes())
    assert {h.persona.name for h in homes} == {"night_waker"}
    kinds = Counter(type(i).__name__ for h in homes for i in h.incidents)
    assert kinds[HubOffline.__name__] == 0
    # One fall per home-month over two months, and ten times 0.1 wanderings out.
    assert 700 < kinds[Fall.__name__] < 900
    assert 700 < kinds[WanderOut.__name__] < 900
    assert scenario.home(7) == scenario.home(7)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[trial]\nhomes = 0\n", "trial.homes: Input should be greater than or equal to 1"),
        ("[trial]\ntimezone = 'Mars/Olympus'\n", "unknown time zone 'Mars/Olympus'"),
        ("[personas]\nhermit = 1\n", "unknown persona 'hermit'"),
        ("[incidents]\nalien_abduction = 0.1\n", "incidents.alien_abduction: Extra inputs"),
        ("[trial\nhomes = 3\n", "is not valid TOML"),
    ],
)
def test_a_mistake_says_which_key_and_what_is_wrong(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_scenario(path)


def test_the_command_line_overrides_the_file_and_reports_mistakes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = Scenario().with_trial(homes=5, days=9)
    assert (base.trial.homes, base.trial.days, base.trial.seed) == (5, 9, 1)
    path = tmp_path / "bad.toml"
    path.write_text("[personas]\nhermit = 1\n")
    assert main(["export", "--scenario", str(path), "--out", str(tmp_path / "x")]) == 2
    assert "unknown persona 'hermit'" in capsys.readouterr().err


def test_a_scenario_turns_realism_down(tmp_path: Path) -> None:
    path = tmp_path / "tidy.toml"
    path.write_text("[trial]\nhomes = 3\n\n[realism]\npulsing_pads = 0\nuncovered_rooms = 0\n")
    scenario = load_scenario(path)
    for spec in scenario.homes():
        assert not spec.traits.pulsing_pads
        assert spec.traits.unfitted == frozenset()
        assert spec.traits.still_spells_per_day > 0
    path.write_text("[realism]\npulsing_pads = 2\n")
    with pytest.raises(ScenarioError, match=r"realism\.pulsing_pads"):
        load_scenario(path)
    path.write_text("[trial]\nhomes = 40\n\n[realism]\nerrands = 0\nevenings_out = 0\n")
    quiet = load_scenario(path)
    assert all(s.traits.errands_per_day == s.traits.evening_out_chance == 0 for s in quiet.homes())
    assert any(s.traits.errands_per_day > 0 for s in Scenario().with_trial(homes=40).homes())
    for key in ("errands", "evenings_out", "busy_weekdays", "stuck_devices"):
        path.write_text(f"[realism]\n{key} = -0.5\n")
        with pytest.raises(ScenarioError, match=rf"realism\.{key}"):
            load_scenario(path)

"""``carewatch arc``: a service's ARC account set, shown without its key, replaced and removed."""

from __future__ import annotations

import psycopg
import pytest

from server.cli import main


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CAREWATCH_DATABASE_URL", database_url)
    return database_url


def test_an_account_is_set_shown_without_its_key_and_removed(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "ABCDEF0123456789"
    argv = ["arc", "set", "north", "--account", "0a12", "--primary", "arc1.example:5000"]
    assert main([*argv, "--backup", "10.0.0.2:5001", "--key", key, "--urgent", "not_up"]) == 0
    assert main(["arc", "show"]) == 0
    shown = capsys.readouterr().out
    assert "north: account 0A12 (SIA-DCS), primary arc1.example:5000, backup 10.0.0.2:5001" in shown
    assert "encryption on" in shown
    assert "not_up" in shown
    assert key not in shown
    with psycopg.connect(env) as conn:
        row = conn.execute("SELECT encryption_key, urgent_kinds FROM arc_accounts").fetchone()
    assert row == (key, ["not_up"])

    # Set again: replaced, not added.
    assert main([*argv, "--format", "ADM-CID"]) == 0
    assert main(["arc", "show"]) == 0
    shown = capsys.readouterr().out
    assert shown.count("north:") == 2  # the line printed by set, and the one by show
    assert "(ADM-CID)" in shown
    assert "encryption off" in shown

    assert main(["arc", "remove", "north"]) == 0
    assert main(["arc", "remove", "north"]) == 1


def test_bad_accounts_keys_and_addresses_are_refused(env: str) -> None:
    argv = ["arc", "set", "north", "--primary", "arc1.example:5000"]
    with pytest.raises(SystemExit):
        main([*argv, "--account", "not-hex"])
    with pytest.raises(SystemExit):
        main(["arc", "set", "north", "--account", "0A12", "--primary", "no-port"])
    with pytest.raises(SystemExit):
        main([*argv, "--account", "0A12", "--urgent", "battery_low"])
    assert main([*argv, "--account", "0A12", "--key", "too short"]) == 2

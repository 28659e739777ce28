"""The ``carewatch`` command as an installer or administrator uses it."""

from __future__ import annotations

import psycopg
import pytest

from server.cli import main
from server.passwords import verify_password


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> str:
    monkeypatch.setenv("CAREWATCH_DATABASE_URL", database_url)
    return database_url


def test_hub_add_provisions_and_prints_credentials(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["hub", "add", "hub-0001", "--resident", "Mrs Edith Clarke"]) == 0
    out = capsys.readouterr().out
    assert "Hub hub-0001 provisioned in the home of Mrs Edith Clarke." in out
    password = next(line.split(": ", 1)[1] for line in out.splitlines() if "password:" in line)
    with psycopg.connect(env) as conn:
        row = conn.execute(
            "SELECT r.name, h.password_hash FROM hubs h JOIN residents r ON r.id = h.resident_id WHERE h.id = 'hub-0001'"
        ).fetchone()
    assert row is not None
    assert row[0] == "Mrs Edith Clarke"
    assert verify_password(row[1], password)
    assert password not in row[1]


def test_hub_add_refuses_a_taken_id_and_a_bad_one(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["hub", "add", "hub-0001", "--resident", "A"]) == 0
    assert main(["hub", "add", "hub-0001", "--resident", "B"]) == 1
    assert "already provisioned" in capsys.readouterr().err
    assert main(["hub", "add", "hub/0001", "--resident", "A"]) == 2
    assert "not valid" in capsys.readouterr().err
    assert main(["hub", "add", "hub-0002", "--resident", "A", "--timezone", "Mars/Olympus"]) == 2


def test_user_add(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["user", "add", "alice", "--role", "responder", "--password", "correct horse"]) == 0
    assert main(["user", "add", "alice", "--role", "carer", "--password", "correct horse"]) == 1
    assert main(["user", "add", "bob", "--role", "carer", "--password", "short"]) == 2
    with psycopg.connect(env) as conn:
        rows = conn.execute("SELECT username, role FROM users ORDER BY username").fetchall()
    assert rows == [("alice", "responder")]


def test_production_refuses_placeholder_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CAREWATCH_ENVIRONMENT", "production")
    monkeypatch.setenv("CAREWATCH_ADMIN_PASSWORD", "changeme")
    assert main(["migrate"]) == 2
    assert "CAREWATCH_ADMIN_PASSWORD must be set" in capsys.readouterr().err


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["--help"],
        ["demo", "--help"],
        ["server", "--help"],
        ["hub", "add", "--help"],
        ["user", "add", "--help"],
    ):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 0
    assert "Provision hub HUB" in capsys.readouterr().out

"""The ``carewatch`` command as an installer or administrator uses it."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

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
    assert (
        main(
            [
                "user", "add", "alice", "--role", "responder", "--password", "correct horse",
                "--on-duty", "--phone", "01632 960100",
            ]
        )
        == 0
    )  # fmt: skip
    assert main(["user", "add", "alice", "--role", "carer", "--password", "correct horse"]) == 1
    assert main(["user", "add", "bob", "--role", "carer", "--password", "short"]) == 2
    with psycopg.connect(env) as conn:
        rows = conn.execute(
            "SELECT username, role, on_duty, phone FROM users ORDER BY username"
        ).fetchall()
    assert rows == [("alice", "responder", True, "01632 960100")]


def test_user_add_with_numbers_to_text_and_call(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "user", "add", "cat", "--role", "carer", "--password", "correct horse",
                "--voice", "07400 123456", "--sms", "+44 7400 123456", "--email", "cat@example.org",
            ]
        )
        == 0
    )  # fmt: skip
    assert (
        main(["user", "add", "dan", "--role", "carer", "--password", "correct horse",
              "--sms", "12345"])
        == 2
    )  # fmt: skip
    assert "country code" in capsys.readouterr().err
    with psycopg.connect(env) as conn:
        rows = conn.execute(
            "SELECT u.username, c.kind, c.address FROM user_channels c"
            " JOIN users u ON u.id = c.user_id ORDER BY c.position"
        ).fetchall()
        users = [row[0] for row in conn.execute("SELECT username FROM users").fetchall()]
    assert rows == [
        ("cat", "email", "cat@example.org"),
        ("cat", "sms", "+447400123456"),
        ("cat", "voice", "+447400123456"),
    ]
    assert "dan" not in users, "a wrong number creates no account"


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
        ["resident", "erase", "--help"],
        ["user", "add", "--help"],
    ):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 0
    assert "Provision hub HUB" in capsys.readouterr().out


def test_hub_add_writes_the_broker_account_and_revoke_removes_it(
    env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CAREWATCH_BROKER_CREDENTIALS_DIR", str(tmp_path))
    monkeypatch.setenv("CAREWATCH_BROKER_PUBLIC_URL", "mqtts://broker.example.org:8883")
    assert main(["hub", "add", "hub-0007", "--resident", "Mr Arthur Bell"]) == 0
    out = capsys.readouterr().out
    password = next(line.split(": ", 1)[1] for line in out.splitlines() if "password:" in line)
    assert (
        f"CAREWATCH_AGENT_MQTT_URL=mqtts://hub-0007:{quote(password, safe='')}@broker.example.org:8883"
        in out
    )

    (line,) = (tmp_path / "passwords").read_text().splitlines()
    username, _, algorithm, iterations, salt, digest = line.replace(":", "$", 1).split("$")
    assert (username, algorithm, iterations) == ("hub-0007", "7", "101")
    expected = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), 101)
    assert base64.b64decode(digest) == expected

    assert main(["hub", "revoke", "hub-0007"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert (tmp_path / "passwords").read_text() == ""
    with psycopg.connect(env) as conn:
        row = conn.execute("SELECT revoked_at FROM hubs WHERE id = 'hub-0007'").fetchone()
    assert row is not None
    assert row[0] is not None
    assert main(["hub", "revoke", "hub-0007"]) == 1


def test_resident_erase_removes_her_and_her_hubs_broker_account(
    env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CAREWATCH_BROKER_CREDENTIALS_DIR", str(tmp_path))
    assert main(["hub", "add", "hub-0009", "--resident", "Mrs Ivy Shaw"]) == 0
    assert main(["hub", "add", "hub-0010", "--resident", "Mr Sam Ode"]) == 0
    capsys.readouterr()
    # Asked, and the name typed wrong: nothing happens.
    monkeypatch.setattr("builtins.input", lambda prompt: "Mrs Ivy")
    assert main(["resident", "erase", "Mrs Ivy Shaw"]) == 1
    assert "not erased" in capsys.readouterr().err
    assert main(["resident", "erase", "Mrs Ivy Shaw", "--yes"]) == 0
    assert "Erased Mrs Ivy Shaw: hubs hub-0009" in capsys.readouterr().out
    usernames = [line.split(":")[0] for line in (tmp_path / "passwords").read_text().splitlines()]
    assert usernames == ["hub-0010"]
    with psycopg.connect(env) as conn:
        left = conn.execute("SELECT name FROM residents ORDER BY name").fetchall()
        hubs = conn.execute("SELECT id FROM hubs ORDER BY id").fetchall()
    assert left == [("Mr Sam Ode",)]
    assert hubs == [("hub-0010",)]
    assert main(["resident", "erase", "Mrs Ivy Shaw", "--yes"]) == 1
    assert "no resident named" in capsys.readouterr().err


def test_certs_makes_a_ca_and_a_broker_certificate(tmp_path: Path) -> None:
    assert main(["certs", "--out", str(tmp_path), "--host", "broker.example.org"]) == 0
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.crt").read_bytes())
    server = x509.load_pem_x509_certificate((tmp_path / "server.crt").read_bytes())
    assert server.issuer == ca.subject
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["broker.example.org"]
    ca.public_key().verify(  # type: ignore[union-attr, call-arg]
        server.signature,
        server.tbs_certificate_bytes,
        ec.ECDSA(server.signature_hash_algorithm),  # type: ignore[arg-type]
    )
    assert (tmp_path / "server.key").stat().st_mode & 0o077 == 0

"""``carewatch hub import`` against the deployment's Mosquitto: imported hubs log in after a SIGHUP.

Mosquitto re-reads its password files on SIGHUP; the import writes the hubs'
file once, in mosquitto_passwd's own format, and no restart is needed.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.cli import main
from tests.deploy.broker import (
    SERVER_ACCOUNT,
    Broker,
    Session,
    connect,
    deployment_broker,
    mosquitto_missing,
)

pytestmark = pytest.mark.skipif(mosquitto_missing() is not None, reason=str(mosquitto_missing()))

SERVER_PASSWORD = "server-password-for-tests"


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    with deployment_broker(SERVER_PASSWORD, {"hub-a": "password-a"}) as running:
        yield running


def test_imported_hubs_connect_after_a_reload_without_a_restart(
    broker: Broker, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CAREWATCH_DATABASE_URL", database_url)
    monkeypatch.setenv("CAREWATCH_BROKER_CREDENTIALS_DIR", str(broker.passwords.parent))
    homes = tmp_path / "homes.csv"
    homes.write_text(
        "hub,resident,timezone,sensors\n"
        + "".join(f"hub-imp-{n},Resident {n},,hall-pir:motion:hall\n" for n in range(20))
    )
    assert broker.process is not None
    pid = broker.process.pid
    out = tmp_path / "credentials.csv"
    assert main(["hub", "import", str(homes), "--out", str(out)]) == 0
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 20
    # Not yet reloaded: the broker still has the file it read at start.
    refused = connect(
        broker.tls_port, rows[0]["hub"], rows[0]["password"], tls=True, ca_file=broker.ca_file
    )
    assert isinstance(refused, str)
    broker.reload()
    for row in (rows[0], rows[19]):
        session = connect(
            broker.tls_port, row["username"], row["password"], tls=True, ca_file=broker.ca_file
        )
        assert isinstance(session, Session), session
        session.close()
    wrong = connect(
        broker.tls_port, rows[1]["username"], rows[0]["password"], tls=True, ca_file=broker.ca_file
    )
    assert isinstance(wrong, str)
    # The same process all along, and the accounts from before the import kept.
    assert broker.process.pid == pid
    assert broker.process.poll() is None
    kept = connect(broker.tls_port, "hub-a", "password-a", tls=True, ca_file=broker.ca_file)
    assert isinstance(kept, Session), kept
    kept.close()
    server = connect(broker.plain_port, SERVER_ACCOUNT, SERVER_PASSWORD)
    assert isinstance(server, Session), server
    server.close()
    assert os.stat(out).st_mode & 0o777 == 0o600

"""``carewatch scaip``: units added, moved, shown and removed; a wrong resident or hub refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from psycopg_pool import AsyncConnectionPool

from server.alerts.service import AlertService
from server.cli import main
from server.scaip.endpoint import Inbound
from server.scaip.receiver import ScaipReceiver
from server.store.pool import migrate
from tests.server.helpers import provision


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CAREWATCH_DATABASE_URL", database_url)
    migrate(database_url)
    return database_url


def test_a_unit_is_added_moved_shown_and_removed(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    provision(env, "hub-cli-1", "Ada")
    provision(env, "hub-cli-2", "Bea")
    assert main(["scaip", "add", "4711", "--resident", "Ada", "--hub", "hub-cli-1"]) == 0
    assert main(["scaip", "add", "4711", "--resident", "Bea", "--heartbeat-s", "3600"]) == 0
    capsys.readouterr()
    assert main(["scaip", "show"]) == 0
    assert capsys.readouterr().out == "unit 4711: Bea, heartbeat every 3600 s\n"
    assert main(["scaip", "remove", "4711"]) == 0
    assert main(["scaip", "remove", "4711"]) == 1
    capsys.readouterr()
    assert main(["scaip", "show"]) == 0
    assert capsys.readouterr().out == ""


def test_a_wrong_resident_hub_or_id_is_refused(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    provision(env, "hub-cli-3", "Cy")
    assert main(["scaip", "add", "4712", "--resident", "Nobody"]) == 1
    assert "no resident named 'Nobody'" in capsys.readouterr().err
    assert main(["scaip", "add", "4712", "--resident", "Cy", "--hub", "hub-none"]) == 1
    assert "no hub 'hub-none'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["scaip", "add", "not-digits", "--resident", "Cy"])


async def test_a_database_away_is_503_never_200() -> None:
    # Nothing listens on port 1: every connection attempt fails at once.
    pool: AsyncConnectionPool = AsyncConnectionPool(
        "host=127.0.0.1 port=1 user=x dbname=x connect_timeout=1",
        min_size=0,
        max_size=1,
        timeout=0.5,
        open=False,
    )
    await pool.open(wait=False)
    try:
        receiver = ScaipReceiver(pool, AlertService(pool, link_key=b"k" * 32))
        body = b"<mrq><ref>r1</ref><cid>4711</cid><dty>0003</dty><stc>0010</stc></mrq>"
        reply = await receiver(
            Inbound(body, "application/scaip+xml", "udp", ("127.0.0.1", 5099), datetime.now(UTC))
        )
    finally:
        await pool.close()
    assert (reply.status, reply.headers.get("Retry-After"), reply.scaip) == (503, "5", None)

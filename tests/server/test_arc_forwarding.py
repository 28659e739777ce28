"""Alarms forwarded to an ARC over SIA DC-09, against a real receiver (pysiaalarm) on a local port.

A pendant press goes over real MQTT to a running server; the receiver is Home
Assistant's DC-09 implementation, which checks the frame, CRC, account,
timestamp and (for the encrypted account) AES before it acknowledges.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import httpx
import psycopg

from server.domain.alerts import AlertKind
from server.domain.arc import ArcAccount, ReceiverPath
from server.runtime import CarewatchServer
from server.store import arc as arc_sql
from server.store.pool import migrate
from tests.server.arc_receiver import ArcReceiver, free_port
from tests.server.helpers import (
    eventually,
    press_pendant,
    provision,
    running_server,
    unique_hub,
    wait_for,
)

ACCOUNT = "0A12"
KEY = "ABCDEF0123456789"

# Quick retries so a test sees several rounds in a second or two.
QUICK = {
    "arc_attempt_timeout_s": 1.0,
    "arc_retry_first_s": 0.2,
    "arc_retry_max_s": 0.4,
    "arc_poll_s": 0.2,
}


def _receiver(port: int) -> ReceiverPath:
    return ReceiverPath("127.0.0.1", port)


async def _configure(server: CarewatchServer, account: ArcAccount, key: str | None = None) -> None:
    async with server.pool.connection() as conn:
        await arc_sql.put_account(conn, account, key_text=key)


def _trail(database_url: str, kind: str = "pendant") -> list[tuple[str, str, dict[str, Any]]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT e.action, e.note, e.details FROM alert_events e JOIN alerts a"
            " ON a.id = e.alert_id WHERE a.kind = %s ORDER BY e.at, e.id",
            (kind,),
        ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def _arc_lines(database_url: str) -> list[dict[str, Any]]:
    return [d for action, _, d in _trail(database_url) if action.startswith("arc_")]


def _alerts(database_url: str, kind: AlertKind) -> list[tuple[str, str]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT severity, status FROM alerts WHERE kind = %s", (kind.value,)
        ).fetchall()
    return [(r[0], r[1]) for r in rows]


async def _metrics(server: CarewatchServer) -> str:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=5) as client:
        return (await client.get("/metrics")).text


def _home(database_url: str) -> tuple[str, int]:
    migrate(database_url)
    hub = unique_hub()
    provision(database_url, hub, f"Resident {uuid.uuid4().hex[:6]}")
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT resident_id FROM hubs WHERE id = %s", (hub,)).fetchone()
    assert row is not None
    return hub, int(row[0])


async def test_a_pendant_press_reaches_the_arc_with_its_account_code_and_zone(
    database_url: str, mqtt_url: str
) -> None:
    hub, resident_id = _home(database_url)
    async with (
        ArcReceiver(ACCOUNT) as arc,
        running_server(database_url, mqtt_url, **QUICK) as server,
    ):
        await _configure(
            server,
            ArcAccount(service="default", account=ACCOUNT, primary=_receiver(arc.port)),
        )
        press_pendant(mqtt_url, hub)
        await eventually(lambda: arc.events("QA"), "the ARC to acknowledge the pendant")
        heard = arc.events("QA")
        assert [(h.account, h.code, h.zone, h.user) for h in heard] == [
            (ACCOUNT, "QA", "1", str(resident_id))
        ]
        lines = await eventually(
            lambda: [d for d in _arc_lines(database_url) if d["outcome"] == "ack"],
            "the delivery on the alert's trail",
        )
    assert lines[0]["path"] == "primary"
    assert (lines[0]["code"], lines[0]["zone"], lines[0]["account"]) == ("QA", 1, ACCOUNT)
    # Once acknowledged, never sent again.
    assert len(arc.events("QA")) == 1


async def test_a_second_press_on_the_open_alert_is_a_second_event_at_the_arc(
    database_url: str, mqtt_url: str
) -> None:
    hub, _ = _home(database_url)
    async with (
        ArcReceiver(ACCOUNT) as arc,
        running_server(database_url, mqtt_url, **QUICK) as server,
    ):
        await _configure(
            server,
            ArcAccount(service="default", account=ACCOUNT, primary=_receiver(arc.port)),
        )
        press_pendant(mqtt_url, hub)
        await eventually(lambda: arc.events("QA"), "the first press at the ARC")
        press_pendant(mqtt_url, hub)
        await eventually(lambda: arc.events("QA")[1:], "the second press at the ARC")
        acks = await eventually(
            lambda: (
                [d for d in _arc_lines(database_url) if d["outcome"] == "ack"][1:]
                and [d for d in _arc_lines(database_url) if d["outcome"] == "ack"]
            ),
            "both deliveries on the trail",
        )
    assert [d["press"] for d in acks] == [1, 2]
    assert acks[0]["seq"] != acks[1]["seq"]  # two events, not a repeat of one
    assert _alerts(database_url, AlertKind.PENDANT) == [("emergency", "open")]
    assert len(arc.events("QA")) == 2


async def test_an_encrypted_account_is_understood_by_the_receiver(
    database_url: str, mqtt_url: str
) -> None:
    hub, _ = _home(database_url)
    async with (
        ArcReceiver(ACCOUNT, key=KEY) as arc,
        running_server(database_url, mqtt_url, **QUICK) as server,
    ):
        await _configure(
            server,
            ArcAccount(
                service="default", account=ACCOUNT, primary=_receiver(arc.port), key=KEY.encode()
            ),
            key=KEY,
        )
        press_pendant(mqtt_url, hub)
        heard = await eventually(lambda: arc.events("QA"), "the encrypted pendant event")
    assert heard[0].encrypted
    assert any(d["outcome"] == "ack" for d in _arc_lines(database_url))


async def test_a_receiver_that_is_down_then_up_gets_the_alarm_and_the_trail_shows_each_try(
    database_url: str, mqtt_url: str
) -> None:
    hub, _ = _home(database_url)
    arc = ArcReceiver(ACCOUNT)
    async with running_server(database_url, mqtt_url, **QUICK) as server:
        await _configure(
            server,
            ArcAccount(service="default", account=ACCOUNT, primary=_receiver(arc.port)),
        )
        press_pendant(mqtt_url, hub)
        failed = await eventually(
            lambda: [d for d in _arc_lines(database_url) if d["outcome"] == "failed"][2:],
            "three failed attempts on the trail",
        )
        assert {d["path"] for d in failed} == {"primary"}
        assert arc.heard == []
        async with arc:
            await eventually(lambda: arc.events("QA"), "the alarm once the receiver is up")
            await eventually(
                lambda: [d for d in _arc_lines(database_url) if d["outcome"] == "ack"],
                "the delivery on the trail",
            )
    rounds = [d["round"] for d in _arc_lines(database_url)]
    assert rounds == sorted(rounds)
    assert rounds[-1] >= 4
    assert len(arc.events("QA")) == 1


async def test_the_backup_path_is_used_when_the_primary_is_down(
    database_url: str, mqtt_url: str
) -> None:
    hub, _ = _home(database_url)
    async with (
        ArcReceiver(ACCOUNT) as backup,
        running_server(database_url, mqtt_url, **QUICK) as server,
    ):
        await _configure(
            server,
            ArcAccount(
                service="default",
                account=ACCOUNT,
                primary=_receiver(free_port()),
                backup=_receiver(backup.port),
            ),
        )
        press_pendant(mqtt_url, hub)
        await eventually(lambda: backup.events("QA"), "the alarm at the backup receiver")
        lines = await eventually(
            lambda: (
                [d for d in _arc_lines(database_url) if d["outcome"] == "ack"]
                and _arc_lines(database_url)
            ),
            "the trail",
        )
    assert [(d["path"], d["outcome"]) for d in lines] == [("primary", "failed"), ("backup", "ack")]


async def test_a_receiver_that_naks_is_sent_the_frame_again_then_the_backup_is_tried(
    database_url: str, mqtt_url: str
) -> None:
    hub, _ = _home(database_url)
    # This receiver's window ends 5 s before its own clock: it NAKs every timestamp.
    async with (
        ArcReceiver(ACCOUNT, timeband=(-5, 20)) as naks,
        ArcReceiver(ACCOUNT) as backup,
        running_server(database_url, mqtt_url, **QUICK) as server,
    ):
        await _configure(
            server,
            ArcAccount(
                service="default",
                account=ACCOUNT,
                primary=_receiver(naks.port),
                backup=_receiver(backup.port),
            ),
        )
        press_pendant(mqtt_url, hub)
        await eventually(lambda: backup.events("QA"), "the alarm at the backup receiver")
        lines = await eventually(
            lambda: (
                [d for d in _arc_lines(database_url) if d["outcome"] == "ack"]
                and _arc_lines(database_url)
            ),
            "the trail",
        )
    assert [(d["path"], d["outcome"]) for d in lines] == [("primary", "nak"), ("backup", "ack")]
    notes = [note for action, note, _ in _trail(database_url) if action == "arc_attempt"]
    assert "NAK" in notes[0]
    assert "twice" in notes[0]
    assert naks.heard == []  # a NAKed event is not the receiver's


async def test_both_paths_down_past_the_limit_raise_a_technical_alert_that_clears_on_delivery(
    database_url: str, mqtt_url: str
) -> None:
    hub, _ = _home(database_url)
    primary, backup = ArcReceiver(ACCOUNT), ArcReceiver(ACCOUNT)
    async with running_server(database_url, mqtt_url, **QUICK, arc_down_limit_s=1.0) as server:
        await _configure(
            server,
            ArcAccount(
                service="default",
                account=ACCOUNT,
                primary=_receiver(primary.port),
                backup=_receiver(backup.port),
            ),
        )
        press_pendant(mqtt_url, hub)
        await eventually(
            lambda: _alerts(database_url, AlertKind.ARC_UNREACHABLE),
            "a technical alert about the ARC",
        )
        assert _alerts(database_url, AlertKind.ARC_UNREACHABLE) == [("technical", "open")]
        # The alarm itself was raised, before any attempt, and is still open for the responders.
        assert _alerts(database_url, AlertKind.PENDANT) == [("emergency", "open")]
        assert _trail(database_url)[0][0] == "raised"
        async with backup:
            await eventually(lambda: backup.events("QA"), "the alarm once the backup is up")
            await eventually(
                lambda: (
                    _alerts(database_url, AlertKind.ARC_UNREACHABLE) == [("technical", "resolved")]
                ),
                "the technical alert to clear itself",
            )
        metrics = await _metrics(server)
    paths = {d["path"] for d in _arc_lines(database_url) if d["outcome"] == "failed"}
    assert paths == {"primary", "backup"}
    assert 'carewatch_arc_attempts_total{outcome="ack",path="backup",service="default"} 1.0' in (
        metrics
    )
    assert 'carewatch_arc_link_up{path="primary",service="default"} 0.0' in metrics


async def test_the_receiver_gets_a_link_test_on_its_supervision_interval(
    database_url: str, mqtt_url: str
) -> None:
    async with (
        ArcReceiver(ACCOUNT) as arc,
        running_server(database_url, mqtt_url, **QUICK) as server,
    ):
        await _configure(
            server,
            ArcAccount(
                service="default",
                account=ACCOUNT,
                primary=_receiver(arc.port),
                supervision_s=0.5,
            ),
        )
        # pysiaalarm reads a DC-09 null message as RP ("automatic test").
        await eventually(lambda: arc.events("RP")[2:], "three link tests")
        assert server.arc is not None
        assert server.arc.links[("default", "primary")].ok is True
        assert 'carewatch_arc_link_up{path="primary",service="default"} 1.0' in await _metrics(
            server
        )
        await arc.stop()

        # A monitor sees the link go down although no alarm waits on it.
        async def link_down() -> bool:
            up = 'carewatch_arc_link_up{path="primary",service="default"} 0.0'
            return up in await _metrics(server)

        await wait_for(link_down, what="the link test to fail on /metrics")
    times = [h.at for h in arc.events("RP")]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(0.45 <= gap <= 2.5 for gap in gaps), gaps

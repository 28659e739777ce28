"""SCAIP units end to end: SIPp plays a social-alarm unit against a running carewatch server.

Each alarm must be on the resident's record before the unit hears 200 OK;
what is refused is a dead letter and a SIP error that says why.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from server.domain.arc import ArcAccount, ReceiverPath
from server.runtime import CarewatchServer
from server.store import arc as arc_sql
from server.store.pool import migrate
from tests.server.arc_receiver import ArcReceiver
from tests.server.helpers import eventually, provision, running_server, unique_hub, wait_for
from tests.server.scaip_unit import mrq, require_sipp, send

pytestmark = pytest.mark.usefixtures("_sipp")


@pytest.fixture
def _sipp() -> None:
    require_sipp()


def _unit() -> str:
    return str(uuid.uuid4().int)[:12]


@pytest.fixture
async def scaip_server(database_url: str, mqtt_url: str) -> AsyncIterator[CarewatchServer]:
    async with running_server(
        database_url, mqtt_url, scaip_port=0, scaip_host="127.0.0.1", scaip_check_interval_s=0.2
    ) as running:
        yield running


def _add_unit(
    database_url: str, unit: str, resident: str, *, heartbeat_s: int | None = None
) -> str:
    hub = unique_hub()
    provision(database_url, hub, resident)
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO scaip_units (id, resident_id, hub_id, heartbeat_s)"
            " SELECT %s, id, %s, %s FROM residents WHERE name = %s",
            (unit, hub, heartbeat_s, resident),
        )
    return hub


def _rows(database_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(sql, params).fetchall()


def _port(server: CarewatchServer) -> int:
    assert server.scaip is not None
    return server.scaip.port


@pytest.mark.parametrize(
    ("device", "status", "kind", "words"),
    [
        ("0003", "0010", "pendant", "pressed their pendant"),
        ("0005", "0009", "fall", "fall detector triggered"),
        ("0023", "0009", "smoke", "smoke alarm triggered"),
    ],
    ids=["pendant", "fall", "smoke"],
)
async def test_an_alarm_is_on_the_residents_record_when_the_unit_hears_200(
    scaip_server: CarewatchServer,
    database_url: str,
    device: str,
    status: str,
    kind: str,
    words: str,
) -> None:
    unit = _unit()
    hub = _add_unit(database_url, unit, f"Ada {unit}")
    run = await send(
        _port(scaip_server), mrq(unit, ref="a1", device=device, status=status), unit=unit, ref="a1"
    )
    assert run.ok, run.errors
    # Stored before the 200: no waiting here.
    alerts = _rows(
        database_url,
        "SELECT a.kind, a.severity, a.reason, a.hub_id FROM alerts a JOIN residents r"
        " ON r.id = a.resident_id WHERE r.name = %s",
        f"Ada {unit}",
    )
    assert [(a[0], a[1], a[3]) for a in alerts] == [(kind, "emergency", hub)]
    assert words in alerts[0][2]
    assert f"alarm unit {unit}" in alerts[0][2]
    assert _rows(database_url, "SELECT kind FROM alarms WHERE hub_id = %s", f"scaip:{unit}") == [
        (kind,)
    ]


async def test_the_same_alarm_sent_again_raises_once_and_a_new_one_is_counted(
    scaip_server: CarewatchServer, database_url: str
) -> None:
    unit = _unit()
    _add_unit(database_url, unit, f"Bea {unit}")
    port = _port(scaip_server)
    for _ in range(2):  # the unit did not hear our answer, and sends the same ref again
        run = await send(port, mrq(unit, ref="r7"), unit=unit, transport="tcp")
        assert run.ok, run.errors
    assert len(_rows(database_url, "SELECT id FROM alarms WHERE hub_id = %s", f"scaip:{unit}")) == 1
    run = await send(port, mrq(unit, ref="r8"), unit=unit)
    assert run.ok, run.errors
    presses = _rows(
        database_url,
        "SELECT (a.details->>'presses')::int FROM alerts a JOIN residents r ON r.id = a.resident_id WHERE r.name = %s",
        f"Bea {unit}",
    )
    assert presses == [(2,)]


async def test_a_heartbeat_is_answered_and_kept_and_raises_nothing(
    scaip_server: CarewatchServer, database_url: str
) -> None:
    unit = _unit()
    _add_unit(database_url, unit, f"Cy {unit}", heartbeat_s=3600)
    run = await send(
        _port(scaip_server),
        mrq(unit, ref="hb1", device="0002", status=None, message_type="PI"),
        unit=unit,
    )
    assert run.ok, run.errors
    [(beat, address)] = _rows(
        database_url, "SELECT last_heartbeat_at, last_address FROM scaip_units WHERE id = %s", unit
    )
    assert beat is not None
    assert address.startswith("udp:127.0.0.1:")
    assert _rows(database_url, "SELECT id FROM alerts") == []


async def test_a_low_battery_report_raises_a_technical_alert_not_an_emergency(
    scaip_server: CarewatchServer, database_url: str
) -> None:
    unit = _unit()
    _add_unit(database_url, unit, f"Gil {unit}")
    run = await send(_port(scaip_server), mrq(unit, ref="b1", status="0016"), unit=unit)
    assert run.ok, run.errors
    alerts = _rows(database_url, "SELECT kind, severity, reason FROM alerts")
    assert [(a[0], a[1]) for a in alerts] == [("battery_low", "technical")]
    assert f"Gil {unit}'s pendant (alarm unit {unit}) is low" in alerts[0][2]
    assert _rows(database_url, "SELECT id FROM alarms") == []


async def test_an_unknown_unit_is_refused_with_403_and_a_dead_letter(
    scaip_server: CarewatchServer, database_url: str
) -> None:
    unit = _unit()
    run = await send(
        _port(scaip_server), mrq(unit, ref="x1"), unit=unit, expect=403, warning="not provisioned"
    )
    assert run.ok, run.errors
    [(topic, reason)] = _rows(
        database_url, "SELECT topic, reason FROM dead_letters WHERE topic LIKE 'scaip/%%'"
    )
    assert topic.startswith("scaip/udp:127.0.0.1:")
    assert f"SCAIP unit '{unit}' is not provisioned" in reason
    counted = scaip_server.metrics.registry.get_sample_value(
        "carewatch_scaip_messages_total", {"status": "403"}
    )
    assert counted == 1
    assert _rows(database_url, "SELECT id FROM alerts") == []


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("<mrq><ref>m1</ref><cid>4711</cid>", "not XML"),
        ("<mrq><ref>m2</ref><dty>0003</dty></mrq>", "lacks its mandatory"),
        ("<alarm><cid>4711</cid></alarm>", "not SCAIP"),
    ],
    ids=["truncated", "no-cid", "wrong-root"],
)
async def test_a_malformed_body_is_refused_with_400_and_a_dead_letter(
    scaip_server: CarewatchServer, database_url: str, body: str, why: str
) -> None:
    run = await send(_port(scaip_server), body, expect=400, warning=why)
    assert run.ok, run.errors
    [(reason, payload)] = _rows(
        database_url, "SELECT reason, payload FROM dead_letters WHERE topic LIKE 'scaip/%%'"
    )
    assert reason.startswith("malformed SCAIP message")
    assert why in reason
    assert payload.startswith(body[:10])


async def test_a_body_that_is_not_xml_typed_is_refused_with_415(
    scaip_server: CarewatchServer, database_url: str
) -> None:
    unit = _unit()
    _add_unit(database_url, unit, f"Di {unit}")
    run = await send(
        _port(scaip_server), mrq(unit, ref="t1"), unit=unit, content_type="text/plain", expect=415
    )
    assert run.ok, run.errors
    assert _rows(database_url, "SELECT id FROM alarms") == []
    assert len(_rows(database_url, "SELECT id FROM dead_letters WHERE topic LIKE 'scaip/%%'")) == 1


async def test_a_unit_missing_its_heartbeats_raises_a_technical_alert_cleared_when_back(
    scaip_server: CarewatchServer, database_url: str
) -> None:
    unit = _unit()
    _add_unit(database_url, unit, f"Ed {unit}", heartbeat_s=1)
    # Heard once, long ago: two heartbeats and the minute's slack have passed.
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE scaip_units SET last_heartbeat_at = now() - interval '5 minutes' WHERE id = %s",
            (unit,),
        )

    async def raised() -> list[tuple[Any, ...]]:
        return _rows(
            database_url,
            "SELECT severity, status, reason FROM alerts WHERE kind = 'alarm_unit_silent'",
        )

    [(severity, status, reason)] = await wait_for(raised, within=10, what="alarm_unit_silent")
    assert (severity, status) == ("technical", "open")
    assert f"unit {unit}" in reason
    run = await send(
        _port(scaip_server),
        mrq(unit, ref="hb2", device="0002", status=None, message_type="PI"),
        unit=unit,
    )
    assert run.ok, run.errors

    async def cleared() -> bool:
        return [r[1] for r in await raised()] == ["resolved"]

    await wait_for(cleared, within=10, what="the silence cleared")


async def test_a_units_fall_reaches_the_arc_over_dc09(database_url: str, mqtt_url: str) -> None:
    migrate(database_url)
    unit = _unit()
    _add_unit(database_url, unit, f"Flo {unit}")
    async with (
        ArcReceiver("0A12") as arc,
        running_server(database_url, mqtt_url, scaip_port=0, scaip_host="127.0.0.1") as server,
    ):
        async with server.pool.connection() as conn:
            await arc_sql.put_account(
                conn,
                ArcAccount(
                    service="default", account="0A12", primary=ReceiverPath("127.0.0.1", arc.port)
                ),
                key_text=None,
            )
        run = await send(
            _port(server), mrq(unit, ref="f1", device="0005", status="0009"), unit=unit
        )
        assert run.ok, run.errors
        await eventually(lambda: arc.events("MA"), "the ARC hearing the fall (SIA MA)")


async def test_over_tcp_the_answers_go_back_on_the_units_own_connection(
    scaip_server: CarewatchServer, database_url: str
) -> None:
    # A unit's Via names the port it listens on, not the connection's ephemeral one.
    unit = _unit()
    _add_unit(database_url, unit, f"Hal {unit}")
    body = mrq(unit, ref="c1").encode()
    head = (
        f"MESSAGE sip:arc@127.0.0.1:{_port(scaip_server)} SIP/2.0\r\n"
        "Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-tcp-1\r\n"
        f"From: <sip:{unit}@127.0.0.1:5999>;tag=u\r\nTo: <sip:arc@127.0.0.1>\r\n"
        "Call-ID: tcp-1\r\nCSeq: 1 MESSAGE\r\nContent-Type: application/scaip+xml\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", _port(scaip_server))
    try:
        writer.write(head + body)
        await writer.drain()
        async with asyncio.timeout(5):
            status = await reader.readuntil(b"\r\n\r\n")
            request = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"Content-Length: *(\d+)", request, re.IGNORECASE)[1])  # type: ignore[index]
            answer = await reader.readexactly(length)
    finally:
        writer.close()
    assert status.startswith(b"SIP/2.0 200 OK")
    assert request.startswith(b"MESSAGE sip:")
    assert b"<ref>c1</ref><snu>0</snu>" in answer

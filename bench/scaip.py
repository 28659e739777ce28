"""A pendant press from a SCAIP social-alarm unit and one from a carewatch hub, to the console and the ARC.

    .venv/bin/python -m bench.scaip                 # 100 presses of each
    .venv/bin/python -m bench.scaip --presses 20

One process: a carewatch server (SCAIP endpoint on, UDP) on a fresh database
of the machine's PostgreSQL and the machine's Mosquitto, and the test ARC
receiver (Home Assistant's pysiaalarm) on a local port, the service's ARC
account pointing at it. Presses alternate: a hub's pendant over MQTT, then a
unit's pendant in a SIP MESSAGE (the unit here is a plain UDP socket that
sends the SCAIP request and answers the server's SCAIP response 200 OK).
Each press is a new home's, so each raises a new emergency. Times are from
just before the press is sent to:

- "200 OK": the unit hears that its alarm is stored (SCAIP only);
- "alert raised": the alert's ``raised_at`` (its transaction's start on the
  database's clock, the same machine's): when the console's live feed can have it;
- "ARC": the receiver's callback with the acknowledged DC-09 event.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import time
import uuid
from datetime import UTC, datetime

import psycopg

from bench.dc09 import ACCOUNT, _summary
from edge.protocol import Alarm, AlarmKind, alarm_topic, encode
from server.domain.arc import ArcAccount, ReceiverPath
from server.runtime import CarewatchServer
from server.store import arc as arc_sql
from server.store.pool import migrate
from tests.infra import SYSTEM_MQTT, SYSTEM_POSTGRES_URL, fresh_database
from tests.server.arc_receiver import ArcReceiver
from tests.server.helpers import Publisher, provision, running_server


class _Unit(asyncio.DatagramProtocol):
    """A social-alarm unit's SIP side: sends MESSAGEs, notes final responses, answers requests."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.answered: dict[str, float] = {}
        self.heard = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport) or hasattr(transport, "sendto")
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        head, _, _ = data.partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        fields = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:])
        }
        if lines[0].startswith("SIP/2.0 "):
            if int(lines[0].split()[1]) >= 200:
                self.answered[fields.get("call-id", "")] = time.perf_counter()
                self.heard.set()
            return
        if lines[0].startswith("MESSAGE ") and self.transport is not None:
            # The receiver's SCAIP answer: a unit says 200 OK to it.
            reply = "\r\n".join(
                ["SIP/2.0 200 OK"]
                + [f"{k}: {fields[k]}" for k in ("via", "from", "call-id", "cseq") if k in fields]
                + [f"To: {fields.get('to', '')};tag=unit", "Content-Length: 0", "", ""]
            )
            self.transport.sendto(reply.encode(), (str(addr[0]), addr[1]))

    def press(self, port: int, unit: str, ref: str) -> str:
        """Send the unit's pendant alarm; returns the MESSAGE's Call-ID."""
        assert self.transport is not None
        local = self.transport.get_extra_info("sockname")
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><mrq><ref>{ref}</ref><ver>01.00</ver>'
            f"<cid>{unit}</cid><dty>0003</dty><mty>ME</mty><stc>0010</stc></mrq>"
        ).encode()
        call_id = f"{uuid.uuid4().hex}@127.0.0.1"
        head = (
            f"MESSAGE sip:arc@127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{local[1]};branch=z9hG4bK{uuid.uuid4().hex[:16]};rport\r\n"
            f"From: <sip:{unit}@127.0.0.1:{local[1]}>;tag={ref}\r\n"
            f"To: <sip:arc@127.0.0.1:{port}>\r\nCall-ID: {call_id}\r\nCSeq: 1 MESSAGE\r\n"
            "Max-Forwards: 70\r\nContent-Type: application/scaip+xml\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.transport.sendto(head.encode() + body, ("127.0.0.1", port))
        return call_id


async def _raised_at(server: CarewatchServer, resident: str) -> datetime:
    async with server.pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT a.raised_at FROM alerts a JOIN residents r ON r.id = a.resident_id"
            " WHERE r.name = %s",
            (resident,),
        )
        row = await cursor.fetchone()
    assert row is not None, f"no alert for {resident}"
    return row[0]  # type: ignore[no-any-return]


async def _run(presses: int, gap_s: float) -> dict[str, list[float]]:
    """Seconds from press to each point, for each press, by series."""
    mqtt_url = "mqtt://{}:{}".format(*SYSTEM_MQTT)
    times: dict[str, list[float]] = {
        k: [] for k in ("hub_raised", "hub_arc", "unit_ok", "unit_raised", "unit_arc")
    }
    with fresh_database(SYSTEM_POSTGRES_URL) as database_url:
        migrate(database_url)
        hubs = [f"bench-{uuid.uuid4().hex[:8]}" for _ in range(presses)]
        units = [str(4_600_000_000 + n) for n in range(presses)]
        for n, hub in enumerate(hubs):
            provision(database_url, hub, f"Hub resident {n}")
            provision(database_url, f"{hub}-u", f"Unit resident {n}")
        with psycopg.connect(database_url) as setup:
            for n, unit in enumerate(units):
                setup.execute(
                    "INSERT INTO scaip_units (id, resident_id)"
                    " SELECT %s, id FROM residents WHERE name = %s",
                    (unit, f"Unit resident {n}"),
                )
        async with (
            ArcReceiver(ACCOUNT) as arc,
            running_server(database_url, mqtt_url, scaip_port=0, scaip_host="127.0.0.1") as server,
        ):
            assert server.scaip is not None
            async with server.pool.connection() as conn:
                await arc_sql.put_account(
                    conn,
                    ArcAccount(
                        service="default",
                        account=ACCOUNT,
                        primary=ReceiverPath("127.0.0.1", arc.port),
                    ),
                    key_text=None,
                )
            loop = asyncio.get_running_loop()
            transport, unit_side = await loop.create_datagram_endpoint(
                _Unit, local_addr=("127.0.0.1", 0)
            )
            publisher = Publisher(mqtt_url)

            async def arc_heard(before: int) -> float:
                async with asyncio.timeout(10):
                    while len(arc.events("QA")) == before:
                        await arc.arrived.wait()
                        arc.arrived.clear()
                return arc.events("QA")[-1].at

            try:
                for n in range(presses):
                    # A hub's pendant, over MQTT.
                    arc.arrived.clear()
                    before = len(arc.events("QA"))
                    alarm = Alarm(
                        hubs[n], str(uuid.uuid4()), "pendant", AlarmKind.PENDANT, datetime.now(UTC)
                    )
                    start, pressed_at = time.perf_counter(), datetime.now(UTC)
                    # Off the event loop: the server shares it, and must not wait for our PUBACK.
                    await asyncio.to_thread(publisher.publish, alarm_topic(hubs[n]), encode(alarm))
                    times["hub_arc"].append(await arc_heard(before) - start)
                    raised = await _raised_at(server, f"Hub resident {n}")
                    times["hub_raised"].append((raised - pressed_at).total_seconds())
                    await asyncio.sleep(gap_s)
                    # A SCAIP unit's pendant, in a SIP MESSAGE.
                    arc.arrived.clear()
                    before = len(arc.events("QA"))
                    start, pressed_at = time.perf_counter(), datetime.now(UTC)
                    call_id = unit_side.press(server.scaip.port, units[n], f"p{n}")
                    times["unit_arc"].append(await arc_heard(before) - start)
                    async with asyncio.timeout(10):
                        while call_id not in unit_side.answered:
                            await unit_side.heard.wait()
                            unit_side.heard.clear()
                    times["unit_ok"].append(unit_side.answered[call_id] - start)
                    raised = await _raised_at(server, f"Unit resident {n}")
                    times["unit_raised"].append((raised - pressed_at).total_seconds())
                    await asyncio.sleep(gap_s)
            finally:
                publisher.close()
                transport.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--presses", type=int, default=100, help="presses of each kind")
    parser.add_argument("--gap-s", type=float, default=0.1, help="pause between presses")
    args = parser.parse_args()
    print(
        f"{platform.node()}: {platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    times = asyncio.run(_run(args.presses, args.gap_s))
    print("| pendant from | presses | → 200 OK to the unit | → alert raised | → ARC acknowledged |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| carewatch hub (MQTT) | {len(times['hub_arc'])} | n/a | {_summary(times['hub_raised'])}"
        f" | {_summary(times['hub_arc'])} |"
    )
    print(
        f"| SCAIP unit (SIP MESSAGE, UDP) | {len(times['unit_arc'])} | {_summary(times['unit_ok'])}"
        f" | {_summary(times['unit_raised'])} | {_summary(times['unit_arc'])} |"
    )
    print("(p50 / p99 / max)")


if __name__ == "__main__":
    main()

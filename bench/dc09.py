"""DC-09 forwarding benchmark: a pendant press → MQTT → carewatch → SIA DC-09 → an ARC's receiver.

    .venv/bin/python -m bench.dc09                 # 100 presses, clear and encrypted
    .venv/bin/python -m bench.dc09 --presses 20

One process: a carewatch server on a fresh database of the machine's
PostgreSQL and the machine's Mosquitto, and the test ARC receiver (Home
Assistant's pysiaalarm) on a local port. Each press is a new home's pendant,
so each raises a new emergency; the time is from just before the hub's
publish to the receiver's callback with the acknowledged event. Presses are
spaced so they do not queue behind each other. "Alert raised" is the
alert's ``raised_at`` (its transaction's start on the database's clock, the
same machine's) less the press: when the console's live stream can have it.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import time
import uuid
from datetime import UTC, datetime

from edge.protocol import Alarm, AlarmKind, alarm_topic, encode
from server.domain.arc import ArcAccount, ReceiverPath, key_bytes
from server.store import arc as arc_sql
from server.store.pool import migrate
from tests.infra import SYSTEM_MQTT, SYSTEM_POSTGRES_URL, fresh_database
from tests.server.arc_receiver import ArcReceiver
from tests.server.helpers import Publisher, provision, running_server

ACCOUNT = "0A12"
KEY = "ABCDEF0123456789"


def _percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _run(presses: int, *, encrypted: bool, gap_s: float) -> tuple[list[float], list[float]]:
    """(press → ARC callback, press → alert committed) in seconds, for each press."""
    mqtt_url = "mqtt://{}:{}".format(*SYSTEM_MQTT)
    with fresh_database(SYSTEM_POSTGRES_URL) as database_url:
        migrate(database_url)
        hubs = [f"bench-{uuid.uuid4().hex[:8]}" for _ in range(presses)]
        for n, hub in enumerate(hubs):
            provision(database_url, hub, f"Bench resident {n}")
        key = KEY if encrypted else None
        async with (
            ArcReceiver(ACCOUNT, key=key) as arc,
            running_server(database_url, mqtt_url) as server,
        ):
            async with server.pool.connection() as conn:
                await arc_sql.put_account(
                    conn,
                    ArcAccount(
                        service="default",
                        account=ACCOUNT,
                        primary=ReceiverPath("127.0.0.1", arc.port),
                        key=key_bytes(KEY) if encrypted else None,
                    ),
                    key_text=key,
                )
            publisher = Publisher(mqtt_url)
            latencies: list[float] = []
            raised: list[float] = []
            try:
                for hub in hubs:
                    arc.arrived.clear()
                    before = len(arc.events("QA"))
                    alarm = Alarm(
                        hub, str(uuid.uuid4()), "pendant", AlarmKind.PENDANT, datetime.now(UTC)
                    )
                    start = time.perf_counter()
                    pressed_at = datetime.now(UTC)
                    # Off the event loop: the server shares it, and must not wait for our PUBACK.
                    await asyncio.to_thread(publisher.publish, alarm_topic(hub), encode(alarm))
                    async with asyncio.timeout(10):
                        while len(arc.events("QA")) == before:
                            await arc.arrived.wait()
                            arc.arrived.clear()
                    latencies.append(arc.events("QA")[-1].at - start)
                    async with server.pool.connection() as conn:
                        cursor = await conn.execute(
                            "SELECT raised_at FROM alerts WHERE hub_id = %s", (hub,)
                        )
                        row = await cursor.fetchone()
                    assert row is not None
                    raised.append((row[0] - pressed_at).total_seconds())
                    await asyncio.sleep(gap_s)
            finally:
                publisher.close()
    return latencies, raised


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--presses", type=int, default=100)
    parser.add_argument("--gap-s", type=float, default=0.1, help="pause between presses")
    args = parser.parse_args()
    print(
        f"{platform.node()}: {platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(
        "| account | presses | press → alert raised, p50 / p99 / max"
        " | press → ARC acknowledged, p50 / p99 / max |"
    )
    print("| --- | --- | --- | --- |")
    for encrypted in (False, True):
        latencies, raised = asyncio.run(_run(args.presses, encrypted=encrypted, gap_s=args.gap_s))
        print(
            f"| {'AES-128' if encrypted else 'clear'} | {len(latencies)} | {_summary(raised)}"
            f" | {_summary(latencies)} |"
        )


def _summary(seconds: list[float]) -> str:
    """p50 / p99 / max in milliseconds."""
    ms = [1000 * x for x in seconds]
    return f"{_percentile(ms, 0.5):.0f} ms / {_percentile(ms, 0.99):.0f} ms / {max(ms):.0f} ms"


if __name__ == "__main__":
    main()

"""What saving Mosquitto's database after every change costs: ``python -m tests.deploy.autosave_cost``.

With the deployment's config as shipped (autosave_on_changes, interval 1) and
with Mosquitto's default (a save every 30 minutes), while the server's session
is away with ``DEPTH`` messages already queued for it: a hub's PUBACK latency
(one message at a time, as an alarm goes) and throughput (20 in flight, paho's
default; and 50 hubs at once, one message at a time each), then how long the server's session takes to drain the queue when it
comes back. Last, how often a kill right after a PUBACK loses that message:
the window the shipped setting leaves. Figures go to docs/deployment.md.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time

from tests.deploy.broker import (
    SERVER_ACCOUNT,
    Broker,
    Session,
    connect,
    deployment_broker,
    deployment_conf,
)

SERVER_PASSWORD = "server-password-for-measuring"
SESSION = "carewatch-server"
TOPIC = "carewatch/v1/hubs/hub-a/readings"
PAYLOAD = b'{"v": 1, "hub": "hub-a", "readings": [' + b"x" * 450 + b"]}"  # a typical batch
SHIPPED = ("autosave_on_changes true\n", "autosave_interval 1\n")
MANY_HUBS = 50


def _default(conf: str) -> str:
    """The conf without the autosave lines: Mosquitto saves every 1800 s."""
    for line in SHIPPED:
        assert line in conf, f"the shipped conf no longer has {line!r}"
        conf = conf.replace(line, "")
    return conf


def _session(result: Session | str) -> Session:
    assert isinstance(result, Session), result
    return result


def _hub(broker: Broker) -> Session:
    return _session(
        connect(broker.tls_port, "hub-a", "password-a", tls=True, ca_file=broker.ca_file)
    )


def _server(broker: Broker, *, subscribe: bool = True) -> Session:
    return _session(
        connect(
            broker.plain_port,
            SERVER_ACCOUNT,
            SERVER_PASSWORD,
            client_id=SESSION,
            clean_start=False,
            subscribe="carewatch/v1/hubs/+/readings" if subscribe else None,
        )
    )


def _fill(hub: Session, count: int) -> float:
    """Publish ``count`` messages with paho's 20 in flight; messages a second."""
    begin = time.monotonic()
    for start in range(0, count, 1000):  # in chunks: paho's own queue is bounded
        infos = [hub.client.publish(TOPIC, PAYLOAD, qos=1) for _ in range(min(1000, count - start))]
        for info in infos:
            info.wait_for_publish(600)
    return count / (time.monotonic() - begin)


def _latencies(hub: Session, count: int) -> list[float]:
    out = []
    for _ in range(count):
        begin = time.monotonic()
        assert hub.publish(TOPIC, PAYLOAD, timeout_s=600)
        out.append(time.monotonic() - begin)
    return out


def _many(broker: Broker, hubs: list[str], each: int) -> float:
    """Every hub sends ``each`` messages one at a time, all at once; messages a second in all."""
    sessions = [
        _session(connect(broker.tls_port, hub, f"pw-{hub}", tls=True, ca_file=broker.ca_file))
        for hub in hubs
    ]

    def send(hub: str, session: Session) -> None:
        for _ in range(each):
            assert session.publish(f"carewatch/v1/hubs/{hub}/readings", PAYLOAD, timeout_s=600)

    threads = [
        threading.Thread(target=send, args=pair) for pair in zip(hubs, sessions, strict=True)
    ]
    begin = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - begin
    for session in sessions:
        session.close()
    return len(hubs) * each / elapsed


def measure(depth: int, *, shipped: bool, samples: int) -> dict[str, float]:
    """One row of the table: queue depth, setting, latency, throughput, drain time."""
    many = [f"hub-{i:02}" for i in range(MANY_HUBS)]
    accounts = {"hub-a": "password-a", **{hub: f"pw-{hub}" for hub in many}}
    with deployment_broker(SERVER_PASSWORD, accounts, edit_conf=_default) as broker:
        _server(broker).close()
        hub = _hub(broker)
        _fill(hub, depth)  # quickly, without saves
        hub.close()
        broker.stop()  # SIGTERM saves the queue; start again with the setting measured
        conf = deployment_conf(broker.directory, broker.plain_port, broker.tls_port)
        (broker.directory / "mosquitto.conf").write_text(conf if shipped else _default(conf))
        broker.start()
        hub = _hub(broker)
        latency = _latencies(hub, samples)
        rate = _fill(hub, samples * 5)
        hub.close()
        each = max(1, samples // 10)
        together = _many(broker, many, each)
        queued = depth + samples * 6 + MANY_HUBS * each
        begin = time.monotonic()
        server = _server(broker)
        got = len(server.wait_for(queued, timeout_s=1800))
        drain = time.monotonic() - begin
        server.close()
        assert got == queued, f"drained {got} of {queued}"
        return {
            "p50_ms": statistics.median(latency) * 1000,
            "p95_ms": statistics.quantiles(latency, n=20)[-1] * 1000,
            "per_s": rate,
            "many_per_s": together,
            "drain_s": drain,
            "db_mb": broker.database.stat().st_size / 1e6,
        }


def window(trials: int) -> int:
    """Kill the broker right after a PUBACK ``trials`` times; how many of those messages were lost."""
    lost = 0
    with deployment_broker(SERVER_PASSWORD, {"hub-a": "password-a"}) as broker:
        for trial in range(trials):
            _server(broker).close()
            hub = _hub(broker)
            payload = f"trial-{trial}".encode()
            assert hub.publish(TOPIC, payload)
            broker.kill()
            hub.close()
            broker.start()
            server = _server(broker)
            received = server.wait_for(1, timeout_s=2)
            server.close()
            lost += payload not in received
            _session(
                connect(broker.plain_port, SERVER_ACCOUNT, SERVER_PASSWORD, client_id=SESSION)
            ).close()
    return lost


def main() -> None:
    """Print the table for docs/deployment.md."""
    depths = [int(a) for a in sys.argv[1:]] or [0, 10_000]
    print(
        "| queued | setting | PUBACK p50 | p95 | one hub, 20 in flight "
        f"| {MANY_HUBS} hubs, one at a time each | drain | db |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for depth in depths:
        for shipped in (False, True):
            # Fewer samples where each save is large: the figures settle quickly.
            row = measure(depth, shipped=shipped, samples=100 if depth <= 10_000 else 20)
            setting = "on every change" if shipped else "every 30 min (default)"
            print(
                f"| {depth:,} | {setting} | {row['p50_ms']:.1f} ms | {row['p95_ms']:.1f} ms "
                f"| {row['per_s']:,.0f}/s | {row['many_per_s']:,.0f}/s "
                f"| {row['drain_s']:.1f} s | {row['db_mb']:.1f} MB |",
                flush=True,
            )
    trials = 20
    print(f"killed right after a PUBACK: {window(trials)} of {trials} messages lost")


if __name__ == "__main__":
    main()

"""The hub agent against a real broker: store and forward, alarms at once, status and last will."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from edge.agent.agent import Agent
from edge.agent.drivers import AlarmTrigger, DriverEvent
from edge.agent.outbox import Outbox
from edge.agent.schedule import FlushPolicy
from edge.protocol import (
    Alarm,
    AlarmAck,
    AlarmKind,
    HubConfig,
    HubState,
    HubStatus,
    Reading,
    ReadingKind,
    ReadingsBatch,
    SensorSpec,
    alarm_ack_topic,
    config_topic,
    encode,
)
from server.embedded import EmbeddedBroker
from server.embedded._broker import free_port
from tests.edge.helpers import Recorder, ScriptedDriver, eventually
from tests.infra import mqtt_protocol
from tests.server.helpers import Publisher, forget_session, unique_hub

NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - timedelta(hours=1)


def _readings(n: int) -> list[Reading]:
    return [
        Reading("kitchen-pir", ReadingKind.MOTION, T0 + timedelta(seconds=30 * i), 1.0)
        for i in range(n)
    ]


@contextmanager
def running(agent: Agent) -> Iterator[Agent]:
    stop = threading.Event()
    agent.start()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield agent
    finally:
        stop.set()
        thread.join(10)
        agent.stop()


def _agent(hub: str, mqtt_url: str, tmp_path: Path, events: list[DriverEvent]) -> Agent:
    return Agent(
        hub_id=hub,
        driver=ScriptedDriver(events),
        outbox_path=tmp_path / f"{hub}.sqlite3",
        mqtt_url=mqtt_url,
        clock=lambda: NOW,
        flush=FlushPolicy(max_readings=20, max_delay_s=0.1),
        tick_s=0.02,
        mqtt_protocol=mqtt_protocol(mqtt_url),
    )


def _delivered(recorder: Recorder) -> list[Reading]:
    return [r for b in recorder.of_type(ReadingsBatch) for r in b.readings]


def test_readings_reach_the_broker_in_numbered_batches_and_leave_the_outbox(
    mqtt_url: str, tmp_path: Path
) -> None:
    hub = unique_hub()
    recorder = Recorder(mqtt_url, hub)
    try:
        with running(_agent(hub, mqtt_url, tmp_path, list(_readings(70)))) as agent:
            eventually(lambda: len(_delivered(recorder)) >= 70, what="70 readings delivered")
            eventually(lambda: agent.outbox.depth() == 0, what="outbox emptied by PUBACKs")
        batches = recorder.of_type(ReadingsBatch)
        seqs = [b.seq for b in batches]
        assert seqs == sorted(set(seqs))
        assert sorted(r.ts for r in _delivered(recorder)) == [r.ts for r in _readings(70)]
        statuses = recorder.of_type(HubStatus)
        online = [s for s in statuses if s.state is HubState.ONLINE]
        assert online
        assert online[0].sensors[0].battery == 80.0
        eventually(
            lambda: recorder.of_type(HubStatus)[-1].state is HubState.OFFLINE,
            what="offline status on stop",
        )
    finally:
        recorder.close()


def test_every_reading_before_a_heartbeats_watermark_was_delivered_ahead_of_it(
    mqtt_url: str, tmp_path: Path
) -> None:
    hub = unique_hub()
    recorder = Recorder(mqtt_url, hub)
    started = time.monotonic()
    agent = Agent(
        hub_id=hub,
        driver=ScriptedDriver(_readings(200)),
        outbox_path=tmp_path / f"{hub}.sqlite3",
        mqtt_url=mqtt_url,
        # An hour of readings replayed in two seconds, heartbeats every simulated minute.
        clock=lambda: T0 + timedelta(seconds=(time.monotonic() - started) * 1800),
        heartbeat_s=60,
        flush=FlushPolicy(max_readings=7, max_delay_s=0.05),
        tick_s=0.01,
        mqtt_protocol=mqtt_protocol(mqtt_url),
    )
    try:
        with running(agent):
            eventually(lambda: len(_delivered(recorder)) == 200, what="readings delivered")
        delivered: list[datetime] = []
        heartbeats = 0
        for message in list(recorder.messages):
            if isinstance(message, ReadingsBatch):
                delivered.extend(r.ts for r in message.readings)
            elif isinstance(message, HubStatus) and message.watermark is not None:
                heartbeats += 1
                due = [r.ts for r in _readings(200) if r.ts <= message.watermark]
                assert sorted(delivered)[: len(due)] == due, "watermark ran ahead of delivery"
        assert heartbeats > 5
    finally:
        recorder.close()


def test_readings_wait_in_the_outbox_while_the_broker_is_down(tmp_path: Path) -> None:
    hub = unique_hub()
    port = free_port()
    url = f"mqtt://127.0.0.1:{port}"
    with running(_agent(hub, url, tmp_path, list(_readings(30)))) as agent:
        eventually(lambda: agent.outbox.depth() == 30, what="readings stored while offline")
        assert not agent.connected
        with EmbeddedBroker(port=port):
            recorder = Recorder(url, hub)
            try:
                eventually(
                    lambda: agent.outbox.depth() == 0, within=20, what="outbox drained on reconnect"
                )
                assert sorted(r.ts for r in _delivered(recorder)) == [r.ts for r in _readings(30)]
            finally:
                recorder.close()


def test_a_restarted_hub_resends_unacknowledged_batches_under_the_same_seq(
    mqtt_url: str, tmp_path: Path
) -> None:
    hub = unique_hub()
    # Before the restart the batch was numbered but its PUBACK never came.
    box = Outbox(tmp_path / f"{hub}.sqlite3", hub=hub)
    box.add_readings(_readings(3))
    lost = box.assign_batch(max_readings=10, sent_at=T0)
    box.close()
    assert lost is not None

    recorder = Recorder(mqtt_url, hub)
    try:
        with running(_agent(hub, mqtt_url, tmp_path, [])) as agent:
            eventually(lambda: agent.outbox.depth() == 0, what="old batch acknowledged")
        assert recorder.of_type(ReadingsBatch) == [lost]
    finally:
        recorder.close()


def test_an_alarm_goes_out_at_once_even_behind_a_backlog(mqtt_url: str, tmp_path: Path) -> None:
    hub = unique_hub()
    press = AlarmTrigger("pendant", AlarmKind.PENDANT, NOW - timedelta(seconds=5))
    agent = _agent(hub, mqtt_url, tmp_path, [*_readings(500), press])
    recorder = Recorder(mqtt_url, hub)
    try:
        with running(agent):
            eventually(lambda: bool(recorder.of_type(Alarm)), what="the alarm published")
            eventually(lambda: agent.outbox.depth() == 1, what="readings acknowledged")
            # No server here: the broker's PUBACK alone does not let the alarm go.
            assert len(agent.outbox.pending_alarms()) == 1
            [alarm] = agent.outbox.pending_alarms()
            server = Publisher(mqtt_url)  # the server, telling the hub the alarm is stored
            server.publish(alarm_ack_topic(hub), encode(AlarmAck(hub, (alarm.id,))))
            server.close()
            eventually(lambda: agent.outbox.depth() == 0, what="alarm confirmed")
        alarms = recorder.of_type(Alarm)
        assert len(alarms) == 1
        assert alarms[0].kind is AlarmKind.PENDANT
        first_batch = next(
            i for i, m in enumerate(recorder.messages) if isinstance(m, ReadingsBatch)
        )
        assert recorder.messages.index(alarms[0]) < first_batch
    finally:
        recorder.close()


def test_the_servers_retained_config_is_applied_and_kept(mqtt_url: str, tmp_path: Path) -> None:
    hub = unique_hub()
    config = encode(HubConfig(heartbeat_s=5, sensors=(SensorSpec("hall-pir", "motion", "hall"),)))
    Publisher(mqtt_url).publish(config_topic(hub), config, retain=True)
    try:
        with running(_agent(hub, mqtt_url, tmp_path, [])) as agent:
            eventually(lambda: agent.config is not None, what="the config applied")
            assert agent.config is not None
            assert agent.config.heartbeat_s == 5
        # Offline at the next start (no broker there), the hub still knows its config.
        offline = _agent(hub, f"mqtt://127.0.0.1:{free_port()}", tmp_path, [])
        assert offline.config is not None
        assert offline.config.sensors[0].sensor == "hall-pir"
        offline.stop()
    finally:
        Publisher(mqtt_url).publish(config_topic(hub), b"", retain=True)  # clear it
        forget_session(mqtt_url, hub)


def test_the_heartbeat_reports_the_rooms_of_the_servers_map(mqtt_url: str, tmp_path: Path) -> None:
    # The hub's own file says kitchen; the admin moved the sensor to the lounge on the server.
    hub = unique_hub()
    config = HubConfig(heartbeat_s=60, sensors=(SensorSpec("kitchen-pir", "motion", "lounge"),))
    Publisher(mqtt_url).publish(config_topic(hub), encode(config), retain=True)
    try:
        with running(_agent(hub, mqtt_url, tmp_path, [])) as agent:
            eventually(lambda: agent.config is not None, what="the config applied")
        # Started again (the test's clock stands still, so one heartbeat a start).
        recorder = Recorder(mqtt_url, hub)
        try:
            with running(_agent(hub, mqtt_url, tmp_path, [])):

                def rooms() -> list[str | None]:
                    return [
                        s.room for status in recorder.of_type(HubStatus) for s in status.sensors
                    ]

                eventually(lambda: bool(rooms()), what="a heartbeat")
                assert rooms()[-1] == "lounge"
        finally:
            recorder.close()
    finally:
        Publisher(mqtt_url).publish(config_topic(hub), b"", retain=True)  # clear it
        forget_session(mqtt_url, hub)

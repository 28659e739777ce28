"""The hub keeps an alarm until the server confirms it: the agent driven with a fake link and clock.

No broker, no sleeping: the link's events are put on its queue by hand and
time is moved by the test, so each step's decision is seen.
"""

from __future__ import annotations

import json
import queue
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from edge.agent.agent import Agent
from edge.agent.drivers import AlarmTrigger, DriverEvent
from edge.agent.link import Acknowledged, AlarmAckReceived, Connected, Disconnected, LinkEvent
from edge.agent.schedule import AlarmResend, FlushPolicy
from edge.protocol import (
    AlarmAck,
    AlarmKind,
    Reading,
    ReadingKind,
    alarm_topic,
    encode,
    readings_topic,
)
from tests.edge.helpers import ScriptedDriver

HUB = "hub-confirm"
T0 = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


@dataclass
class FakeLink:
    """Records what the agent publishes; the test says when the broker connects and acknowledges."""

    events: queue.Queue[LinkEvent] = field(default_factory=queue.Queue)
    connected: bool = False
    published: list[tuple[int, str, bytes]] = field(default_factory=list)

    def start(self) -> None:
        pass

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> int | None:
        if not self.connected:
            return None
        mid = len(self.published) + 1
        self.published.append((mid, topic, payload))
        return mid

    def stop(self, *, last_words: tuple[str, bytes] | None = None) -> None:
        self.connected = False

    def connect(self) -> None:
        self.connected = True
        self.events.put(Connected())

    def drop(self) -> None:
        self.connected = False
        self.events.put(Disconnected("broker gone"))

    def alarms(self) -> list[tuple[int, str]]:
        """(mid, alarm id) of every alarm published, in order."""
        return [
            (mid, json.loads(payload)["id"])
            for mid, topic, payload in self.published
            if topic == alarm_topic(HUB)
        ]


class Times:
    """The hub's clock and its monotonic clock, moved together by the test."""

    def __init__(self) -> None:
        self.elapsed = 0.0

    def clock(self) -> datetime:
        return T0 + timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return 1000.0 + self.elapsed


def _agent(tmp_path: Path, link: FakeLink, times: Times, events: list[DriverEvent]) -> Agent:
    return Agent(
        hub_id=HUB,
        driver=ScriptedDriver(events),
        outbox_path=tmp_path / "outbox.sqlite3",
        mqtt_url="mqtt://unused.invalid:1883",
        clock=times.clock,
        monotonic=times.monotonic,
        flush=FlushPolicy(max_readings=1, max_delay_s=0.0),
        alarm_resend=AlarmResend(first_s=30.0, cap_s=120.0),
        link=link,
    )


def _press(at: datetime = T0) -> AlarmTrigger:
    return AlarmTrigger("pendant", AlarmKind.PENDANT, at)


def _confirm(link: FakeLink, *ids: str) -> None:
    link.events.put(AlarmAckReceived(encode(AlarmAck(HUB, ids))))


def test_an_acknowledged_alarm_is_kept_and_sent_again_until_the_server_confirms_it(
    tmp_path: Path,
) -> None:
    link, times = FakeLink(), Times()
    agent = _agent(tmp_path, link, times, [_press()])
    link.connect()
    agent.step()
    [(mid, alarm_id)] = link.alarms()
    link.events.put(Acknowledged(mid))
    agent.step()
    assert [a.id for a in agent.outbox.pending_alarms()] == [alarm_id], "kept after its PUBACK"

    times.elapsed = 29.9
    agent.step()
    assert len(link.alarms()) == 1
    times.elapsed = 30.0
    agent.step()
    assert [a for _, a in link.alarms()] == [alarm_id, alarm_id], "sent again, same id"
    # The wait doubles (up to the cap): 60 s after the second send.
    times.elapsed = 89.0
    agent.step()
    assert len(link.alarms()) == 2
    times.elapsed = 90.0
    agent.step()
    assert len(link.alarms()) == 3

    _confirm(link, alarm_id)
    agent.step()
    assert agent.outbox.pending_alarms() == []
    assert agent.outbox.depth() == 0
    assert agent.alarms_confirmed == 1
    times.elapsed = 3600.0
    agent.step()
    assert len(link.alarms()) == 3, "nothing sent after the confirmation"


def test_an_alarm_due_again_goes_out_ahead_of_waiting_readings(tmp_path: Path) -> None:
    link, times = FakeLink(), Times()
    reading = Reading("hall-pir", ReadingKind.MOTION, T0 + timedelta(seconds=30), 1.0)
    agent = _agent(tmp_path, link, times, [_press(), reading])
    link.connect()
    agent.step()
    times.elapsed = 30.0
    agent.step()
    topics = [topic for _, topic, _ in link.published if topic != f"carewatch/v1/hubs/{HUB}/status"]
    assert topics == [alarm_topic(HUB), alarm_topic(HUB), readings_topic(HUB)]


def test_an_unconfirmed_alarm_survives_a_restart_and_goes_first_on_reconnect(
    tmp_path: Path,
) -> None:
    link, times = FakeLink(), Times()
    agent = _agent(tmp_path, link, times, [_press()])
    link.connect()
    agent.step()
    [(mid, alarm_id)] = link.alarms()
    link.events.put(Acknowledged(mid))
    agent.step()
    agent.stop()  # power cut, or an upgrade

    again, times = FakeLink(), Times()
    restarted = _agent(tmp_path, again, times, [])
    restarted.step()
    assert again.alarms() == [], "nothing sent while the broker is away"
    again.connect()
    restarted.step()
    assert [a for _, a in again.alarms()] == [alarm_id]
    _confirm(again, alarm_id)
    restarted.step()
    assert restarted.outbox.pending_alarms() == []


def test_a_reconnect_sends_every_unconfirmed_alarm_at_once(tmp_path: Path) -> None:
    link, times = FakeLink(), Times()
    agent = _agent(tmp_path, link, times, [_press(), _press(T0 + timedelta(seconds=1))])
    link.connect()
    times.elapsed = 1.0
    agent.step()
    first = [a for _, a in link.alarms()]
    assert len(first) == 2
    for mid, _ in link.alarms():
        link.events.put(Acknowledged(mid))
    agent.step()
    link.drop()
    agent.step()
    times.elapsed = 2.0  # well before any resend is due
    link.connect()
    agent.step()
    assert [a for _, a in link.alarms()] == first + first, "the broker may have lost both"
    _confirm(link, *first)
    agent.step()
    assert agent.outbox.depth() == 0


def test_a_confirmation_the_hub_cannot_read_confirms_nothing(tmp_path: Path) -> None:
    link, times = FakeLink(), Times()
    agent = _agent(tmp_path, link, times, [_press()])
    link.connect()
    agent.step()
    [(_, alarm_id)] = link.alarms()
    link.events.put(AlarmAckReceived(b'{"v": 1, "hub": "another-hub", "ids": ["x"]}'))
    link.events.put(AlarmAckReceived(b"not json"))
    _confirm(link, "some-other-alarm")
    agent.step()
    assert [a.id for a in agent.outbox.pending_alarms()] == [alarm_id]
    assert agent.alarms_confirmed == 0


def test_an_alarm_never_confirmed_is_let_go_a_day_after_the_broker_had_it(
    tmp_path: Path,
) -> None:
    # A server of the version before confirmations stores the alarm and never says so.
    link, times = FakeLink(), Times()
    agent = _agent(tmp_path, link, times, [_press(), _press(T0 + timedelta(seconds=5))])
    link.connect()
    agent.step()
    [(mid, acknowledged)] = link.alarms()
    link.events.put(Acknowledged(mid))
    agent.step()
    link.drop()  # the second press never reaches this broker
    times.elapsed = 5.0
    agent.step()

    times.elapsed = 24 * 3600.0 - 1
    link.connect()  # both sent again; no PUBACK for the second yet
    agent.step()
    assert len(link.alarms()) == 3
    assert len(agent.outbox.pending_alarms()) == 2
    times.elapsed = 24 * 3600.0
    agent.step()
    # Only the broker's PUBACK starts the day: an alarm it never had is kept however long.
    [kept] = agent.outbox.pending_alarms()
    assert kept.id != acknowledged

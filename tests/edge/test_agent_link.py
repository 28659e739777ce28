"""The agent's own decisions, driven through a fake ``Link`` instead of a broker.

What the hub publishes, in what order, what it keeps, and what it sends again
after a reconnect are the agent's (``edge/agent/agent.py``); the broker only
carries them. A fake link records every publish and hands the agent the
events a broker would (connected, PUBACK, dropped, config, confirmation), so
these run in milliseconds and fail on the agent's logic alone.
"""

from __future__ import annotations

import itertools
import queue
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Generic, TypeVar, cast

from edge.agent.agent import Agent
from edge.agent.drivers import AlarmTrigger, DriverEvent
from edge.agent.link import (
    Acknowledged,
    AlarmAckReceived,
    ConfigReceived,
    Connected,
    Disconnected,
    Link,
    LinkEvent,
)
from edge.agent.schedule import AlarmResend, FlushPolicy
from edge.protocol import (
    Alarm,
    AlarmAck,
    AlarmKind,
    HubConfig,
    HubState,
    HubStatus,
    Message,
    Reading,
    ReadingKind,
    ReadingsBatch,
    SensorSpec,
    encode,
    parse_message,
)
from tests.edge.helpers import ScriptedDriver

M = TypeVar("M", bound=Message)
M_co = TypeVar("M_co", bound=Message, covariant=True)

HUB = "hub-fake-0001"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@dataclass(slots=True, frozen=True)
class Sent(Generic[M_co]):
    mid: int
    message: M_co
    retain: bool


class FakeLink:
    """A link whose broker is this object: publishes are recorded, events are queued by hand."""

    def __init__(self) -> None:
        self.events: queue.Queue[LinkEvent] = queue.Queue()
        self.up = False
        self.sent: list[Sent[Message]] = []
        self.started = False
        self.last_words: tuple[str, bytes] | None = None
        self._mids = itertools.count(1)

    @property
    def connected(self) -> bool:
        return self.up

    def start(self) -> None:
        self.started = True

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> int | None:
        if not self.up:
            return None  # as paho: not queued while the session is down
        mid = next(self._mids)
        self.sent.append(Sent(mid, parse_message(topic, payload), retain))
        return mid

    def stop(self, *, last_words: tuple[str, bytes] | None = None) -> None:
        self.last_words = last_words

    def connect(self) -> None:
        self.up = True
        self.events.put(Connected())

    def drop(self) -> None:
        self.up = False
        self.events.put(Disconnected("test dropped the link"))

    def ack(self, *sent: Sent[Message]) -> None:
        for one in sent:
            self.events.put(Acknowledged(one.mid))

    def of_type(self, kind: type[M]) -> list[M]:
        return [s.message for s in self.sent if isinstance(s.message, kind)]

    def sends(self, kind: type[M]) -> list[Sent[M]]:
        return [cast(Sent[M], s) for s in self.sent if isinstance(s.message, kind)]


def _link_protocol_is_met(link: FakeLink) -> Link:
    return link  # mypy checks that FakeLink is a Link


class MovableDriver(ScriptedDriver):
    """A scripted driver that can be handed more events as a test goes on."""

    def __init__(self, events: Sequence[DriverEvent] = ()) -> None:
        super().__init__(events)
        self._more: list[DriverEvent] = []

    def add(self, *events: DriverEvent) -> None:
        self._more.extend(events)

    def poll(self, now: datetime) -> Sequence[DriverEvent]:
        found = [*super().poll(now), *self._more]
        self._more.clear()
        return found


def _readings(n: int, start: int = 0) -> list[Reading]:
    return [
        Reading("kitchen-pir", ReadingKind.MOTION, NOW - timedelta(minutes=60 - i), 1.0)
        for i in range(start, start + n)
    ]


def _agent(tmp_path: Path, link: FakeLink, driver: MovableDriver, *, in_flight: int = 8) -> Agent:
    return Agent(
        hub_id=HUB,
        driver=driver,
        outbox_path=tmp_path / "outbox.sqlite3",
        mqtt_url="mqtt://unused.invalid:1883",
        clock=lambda: NOW,
        # Every reading waiting is due at once: the tests decide when by stepping.
        flush=FlushPolicy(max_readings=10, max_delay_s=0.0),
        max_batches_in_flight=in_flight,
        monotonic=lambda: 0.0,
        alarm_resend=AlarmResend(first_s=30.0, cap_s=120.0),
        link=_link_protocol_is_met(link),
    )


def _seqs(link: FakeLink) -> list[int]:
    return [b.seq for b in link.of_type(ReadingsBatch)]


def test_readings_wait_in_the_outbox_until_the_session_is_up(tmp_path: Path) -> None:
    link, driver = FakeLink(), MovableDriver(_readings(25))
    agent = _agent(tmp_path, link, driver)
    agent.start()
    assert link.started
    agent.step()
    agent.step()
    assert link.sent == [], "nothing may be published before the broker accepts the session"
    assert agent.outbox.depth() == 25
    assert not agent.connected

    link.connect()
    agent.step()
    assert agent.connected
    batches = link.of_type(ReadingsBatch)
    assert [len(b.readings) for b in batches] == [10, 10, 5]
    assert [r for b in batches for r in b.readings] == _readings(25), "in the order read"
    assert _seqs(link) == sorted(_seqs(link))
    assert len(set(_seqs(link))) == 3
    # The heartbeat comes after the readings it vouches for, with a watermark before them.
    status = link.sends(HubStatus)
    assert len(status) == 1
    assert status[0].retain
    assert status[0].mid > max(s.mid for s in link.sends(ReadingsBatch))
    assert status[0].message.state is HubState.ONLINE


def test_a_batch_leaves_the_outbox_only_when_the_broker_acknowledges_it(tmp_path: Path) -> None:
    link, driver = FakeLink(), MovableDriver(_readings(20))
    agent = _agent(tmp_path, link, driver)
    link.connect()
    agent.step()
    first, second = link.sends(ReadingsBatch)
    assert agent.outbox.depth() == 20

    link.ack(second)
    agent.step()
    assert agent.outbox.depth() == 10
    assert agent.batches_acknowledged == 1
    assert agent.outbox.pending_batches() == [first.message]
    # A PUBACK for something not in flight (the heartbeat, or one from before a reconnect)
    # changes nothing.
    link.ack(*link.sends(HubStatus))
    link.events.put(Acknowledged(9999))
    agent.step()
    assert agent.outbox.depth() == 10
    assert agent.batches_acknowledged == 1


def test_no_more_than_the_limit_of_batches_are_in_flight(tmp_path: Path) -> None:
    link, driver = FakeLink(), MovableDriver(_readings(50))
    agent = _agent(tmp_path, link, driver, in_flight=2)
    link.connect()
    agent.step()
    agent.step()
    assert len(link.sends(ReadingsBatch)) == 2, "two in flight, the rest wait their turn"
    link.ack(link.sends(ReadingsBatch)[0])
    agent.step()
    assert len(link.sends(ReadingsBatch)) == 3
    link.ack(*link.sends(ReadingsBatch)[1:])
    agent.step()
    assert len(link.sends(ReadingsBatch)) == 5
    assert [r for b in link.of_type(ReadingsBatch) for r in b.readings] == _readings(50)


def test_after_a_drop_everything_unacknowledged_is_sent_again_under_the_same_seq(
    tmp_path: Path,
) -> None:
    link, driver = FakeLink(), MovableDriver(_readings(30))
    agent = _agent(tmp_path, link, driver)
    link.connect()
    agent.step()
    before = link.of_type(ReadingsBatch)
    link.ack(link.sends(ReadingsBatch)[0])
    agent.step()
    link.drop()
    driver.add(*_readings(5, start=30))
    agent.step()
    assert not agent.connected
    sent_while_down = len(link.sent)
    agent.step()
    assert len(link.sent) == sent_while_down, "nothing goes out while the session is down"

    link.sent.clear()
    link.connect()
    agent.step()
    again = link.of_type(ReadingsBatch)
    # The two unacknowledged batches first, the same seq and readings, then the new one.
    assert again[:2] == before[1:]
    assert [r for r in again[2].readings] == _readings(5, start=30)
    assert again[2].seq > before[-1].seq
    # A fresh session gets a heartbeat at once, after the resend.
    assert isinstance(link.sent[-1].message, HubStatus)


def test_a_publish_refused_mid_step_is_not_counted_as_in_flight(tmp_path: Path) -> None:
    link, driver = FakeLink(), MovableDriver()
    agent = _agent(tmp_path, link, driver)
    link.connect()
    agent.step()
    # The session is gone but paho has not said so yet: publish returns no id.
    link.up = False
    driver.add(*_readings(10))
    agent.step()
    assert link.of_type(ReadingsBatch) == []
    link.connect()
    agent.step()
    (batch,) = link.sends(ReadingsBatch)
    assert batch.message.readings == tuple(_readings(10))
    link.ack(batch)
    agent.step()
    assert agent.outbox.depth() == 0


def test_an_alarm_goes_out_at_once_ahead_of_a_backlog(tmp_path: Path) -> None:
    link, driver = FakeLink(), MovableDriver()
    agent = _agent(tmp_path, link, driver)
    link.connect()
    agent.step()
    link.sent.clear()
    press = AlarmTrigger("pendant-1", AlarmKind.PENDANT, NOW)
    driver.add(*_readings(30), press)
    agent.step()
    kinds = [type(s.message) for s in link.sent]
    assert kinds[0] is Alarm, f"the alarm must go first, not after {kinds[:3]}"
    assert kinds.count(ReadingsBatch) == 3


def test_an_alarm_raised_offline_goes_first_after_the_reconnect_and_stays_until_confirmed(
    tmp_path: Path,
) -> None:
    link, driver = FakeLink(), MovableDriver(_readings(10))
    agent = _agent(tmp_path, link, driver)
    agent.step()
    driver.add(AlarmTrigger("pull-cord-1", AlarmKind.PULL_CORD, NOW))
    agent.step()
    assert link.sent == []
    link.connect()
    agent.step()
    assert isinstance(link.sent[0].message, Alarm), "alarms are resent before readings"
    (alarm,) = link.sends(Alarm)
    assert alarm.message.kind is AlarmKind.PULL_CORD

    # The broker's PUBACK is not enough: the broker may lose it. The server's word is.
    link.ack(alarm)
    agent.step()
    assert [a.id for a in agent.outbox.pending_alarms()] == [alarm.message.id]
    link.events.put(AlarmAckReceived(encode(AlarmAck(HUB, (alarm.message.id,)))))
    agent.step()
    assert agent.outbox.pending_alarms() == []
    assert agent.alarms_confirmed == 1
    # A reconnect now sends no alarm again.
    link.drop()
    agent.step()
    link.sent.clear()
    link.connect()
    agent.step()
    assert link.sends(Alarm) == []


def test_a_confirmation_that_cannot_be_read_confirms_nothing(tmp_path: Path) -> None:
    link, driver = FakeLink(), MovableDriver([AlarmTrigger("pendant-1", AlarmKind.PENDANT, NOW)])
    agent = _agent(tmp_path, link, driver)
    link.connect()
    agent.step()
    link.events.put(AlarmAckReceived(b'{"v":1,"hub":"someone-else"'))
    agent.step()
    assert len(agent.outbox.pending_alarms()) == 1
    assert agent.alarms_confirmed == 0


def test_the_servers_config_sets_the_heartbeat_and_is_kept_but_a_bad_one_is_not(
    tmp_path: Path,
) -> None:
    link, driver = FakeLink(), MovableDriver()
    agent = _agent(tmp_path, link, driver)
    config = HubConfig(heartbeat_s=300, sensors=(SensorSpec("kitchen-pir", "motion", "kitchen"),))
    link.connect()
    link.events.put(ConfigReceived(encode(config)))
    agent.step()
    assert agent.config == config
    assert agent.outbox.saved_config() == encode(config)
    link.events.put(ConfigReceived(b"not json"))
    agent.step()
    assert agent.config == config
    assert agent.outbox.saved_config() == encode(config)
    agent.stop()
    # A restarted agent starts from the kept config, before the broker says anything.
    again = _agent(tmp_path, FakeLink(), MovableDriver())
    assert again.config == config
    again.stop()


def test_stopping_leaves_an_offline_status_as_last_words(tmp_path: Path) -> None:
    link = FakeLink()
    agent = _agent(tmp_path, link, MovableDriver())
    agent.stop()
    assert link.last_words is not None
    topic, payload = link.last_words
    status = parse_message(topic, payload)
    assert isinstance(status, HubStatus)
    assert status.state is HubState.OFFLINE
    assert status.hub == HUB

"""A simulated home: a resident's stays turned into what the sensors report.

Each room has a PIR (``<room>-pir``), the front door a contact sensor
(``front-door``) and the resident wears a pendant. Movement in a room is a
random process whose pace depends on the room (busy in the kitchen, still in
the lounge chair, rare turns in bed); a PIR reports a movement unless it is
still blind from its last trigger, as real ones are. Days are drawn from a
random generator seeded by the home's seed and the date, so a home replays
identically however it is polled.

>>> from datetime import UTC, datetime, timedelta
>>> start = datetime(2026, 11, 24, 6, 30, tzinfo=UTC)
>>> home = SimulatedHome(home_id="hub-1", start=start, seed=7)
>>> events = home.events_until(start + timedelta(hours=12))
>>> all(start <= e.ts <= start + timedelta(hours=12) for e in events)
True
>>> {"bedroom-pir", "kitchen-pir", "lounge-pir"} <= {e.sensor for e in events}
True
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from edge.agent.drivers import AlarmTrigger, DriverEvent
from edge.protocol import AlarmKind, Reading, ReadingKind, SensorHealth
from firmware_sim.incidents import Fall, Incident, PendantPress
from firmware_sim.persona import OUT, ROOMS, STEADY, Persona, Stay, plan_day

__all__ = ["FRONT_DOOR", "PENDANT", "PIR_BLIND_TIME", "SimulatedHome", "pir"]

FRONT_DOOR = "front-door"
PENDANT = "pendant"
# Battery PIRs ignore movement for a while after each report to save power.
PIR_BLIND_TIME = timedelta(seconds=30)

# Mean seconds between movements a PIR could see, by room, while awake.
_MOVEMENT_PACE_S = {"kitchen": 40.0, "bathroom": 30.0, "hall": 10.0, "lounge": 240.0}
_AWAKE_BEDROOM_PACE_S = 60.0
# Asleep: a turn in bed every hour or so, which the PIR sees only sometimes.
_ASLEEP_PACE_S = 70 * 60.0
_ASLEEP_SEEN = 0.3


def pir(room: str) -> str:
    """The sensor id of ``room``'s PIR."""
    return f"{room}-pir"


@dataclass(slots=True)
class _Pir:
    last_trigger: datetime | None = None

    def sees(self, ts: datetime) -> bool:
        if self.last_trigger is not None and ts - self.last_trigger < PIR_BLIND_TIME:
            return False
        self.last_trigger = ts
        return True


class SimulatedHome:
    """One resident's home from ``start`` on, with ``incidents`` injected."""

    def __init__(
        self,
        *,
        home_id: str,
        start: datetime,
        seed: int = 0,
        tz: str = "Europe/London",
        persona: Persona = STEADY,
        incidents: Sequence[Incident] = (),
    ) -> None:
        self.home_id = home_id
        self.start = start
        self.seed = seed
        self.zone = ZoneInfo(tz)
        self.persona = persona
        self.incidents = tuple(incidents)
        self._fall_at = min((i.at for i in self.incidents if isinstance(i, Fall)), default=None)
        self._pirs = {room: _Pir() for room in ROOMS}
        self._next_day: date = start.astimezone(self.zone).date()
        self._planned_until = start
        self._pending: deque[DriverEvent] = deque()
        self._pending_alarms = sorted(
            (i for i in self.incidents if isinstance(i, PendantPress)), key=lambda i: i.at
        )
        self._last_room: str | None = None

    def sensors(self) -> list[SensorHealth]:
        """The home's sensors, for the hub's heartbeat."""
        found = [
            SensorHealth(pir(room), ReadingKind.MOTION.value, room, battery=90.0, link=150.0)
            for room in ROOMS
        ]
        found.append(
            SensorHealth(
                FRONT_DOOR, ReadingKind.CONTACT.value, "front_door", battery=88.0, link=140.0
            )
        )
        found.append(SensorHealth(PENDANT, AlarmKind.PENDANT.value, None, battery=95.0, link=120.0))
        return found

    def stays_on(self, day: date) -> list[Stay]:
        """Where the resident is on ``day`` (local), before incidents take effect."""
        rng = random.Random(f"{self.seed}:{day.isoformat()}")
        return plan_day(self.persona, day, self.zone, rng)

    def events_until(self, until: datetime) -> list[DriverEvent]:
        """Events from the last call up to ``until``, oldest first."""
        while self._planned_until <= until:
            day = self._next_day
            self._pending.extend(
                e for e in self._day_events(day) if self.start <= e.ts and self._happens(e)
            )
            self._next_day = day + timedelta(days=1)
            self._planned_until = datetime.combine(self._next_day, datetime.min.time(), self.zone)
        out: list[DriverEvent] = []
        while self._pending_alarms and self._pending_alarms[0].at <= until:
            press = self._pending_alarms.pop(0)
            out.append(AlarmTrigger(PENDANT, AlarmKind.PENDANT, press.at))
        while self._pending and self._pending[0].ts <= until:
            out.append(self._pending.popleft())
        out.sort(key=lambda e: e.ts)
        return out

    def _happens(self, event: DriverEvent) -> bool:
        # After a fall nothing moves; the doors stay shut.
        return self._fall_at is None or event.ts < self._fall_at

    def _day_events(self, day: date) -> list[DriverEvent]:
        rng = random.Random(f"{self.seed}:{day.isoformat()}:sensors")
        events: list[DriverEvent] = []
        for stay in self.stays_on(day):
            events.extend(self._arrive(stay, rng))
            events.extend(self._movements(stay, rng))
        events.sort(key=lambda e: e.ts)
        return events

    def _arrive(self, stay: Stay, rng: random.Random) -> Iterable[DriverEvent]:
        previous, self._last_room = self._last_room, stay.room
        if previous is None or previous == stay.room:
            return
        t = stay.start
        if stay.room == OUT:
            yield from self._motion("hall", t)
            yield from self._door(t + timedelta(seconds=rng.uniform(5, 20)), rng)
            return
        if previous == OUT:
            yield from self._door(t, rng)
            t += timedelta(seconds=rng.uniform(5, 15))
        if stay.room != "hall":
            yield from self._motion("hall", t)
            t += timedelta(seconds=rng.uniform(3, 10))
        yield from self._motion(stay.room, t)

    def _door(self, opened: datetime, rng: random.Random) -> Iterable[Reading]:
        yield Reading(FRONT_DOOR, ReadingKind.CONTACT, opened, 1.0)
        closed = opened + timedelta(seconds=rng.uniform(3, 12))
        yield Reading(FRONT_DOOR, ReadingKind.CONTACT, closed, 0.0)

    def _movements(self, stay: Stay, rng: random.Random) -> Iterable[Reading]:
        if stay.room == OUT:
            return
        if stay.asleep:
            pace, seen = _ASLEEP_PACE_S, _ASLEEP_SEEN
        elif stay.room == "bedroom":
            pace, seen = _AWAKE_BEDROOM_PACE_S, 1.0
        else:
            pace, seen = _MOVEMENT_PACE_S.get(stay.room, 60.0), 1.0
        t = stay.start
        while True:
            t += timedelta(seconds=rng.expovariate(1 / pace))
            if t >= stay.end:
                break
            if rng.random() < seen:
                yield from self._motion(stay.room, t)
        if stay.asleep and stay.end.astimezone(self.zone).time() != time(0):
            # Getting up for the day or the toilet, not midnight passing in bed.
            yield from self._motion(stay.room, stay.end - timedelta(seconds=rng.uniform(20, 60)))

    def _motion(self, room: str, ts: datetime) -> Iterable[Reading]:
        if self._pirs[room].sees(ts):
            yield Reading(pir(room), ReadingKind.MOTION, ts.astimezone(UTC), 1.0)

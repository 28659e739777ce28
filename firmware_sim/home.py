"""A simulated home: a resident's days turned into what the devices report, with ground truth.

The home draws each day in order (the routine, then what the devices make of
it), so it can run for a year in bounded memory. Everything random comes from
generators seeded by the home's seed and the date: a home replays identically
however it is polled. Incidents change the days; each one that happens
leaves an :class:`~firmware_sim.incidents.IncidentLabel` in :attr:`labels`.

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

import dataclasses
import math
import random
from collections import deque
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from edge.agent.drivers import AlarmTrigger, DriverEvent
from edge.agent.zigbee import DeviceSpec
from edge.protocol import AlarmKind, Reading, ReadingKind
from firmware_sim.climate import Heating, Weather
from firmware_sim.devices import (
    ALARM_KINDS,
    FRIDGE,
    FRONT_DOOR,
    OK_BUTTON,
    PENDANT,
    PIR_BLIND_S,
    SENSORS,
    Firmware,
    Physical,
    SensorEvent,
    pir,
)
from firmware_sim.incidents import (
    BatteryFlat,
    ColdHome,
    Decline,
    Fall,
    HubOffline,
    Incident,
    IncidentLabel,
    MissedMeals,
    NotUp,
    PendantPress,
    Uti,
    WanderOut,
)
from firmware_sim.persona import STEADY, Persona
from firmware_sim.realism import TIDY, HomeTraits
from firmware_sim.routine import (
    GARDEN,
    OUT,
    DayConditions,
    DayPlan,
    Stay,
    local_epoch,
    plan_day,
    poisson,
)

__all__ = ["FRONT_DOOR", "PENDANT", "PIR_BLIND_TIME", "SimulatedHome", "pir"]

PIR_BLIND_TIME = timedelta(seconds=PIR_BLIND_S)
_DAY_S = 86400.0

# Mean seconds between movements a PIR could see, by room, while awake.
_MOVEMENT_PACE_S = {"kitchen": 40.0, "bathroom": 30.0, "hall": 10.0, "bedroom": 60.0}
# Asleep: a turn in bed every hour or so, which the PIR sees only sometimes.
_ASLEEP_PACE_S = 70 * 60.0
_ASLEEP_SEEN = 0.3
# Sitting in the lounge chair, by activity (pulsing pads shift with the resident).
_IN_CHAIR = frozenset({"sit", "nap", "no_meal", "still", "visit"})
# A pressure pad's press for a turn lasts about a second (the real homes' pads).
_PULSE_S = (0.8, 3.0)
# Devices that can stick "on", and the share of stuck spells that are that rather
# than a device gone quiet (a link lost for days).
_CAN_STICK = frozenset({"motion", "contact", "bed", "chair"})
_STUCK_ON_SHARE = 0.6
_OUTSIDE = frozenset({OUT, GARDEN})
# A day's pace of movement against the persona's, at the slowest and the busiest.
_DAY_PACE = (0.4, 1.6)
# Trips out a resident may make by the back door. A night wander, a holiday with
# the suitcase and a fall's ambulance go by the front.
_BACK_DOOR_TRIPS = frozenset({"outing", "errand", "day_out", "weekday_out", "evening_out"})
# Nights up past midnight are this much likelier on Friday and Saturday nights
# (the late film, family round, nothing to get up for).
_WEEKEND_NIGHT_FACTOR = 1.5
# The earliest a night up past midnight goes to bed, hours after midnight.
_PAST_MIDNIGHT_LEAST_H = 0.25


def _ts(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


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
        weather: Weather | None = None,
        sensor_dropouts_per_month: float = 0.0,
        traits: HomeTraits = TIDY,
    ) -> None:
        self.home_id = home_id
        self.start = start
        self.seed = seed
        self.zone = ZoneInfo(tz)
        self.persona = persona
        self.incidents = tuple(incidents)
        self.weather = weather or Weather(seed=0)
        self.labels: list[IncidentLabel] = []
        self.traits = traits
        self._start_s = start.timestamp()
        fit = random.Random(f"{seed}:fitted")
        self.firmware = Firmware.fitted(self._start_s, fit, unfitted=traits.unfitted)
        self.heating = Heating.fitted(fit)
        self._drift_per_day = fit.gauss(0, persona.drift_min_per_month) / 30
        self._dropouts_per_month = sensor_dropouts_per_month
        self._next_day: date = start.astimezone(self.zone).date()
        self._pending: deque[SensorEvent] = deque()
        self._last_room: str | None = None
        # Intervals when nothing the resident does is seen (after a fall, until found).
        self._silences: list[tuple[float, float]] = []
        self._away_until: float = -math.inf
        self._holidays: list[tuple[float, float]] = []
        self._holiday_blocks: set[int] = set()
        self._dropout_blocks: set[int] = set()
        self._incidents_by_day: dict[date, list[Incident]] = {}
        # Whether the resident is out now by the back door (and comes back by it).
        self._out_by_back_door = False
        # Hours after midnight the resident went to bed, if last night ran past it.
        self._up_from_last_night_h = 0.0
        self.outages: list[tuple[float, float]] = []
        for incident in self.incidents:
            if _when(incident) >= start:
                self._schedule(incident)

    # -- what the outside sees -------------------------------------------------

    @property
    def sensors(self) -> tuple[DeviceSpec, ...]:
        """The home's sensor map: the devices the installer fitted."""
        return tuple(d for d in SENSORS if d.sensor not in self.traits.unfitted)

    def sensor_events_until(self, until: datetime) -> list[SensorEvent]:
        """Device reports from the last call up to ``until``, oldest first."""
        limit = until.timestamp()
        while self._planned_until() <= limit:
            self._pending.extend(self._day(self._next_day))
            self._next_day += timedelta(days=1)
        out: list[SensorEvent] = []
        while self._pending and self._pending[0].ts <= limit:
            out.append(self._pending.popleft())
        return out

    def events_until(self, until: datetime) -> list[DriverEvent]:
        """Device reports up to ``until`` as the hub agent's driver events."""
        return [driver_event(e) for e in self.sensor_events_until(until)]

    def days(self, count: int) -> Iterator[list[SensorEvent]]:
        """The next ``count`` whole days' reports, a day at a time (offline mode)."""
        for _ in range(count):
            events = self._day(self._next_day)
            self._next_day += timedelta(days=1)
            yield events

    def hub_online(self, ts: float) -> bool:
        """Whether the home's broadband is up at ``ts``."""
        return not any(a <= ts < b for a, b in self.outages)

    def take_labels(self) -> list[IncidentLabel]:
        """Ground truth realised since last asked."""
        labels, self.labels = self.labels, []
        return labels

    def _planned_until(self) -> float:
        return local_epoch(self._next_day, 0, self.zone)

    # -- incidents --------------------------------------------------------------

    def _local_day(self, ts: datetime) -> date:
        return ts.astimezone(self.zone).date()

    def _schedule(self, incident: Incident) -> None:
        match incident:
            case HubOffline(at=at, duration=duration):
                # To the millisecond, like everything the hub stamps.
                went, back = round(at.timestamp(), 3), round((at + duration).timestamp(), 3)
                if any(a < back and went < b for a, b in self.outages):
                    return  # the broadband is already down: one outage, one label
                self.outages.append((went, back))
                self._label("hub_offline", went, back)
            case BatteryFlat(at=at, sensor=sensor, replaced_after=replaced):
                battery = self.firmware.batteries.get(sensor)
                if battery is None:
                    raise ValueError(f"{sensor!r} has no battery to run flat")
                battery.flats.append((at.timestamp(), (at + replaced).timestamp()))
                self.firmware.flat_batteries.add(sensor)
                self._label("battery_flat", at.timestamp(), (at + replaced).timestamp(), sensor)
            case ColdHome(at=at, duration=duration):
                self.heating.failures.append((at.timestamp(), (at + duration).timestamp()))
            case Fall(at=at) | PendantPress(at=at) | WanderOut(at=at):
                self._incidents_by_day.setdefault(self._local_day(at), []).append(incident)
            case NotUp(day=day) | MissedMeals(day=day):
                self._incidents_by_day.setdefault(day, []).append(incident)
            case Uti(day=day, days=days) | Decline(day=day, days=days):
                self._incidents_by_day.setdefault(day, []).append(incident)
                end = local_epoch(day + timedelta(days=days), 0, self.zone)
                kind = "uti" if isinstance(incident, Uti) else "decline"
                self._label(kind, local_epoch(day, 0, self.zone), end)

    def _label(self, kind: str, start: float, end: float | None, detail: str = "") -> None:
        # To the millisecond, as the stream's times are.
        self.labels.append(
            IncidentLabel(
                kind,
                self.home_id,
                _ts(round(start, 3)),
                None if end is None else _ts(round(end, 3)),
                detail,
            )
        )

    def _conditions(self, day: date, rain: bool) -> tuple[DayConditions, list[Incident]]:
        today = self._incidents_by_day.pop(day, [])
        days_in = (day - self.start.astimezone(self.zone).date()).days
        activity, toilet = 1.0, 1.0
        for incident in self.incidents:
            if isinstance(incident, Decline) and day >= incident.day:
                done = min(1.0, (day - incident.day).days / max(1, incident.days))
                activity = min(activity, 1 - (1 - incident.to) * done)
            if isinstance(incident, Uti) and 0 <= (day - incident.day).days < incident.days:
                toilet = max(toilet, incident.factor)
        delay = sum(i.delay.total_seconds() / 60 for i in today if isinstance(i, NotUp))
        missed = frozenset(m for i in today if isinstance(i, MissedMeals) for m in i.meals)
        wander = next((i for i in today if isinstance(i, WanderOut)), None)
        lie_in = max(
            (i.lie_in.total_seconds() / 60 for i in today if isinstance(i, NotUp)), default=0.0
        )
        toilet_at = next(
            (i.at.timestamp() for i in today if isinstance(i, Fall) and i.on_way_to_toilet), None
        )
        # The routine drifts: a personal trend plus a slow seasonal swing.
        drift = self._drift_per_day * days_in + 10 * math.sin(2 * math.pi * days_in / 365)
        return DayConditions(
            rain=rain,
            drift_min=drift,
            activity=activity,
            away=self._holiday(day),
            not_up_delay_min=delay,
            night_toilet_factor=toilet,
            missed_meals=missed,
            wander_out=None
            if wander is None
            else (wander.at.timestamp(), wander.duration.total_seconds() / 60),
            lie_in_min=lie_in,
            toilet_at=toilet_at,
        ), today

    def _by_back_door(self, trip: Stay) -> bool:
        """Whether the resident leaves for ``trip`` by the back door (drawn where the home ever does)."""
        share = self.traits.back_door_share
        if not share or trip.activity not in _BACK_DOOR_TRIPS:
            return False
        return random.Random(f"{self.seed}:{trip.start}:door").random() < share

    def _bed_past_midnight_h(self, day: date, today: Sequence[Incident], unwell: bool) -> float:
        """Hours after midnight the resident goes to bed tonight (0 = before midnight).

        Drawn from the day's own generator, so a home without late nights lives
        the days it lived before they existed. Not on the eve of an incident, or
        on its day: a fall on the way to the toilet, a not-up or a wander is
        placed against a night that begins in bed; nor while an infection keeps
        the resident up at night anyway (its nights are what its label says).
        """
        chance = self.traits.past_midnight_chance
        tomorrow = self._incidents_by_day.get(day + timedelta(days=1))
        if not chance or today or tomorrow or unwell:
            return 0.0
        if day.weekday() in (4, 5):  # Friday and Saturday nights
            chance *= _WEEKEND_NIGHT_FACTOR
        rng = random.Random(f"{self.seed}:{day.isoformat()}:past-midnight")
        if rng.random() >= chance:
            return 0.0
        return rng.uniform(_PAST_MIDNIGHT_LEAST_H, self.traits.past_midnight_h)

    def _holiday(self, day: date) -> tuple[float, float] | None:
        """Holidays away, drawn a year at a time from the home's seed."""
        block = (day - self.start.astimezone(self.zone).date()).days // 365
        if block not in self._holiday_blocks:
            self._holiday_blocks.add(block)
            rng = random.Random(f"{self.seed}:holidays:{block}")
            first = self.start.astimezone(self.zone).date() + timedelta(days=365 * block)
            for _ in range(poisson(rng, self.persona.holidays_per_year)):
                # Not in the first three weeks: a trial starts with the resident at home.
                leave = first + timedelta(days=rng.randint(21, 364))
                back = leave + timedelta(days=rng.randint(4, 12))
                start = local_epoch(leave, rng.uniform(9.5, 12.0), self.zone)
                end = local_epoch(back, rng.uniform(13.0, 18.0), self.zone)
                self._holidays.append((start, end))
                self._label("away", start, end, "holiday")
        day_start, day_end = local_epoch(day, 0, self.zone), local_epoch(day, 24, self.zone)
        for start, end in self._holidays:
            if start < day_end and end > day_start:
                return (start, end)
        return None

    def _draw_dropouts(self, day: date) -> None:
        block = (day - self.start.astimezone(self.zone).date()).days // 30
        if block in self._dropout_blocks:
            return
        self._dropout_blocks.add(block)
        rng = random.Random(f"{self.seed}:dropouts:{block}")
        block_start = local_epoch(day, 0, self.zone)
        for _ in range(poisson(rng, self._dropouts_per_month)):
            sensor = rng.choice([d.sensor for d in self.sensors if d.sensor != PENDANT])
            start = block_start + rng.uniform(0, 30 * _DAY_S)
            end = start + rng.uniform(2, 24) * 3600
            self.firmware.dropouts.setdefault(sensor, []).append((start, end))
            self._label("sensor_dropout", start, end, sensor)
        if self.traits.stuck_per_month <= 0:
            return
        stuck = random.Random(f"{self.seed}:stuck:{block}")
        stateful = [d.sensor for d in self.sensors if d.kind in _CAN_STICK]
        for _ in range(poisson(stuck, self.traits.stuck_per_month)):
            sensor = stuck.choice(stateful)
            start = block_start + stuck.uniform(0, 30 * _DAY_S)
            # One to ten days, most of them short: until someone notices, or the
            # installer's next visit.
            end = start + math.exp(stuck.uniform(0.0, math.log(10.0))) * _DAY_S
            if stuck.random() < _STUCK_ON_SHARE:
                self.firmware.stuck.setdefault(sensor, []).append((start, end))
                self._label("sensor_stuck", start, end, sensor)
            else:
                self.firmware.dropouts.setdefault(sensor, []).append((start, end))
                self._label("sensor_dropout", start, end, sensor)

    # -- one day ------------------------------------------------------------------

    def _day(self, day: date) -> list[SensorEvent]:
        self._draw_dropouts(day)
        weather = self.weather.on(day)
        conditions, today = self._conditions(day, weather.rain)
        if self.traits.day_to_day_sd:
            # A good day or a slow one, from a generator of its own (the rest of the day's
            # draws stay as they were): the pace, drinks, outings and still spells follow.
            mood = random.Random(f"{self.seed}:{day.isoformat()}:pace")
            factor = math.exp(mood.gauss(0.0, self.traits.day_to_day_sd))
            pace = min(max(factor, _DAY_PACE[0]), _DAY_PACE[1])
            conditions = dataclasses.replace(conditions, activity=conditions.activity * pace)
        if self.traits.past_midnight_chance:
            unwell = conditions.night_toilet_factor > 1
            tonight = self._bed_past_midnight_h(day, today, unwell)
            conditions = dataclasses.replace(
                conditions,
                bed_past_midnight_h=tonight,
                up_from_last_night_h=self._up_from_last_night_h,
            )
            self._up_from_last_night_h = tonight
        plan = plan_day(
            self.persona,
            day,
            self.zone,
            random.Random(f"{self.seed}:{day.isoformat()}"),
            conditions,
            self.traits,
            random.Random(f"{self.seed}:{day.isoformat()}:realism"),
        )
        rng = random.Random(f"{self.seed}:{day.isoformat()}:sensors")
        day_start, day_end = local_epoch(day, 0, self.zone), local_epoch(day, 24, self.zone)
        physical: list[Physical] = []
        for stay in plan.stays:
            self._arrive(stay, physical, rng)
            self._within(stay, physical, rng, conditions.activity, day_end)
        # Falls first: who calls while the resident lies there decides what is seen.
        for incident in today:
            if isinstance(incident, Fall):
                self._fall(incident, plan, physical)
        for arrive, leave in plan.visitors:
            self._visitor(arrive, leave, plan, physical, rng)
        for arrive, leave in plan.guests:
            self._guest(arrive, leave, physical, rng)
        for incident in today:
            if isinstance(incident, PendantPress):
                physical.append(Physical(incident.at.timestamp(), "alarm", PENDANT, 1.0, False))
                self._label("pendant", incident.at.timestamp(), incident.at.timestamp())
            elif isinstance(incident, NotUp) and plan.woke > plan.usual_wake:
                self._label("not_up", plan.usual_wake, plan.woke)
            elif isinstance(incident, MissedMeals):
                first = min(plan.meals[m] for m in incident.meals if m in plan.meals)
                self._label("missed_meals", first, day_end, ",".join(incident.meals))
        for stay in plan.stays:
            if stay.activity == "wander_out":
                self._label("wander_out", stay.start, stay.end)
        if self._silences:
            # A door already opened still gets closed: the resident falls inside.
            physical = [
                p
                for p in physical
                if not (p.by_resident and self._silenced(p.ts))
                or (p.what == "contact" and p.value == 0.0)
            ]
        physical.sort()
        events = list(self.firmware.report(physical, rng))
        for sensor, ts, temp, humidity in self.heating.run(day_start, day_end, 0.0, weather, rng):
            if not self.firmware.silent(sensor, ts):
                events.append(SensorEvent(ts, sensor, "temperature", temp))
                events.append(SensorEvent(ts, sensor, "humidity", humidity))
        for start, end in self.heating.take_cold_spells():
            self._label("cold_home", start, end)
        # By time only: a thermometer's temperature stays before its humidity.
        events.sort(key=lambda e: e.ts)
        return [e for e in events if e.ts >= self._start_s]

    def _silenced(self, ts: float) -> bool:
        return any(a <= ts < b for a, b in self._silences)

    def _fall(self, fall: Fall, plan: DayPlan, physical: list[Physical]) -> None:
        """Where and when the fall happens, and who finds the resident.

        Falls happen on the move: soon after walking into one of ``fall.rooms``,
        or in the hall between two rooms, at the first chance after ``fall.at``.
        Only rooms with a PIR fitted and working count, so the resident is
        seen up and about just before. A carer with a key finds them at the
        next visit; a guest who calls meanwhile gets no answer and goes away,
        so the label runs until someone really finds them.
        """
        at = fall.at.timestamp()
        rng = random.Random(f"{self.seed}:fall:{at}")
        fitted = {d.sensor for d in self.sensors}

        def seen(room: str, at: float) -> bool:
            # A PIR fitted and working (not flat, not out of touch) there and then.
            return pir(room) in fitted and not self.firmware.silent(pir(room), at)

        chances: list[tuple[float, str]] = []
        for before, stay in zip(plan.stays, plan.stays[1:], strict=False):
            # (Not on the way out or in: a fall is seen up and about indoors first.)
            if stay.start < at or {stay.room, before.room} & _OUTSIDE:
                continue
            if before.room == stay.room:
                continue
            if "hall" in fall.rooms and seen("hall", stay.start) and stay.room != "hall":
                # Between rooms: seen entering the hall, not arriving in the next room.
                chances.append((stay.start + 2.0, "hall"))
            length = stay.end - stay.start
            # Not asleep, and not with a guest in the room (they would see it).
            awake = not stay.asleep and stay.activity != "visit"
            if stay.room in fall.rooms and seen(stay.room, stay.start) and length > 120 and awake:
                chances.append((stay.start + rng.uniform(30, min(120, length / 2)), stay.room))
        if not chances:
            return  # away, in bed or out of sight all day: this fall does not happen
        # The room first among those the resident goes to in the next two hours
        # (the hall is passed through far more often than it is fallen in), then
        # the first chance there; failing any, the first chance at all.
        soon = [c for c in chances if c[0] < at + 2 * 3600] or [min(chances)]
        room = rng.choice(sorted({r for _, r in soon}))
        fell = min(t for t, r in soon if r == room)
        found = fell + fall.found_after.total_seconds()
        for arrive, _ in plan.visitors:
            if fell < arrive < found:
                found = arrive
        self._silences.append((fell, found))
        # The fall itself is movement the room's PIR sees (unless blind or missing it):
        # the resident's arrival alone can be missed, and then nothing showed them up.
        physical.append(Physical(fell - 1.0, "move", room, 1.0))
        # Whoever was in the chair or in bed got up before falling.
        physical.append(Physical(fell, "occupancy", "chair", 0.0, False))
        physical.append(Physical(fell, "occupancy", "bed", 0.0, False))
        self._label("fall", fell, found, room)

    def _visitor(
        self, arrive: float, leave: float, plan: DayPlan, out: list[Physical], rng: random.Random
    ) -> None:
        """A carer's visit: the door, the hall, the kitchen (tea), a check on the resident."""
        if any(s.room == OUT and s.start <= arrive < s.end for s in plan.stays):
            return  # nobody in: the carer leaves a note
        out.append(Physical(arrive, "contact", FRONT_DOOR, 1.0, False))
        out.append(Physical(arrive + rng.uniform(4, 10), "contact", FRONT_DOOR, 0.0, False))
        out.append(Physical(arrive + rng.uniform(8, 15), "move", "hall", 1.0, False))
        t = arrive + 60
        while t < leave - 60:
            room = rng.choice(("kitchen", "kitchen", "bathroom", "bedroom", "hall"))
            out.append(Physical(t, "move", room, 1.0, False))
            t += rng.expovariate(1 / 45)
        kettle = arrive + rng.uniform(120, 300)
        if kettle < leave - 300:
            out.append(Physical(kettle, "power", "kettle", round(rng.uniform(2000, 2400)), False))
            out.append(Physical(kettle + rng.uniform(150, 240), "power", "kettle", 0.0, False))
        out.append(Physical(leave - rng.uniform(10, 20), "move", "hall", 1.0, False))
        out.append(Physical(leave, "contact", FRONT_DOOR, 1.0, False))
        out.append(Physical(leave + rng.uniform(3, 8), "contact", FRONT_DOOR, 0.0, False))

    def _guest(self, arrive: float, leave: float, out: list[Physical], rng: random.Random) -> None:
        """Family or a friend calling: the door, then a second person about the lounge and kitchen."""
        if self._silenced(arrive):
            return  # the resident is on the floor and cannot open the door: no answer
        out.append(Physical(arrive, "contact", FRONT_DOOR, 1.0, False))
        out.append(Physical(arrive + rng.uniform(4, 10), "contact", FRONT_DOOR, 0.0, False))
        out.append(Physical(arrive + rng.uniform(8, 15), "move", "hall", 1.0, False))
        t = arrive + 90
        while t < leave - 90:
            room = rng.choice(("lounge", "lounge", "lounge", "kitchen", "bathroom"))
            out.append(Physical(t, "move", room, 1.0, False))
            t += rng.expovariate(1 / 150)
        out.append(Physical(leave - rng.uniform(10, 20), "move", "hall", 1.0, False))
        out.append(Physical(leave, "contact", FRONT_DOOR, 1.0, False))
        out.append(Physical(leave + rng.uniform(3, 8), "contact", FRONT_DOOR, 0.0, False))

    def _pulses(
        self,
        pad: str,
        start: float,
        end: float,
        per_hour: float,
        out: list[Physical],
        rng: random.Random,
    ) -> None:
        """A pulsing pad: each turn a burst of presses of a second or two, never a held "occupied".

        Real pads fire in bursts while someone shifts on them and then say
        nothing for long spells, so a turn is a few to a dozen presses a few
        seconds apart (more in bed, where a turn takes longer).
        """
        most = 16 if pad == "bed" else 6
        t = start
        while True:
            t += rng.expovariate(per_hour / 3600)
            if t >= end - 200:
                break
            press = t
            for _ in range(rng.randint(1, most)):
                out.append(Physical(press, "occupancy", pad, 1.0))
                out.append(Physical(press + rng.uniform(*_PULSE_S), "occupancy", pad, 0.0))
                press += rng.uniform(4.0, 10.0)

    def _arrive(self, stay: Stay, out: list[Physical], rng: random.Random) -> None:
        previous, self._last_room = self._last_room, stay.room
        t = stay.start
        # Occupancy pads: in bed asleep, in the lounge chair sitting or napping.
        in_bed = _in_bed(stay)
        in_chair = stay.room == "lounge" and stay.activity in _IN_CHAIR
        if self.traits.pulsing_pads:
            # Pads that pulse never hold "occupied": a press as they settle, then one a turn.
            settling = previous != stay.room
            in_bed, in_chair = in_bed and settling, in_chair and settling
            if in_bed:
                press = t + rng.uniform(60, 180)
                out.append(Physical(press, "occupancy", "bed", 1.0))
                out.append(Physical(press + rng.uniform(*_PULSE_S), "occupancy", "bed", 0.0))
            if in_chair:
                press = t + rng.uniform(20, 60)
                out.append(Physical(press, "occupancy", "chair", 1.0))
                out.append(Physical(press + rng.uniform(*_PULSE_S), "occupancy", "chair", 0.0))
            in_bed = in_chair = False
        out.append(
            Physical(
                t + (rng.uniform(60, 180) if in_bed else -15.0), "occupancy", "bed", float(in_bed)
            )
        )
        out.append(
            Physical(
                t + (rng.uniform(20, 60) if in_chair else -5.0),
                "occupancy",
                "chair",
                float(in_chair),
            )
        )
        if previous is None or previous == stay.room:
            return
        if stay.room == OUT:
            self._out_by_back_door = self._by_back_door(stay)
        if (stay.room == OUT or previous == OUT) and self._out_by_back_door:
            # Out and in by the back door, through the kitchen: the wired front door
            # never opens, so the home looks silent, not empty.
            out.append(Physical(t, "move", "kitchen", 1.0))
            if stay.room == OUT:
                return
            self._out_by_back_door = False
            t += rng.uniform(5, 15)
            if stay.room != "kitchen":
                if stay.room != "hall":
                    out.append(Physical(t, "move", "hall", 1.0))
                    t += rng.uniform(3, 10)
                out.append(Physical(t, "move", stay.room, 1.0))
            return
        if stay.room == GARDEN or previous == GARDEN:
            # Out and in by the back door, through the kitchen.
            out.append(Physical(t, "move", "kitchen", 1.0))
            if stay.room == GARDEN:
                return
            t += rng.uniform(5, 15)
        if stay.room == OUT:
            out.append(Physical(t, "move", "hall", 1.0))
            opened = t + rng.uniform(5, 20)
            out.append(Physical(opened, "contact", FRONT_DOOR, 1.0))
            out.append(Physical(opened + rng.uniform(3, 12), "contact", FRONT_DOOR, 0.0))
            return
        if previous == OUT:
            out.append(Physical(t, "contact", FRONT_DOOR, 1.0))
            out.append(Physical(t + rng.uniform(3, 12), "contact", FRONT_DOOR, 0.0))
            t += rng.uniform(5, 15)
        if stay.room != "hall":
            out.append(Physical(t, "move", "hall", 1.0))
            t += rng.uniform(3, 10)
        out.append(Physical(t, "move", stay.room, 1.0))

    def _within(
        self, stay: Stay, out: list[Physical], rng: random.Random, activity: float, day_end: float
    ) -> None:
        if stay.room in (OUT, GARDEN):
            return
        room, traits = stay.room, self.traits
        if stay.asleep:
            pace, seen = _ASLEEP_PACE_S, _ASLEEP_SEEN
        elif room == "lounge":
            pace, seen = self.persona.lounge_pace_s, 1.0
        else:
            pace, seen = _MOVEMENT_PACE_S.get(room, 60.0), 1.0
        if stay.activity == "wander":
            pace = 20.0
        elif stay.activity == "still":
            pace = traits.still_pace_s
        # A PIR's blind spot: the chair, the far side of the bed.
        if room == "lounge" and stay.activity in _IN_CHAIR:
            seen *= traits.lounge_seen
        elif room == "bedroom" and stay.asleep:
            seen *= traits.bedroom_seen
        if traits.pulsing_pads:
            if _in_bed(stay):
                self._pulses("bed", stay.start + 185, stay.end, traits.bed_turns_per_hour, out, rng)
            elif room == "lounge" and stay.activity in _IN_CHAIR:
                shifts = traits.chair_shifts_per_hour / (3 if stay.activity == "still" else 1)
                self._pulses("chair", stay.start + 64, stay.end, shifts, out, rng)
        pace /= max(0.3, activity)
        expo, rand = rng.expovariate, rng.random
        t, end, rate = stay.start, stay.end, 1 / pace
        while True:
            t += expo(rate)
            if t >= end:
                break
            if seen >= 1.0 or rand() < seen:
                out.append(Physical(t, "move", room, 1.0))
                # The PIR is blind for a while and movement is memoryless: skip
                # what it could not report rather than draw it and drop it.
                t += PIR_BLIND_S
        if stay.asleep and stay.end < day_end:
            # Getting up for the day or the toilet, not midnight passing in bed.
            # (Never before the stay began: a short one may follow a walk outside.)
            up = max(stay.start + 1.0, stay.end - rng.uniform(20, 60))
            out.append(Physical(up, "move", room, 1.0))
        if room == "kitchen":
            self._kitchen(stay, out, rng)
        if stay.activity == "breakfast" and self.persona.checks_in:
            out.append(Physical(stay.end + rng.uniform(30, 300), "button", OK_BUTTON, 1.0))

    def _kitchen(self, stay: Stay, out: list[Physical], rng: random.Random) -> None:
        length = stay.end - stay.start
        for _ in range(1 if stay.activity == "drink" else rng.randint(1, 3)):
            opened = stay.start + rng.uniform(0.1, 0.8) * length
            out.append(Physical(opened, "contact", FRIDGE, 1.0))
            out.append(Physical(opened + rng.uniform(5, 40), "contact", FRIDGE, 0.0))
        boils = stay.activity in ("breakfast", "drink") or rng.random() < 0.4
        if boils and rng.random() < self.persona.kettle_chance and length > 240:
            on = stay.start + rng.uniform(20, 60)
            out.append(Physical(on, "power", "kettle", float(round(rng.uniform(2000, 2400)))))
            out.append(Physical(on + rng.uniform(150, 230), "power", "kettle", 0.0))


def _in_bed(stay: Stay) -> bool:
    """Asleep on the bed: the night, or an afternoon nap lying down (the bed pad feels it)."""
    return stay.activity == "sleep" or (stay.activity == "nap" and stay.room == "bedroom")


def _when(incident: Incident) -> datetime:
    """Roughly when an incident starts (a day's incidents count from its noon)."""
    match incident:
        case NotUp(day=day) | MissedMeals(day=day) | Uti(day=day) | Decline(day=day):
            return datetime.combine(day, time(12), UTC)
    return incident.at


def driver_event(event: SensorEvent) -> DriverEvent:
    """A device report as the agent's driver event (a reading, or an alarm trigger)."""
    if event.kind in ALARM_KINDS:
        return AlarmTrigger(event.sensor, AlarmKind(event.kind), _ts(event.ts))
    return Reading(event.sensor, ReadingKind(event.kind), _ts(event.ts), event.value)

"""Watching one home the way someone who knows the resident would: learned, explained, in event time.

:class:`HomeWatch` is carewatch's detector set. It is pure (readings and
watermarks in, findings out) and per home:

- **adaptive inactivity**: how long a silence is unusual for *this* resident at
  this time of day and in this place (up and about, in the bathroom, in the
  chair, in bed: from the rooms and the pads, :mod:`server.detect.pads`), set
  from each day's longest silence there and a false-alarm budget
  (:mod:`server.detect.longest`) with a population prior for the first days,
  floors an operator can set, ceilings for the first week and maxima after
  (:mod:`server.detect.no_movement`). In bed at night, silence is sleep until
  they are later than their own latest usual getting-up time: "not up"
  (:mod:`server.detect.mornings`). Out of the front door with nothing since
  is "out", never "fallen"; a silence during a hub outage is never judged,
  because the watermark does not move; after an alert a lone blip is not
  moving about again (:mod:`server.detect.stirring`).
- **the front door at night** followed by no movement inside: urgent.
- **a cold home**: the living room below the limit (18 °C) for a sustained time.
- **night toilet visits** rising over several nights against the resident's
  own baseline (a CUSUM): an advisory, "possible infection".
- **meals** missed and **a slow decline** in moving about
  (:mod:`server.detect.daily`): advisories.
- **several daily measures off together** for several days (getting up,
  nights, movements, kitchen, time out, bed time; :mod:`server.detect.day_profile`):
  an advisory.
- **batteries** running low: technical.

A silence that raised an alert is learned only once it has ended in movement
and nobody confirmed an incident, and then as at most twice its limit, so a
fall does not teach the detector that long silences are normal. Each home's state checkpoints to bytes
(:mod:`server.detect.home_state`); the resident's "away" pauses inactivity;
alerts closed as false alarms make that pattern less eager.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from edge.protocol import Reading, ReadingKind, SensorHealth
from server.detect.batteries import judge_batteries
from server.detect.cold_home import judge_temperature
from server.detect.coverage import judge_coverage
from server.detect.daily import (
    AtHome,
    activity_day,
    kitchen_visit,
    meal_deadlines,
    missed_meal,
    mostly_away,
)
from server.detect.day_profile import (
    DayCounts,
    close_profile_day,
    covered_lately,
    learn_recent_days,
)
from server.detect.feedback import less_eager
from server.detect.front_door import is_door_night, judge_door
from server.detect.gaps import BATHROOM, IN_BED, IN_CHAIR, PLACES, UP, band_of
from server.detect.home_state import HomeState
from server.detect.hours import (
    BED_TIME_FROM,
    MORNING_RECKONING,
    NIGHT_COUNT_UNTIL,
    hour_of,
)
from server.detect.inactivity import FRONT_DOOR_SENSOR, room_for
from server.detect.local_hour import LocalHour, local_hour
from server.detect.mornings import judge_not_up, learn_morning
from server.detect.night_toilets import close_night, count_toilet
from server.detect.no_movement import judge_no_movement, latest_wake_for, silence_limit
from server.detect.pads import place_of, read_bed_pad, read_chair_pad
from server.detect.sensors import (
    ABSENCE,
    check_sensors,
    close_sensor_day,
    resident_back,
    sensor_reported,
)
from server.detect.settings import WatchSettings
from server.detect.stirring import forget, moving_again
from server.domain.alerts import KINDS, AlertKind, FalseAlarmLesson, Outcome
from server.domain.findings import Cleared, Finding

__all__ = ["HomeWatch", "WatchSettings"]

# The installer's word for the front door's contact sensor (DESIGN.md).
FRONT_DOOR_ROOM = "front_door"
# As many as ingest lets a hub name (server/ingest/sensor_roster.py).
_MAX_MAPPED_SENSORS = 256
_ENVIRONMENT = frozenset({ReadingKind.TEMPERATURE, ReadingKind.HUMIDITY})
# Reading kinds as module names: on Python 3.11 looking a member up on its enum class
# costs several times a comparison, and a reading goes past up to seven of them.
_BED, _BUTTON, _CHAIR = ReadingKind.BED, ReadingKind.BUTTON, ReadingKind.CHAIR
_CONTACT, _HUMIDITY = ReadingKind.CONTACT, ReadingKind.HUMIDITY
_MOTION, _POWER, _TEMPERATURE = ReadingKind.MOTION, ReadingKind.POWER, ReadingKind.TEMPERATURE
_NOT_UP, _NO_MOVEMENT = AlertKind.NOT_UP, AlertKind.NO_MOVEMENT
_PLACE_COUNT = len(PLACES)
_MEAL_LATE = timedelta(minutes=30)
_SENSOR_CHECK = timedelta(hours=1)
_LONGEST_OUT_H = 16.0
# Bed, the toilet and the way between them: a night trip to the toilet is not being up.
_NIGHT_PASSAGE = frozenset({"bedroom", "bathroom", "hall"})
# Outcomes that say a person found something wrong.
_INCIDENT = frozenset({Outcome.CARER_VISITED, Outcome.EMERGENCY_SERVICES})


class HomeWatch:
    """carewatch's detectors for every home, keyed by hub."""

    def __init__(self, settings: WatchSettings | None = None) -> None:
        self.settings = settings or WatchSettings()
        self._homes: dict[str, HomeState] = {}
        self._zones: dict[str, ZoneInfo] = {}
        s = self.settings
        self._floors = {
            UP: min(s.up_floor, s.up_ceiling),
            BATHROOM: min(s.bathroom_floor, s.bathroom_ceiling),
            IN_CHAIR: min(s.chair_floor, s.chair_ceiling),
            IN_BED: min(s.nap_floor, s.nap_ceiling),
        }
        # Hub → its sensor map (sensor → room), from the installer via the hub's
        # heartbeat or a recording's manifest. A sensor it lists is placed by it;
        # only a hub that sends no map has its rooms read from sensor names.
        self._maps: dict[str, dict[str, str]] = {}
        # Hub → the local hour its latest moment fell in (see _hour).
        self._hours: dict[str, LocalHour] = {}
        # Homes whose state moved since the last checkpoint.
        self._changed: set[str] = set()

    def set_timezone(self, hub: str, zone: ZoneInfo) -> None:
        """The resident's local time zone: nights, mornings and meal times are local."""
        self._zones[hub] = zone
        self._hours.pop(hub, None)

    def set_sensor_map(self, hub: str, rooms: Mapping[str, str], *, replace: bool = False) -> None:
        """The installer's sensor map: the room of each sensor (``front_door`` for the door).

        ``replace``: the map was edited, and a sensor left out of it is no longer placed.
        """
        if replace:
            self._maps.pop(hub, None)
        known = self._maps.setdefault(hub, {})
        for sensor, room in rooms.items():
            if room and (sensor in known or len(known) < _MAX_MAPPED_SENSORS):
                known[sensor] = room

    def _local(self, hub: str, ts: datetime) -> datetime:
        zone = self._zones.get(hub)
        return ts.astimezone(zone) if zone else ts

    def _hour(self, hub: str, ts: datetime) -> LocalHour:
        """The local date and hour of ``ts``, converted once per home and hour, not per reading."""
        hour = self._hours.get(hub)
        if hour is None or not (hour.start <= ts < hour.end):
            hour = self._hours[hub] = local_hour(ts, self._zones.get(hub))
        return hour

    def _home(self, hub: str) -> HomeState:
        self._changed.add(hub)
        home = self._homes.get(hub)
        if home is None:
            home = self._homes[hub] = HomeState()
        return home

    # -- checkpoints, "away" and feedback ------------------------------------------------

    def restore(self, hub: str, checkpoint: bytes) -> None:
        """Start ``hub`` from a checkpoint (:meth:`take_checkpoints`); raises CheckpointError."""
        self._homes[hub] = HomeState.from_bytes(checkpoint)
        self._changed.discard(hub)

    def begin(
        self,
        hub: str,
        *,
        last_activity: datetime | None,
        room: str | None,
        last_door: datetime | None,
        raised: AlertKind | None,
    ) -> None:
        """Start a home with no checkpoint from what the database shows (its routine is relearned)."""
        home = self._home(hub)
        home.last_activity, home.room, home.last_door = last_activity, room, last_door
        home.watermark = max((t for t in (last_activity, last_door) if t), default=None)
        home.no_movement_raised = raised is _NO_MOVEMENT
        home.not_up_raised = raised is _NOT_UP

    def take_checkpoints(self) -> dict[str, bytes]:
        """The state of every home that changed since last asked, to save, all at once."""
        taken = {hub: self.checkpoint(hub) for hub in self.changed_homes()}
        return {hub: state for hub, state in taken.items() if state is not None}

    def changed_homes(self) -> list[str]:
        """The homes whose state moved since last asked (no longer marked changed): the
        keeper takes their checkpoints one by one, yielding between them."""
        changed, self._changed = self._changed, set()
        return list(changed)

    def checkpoint(self, hub: str) -> bytes | None:
        """``hub``'s checkpoint now, or None when there is no such home."""
        home = self._homes.get(hub)
        return None if home is None else home.to_bytes()

    def not_saved(self, hubs: Iterable[str]) -> None:
        """Checkpoints taken but not saved (the save failed or was cancelled): take them again."""
        self._changed.update(hub for hub in hubs if hub in self._homes)

    def set_away(self, hub: str, until: datetime | None) -> None:
        """The resident is away until ``until`` (None: at home): silences are not judged.

        Only inactivity is paused; alarms (a pendant press) never pass through here.
        """
        home = self._homes.get(hub)
        if home is None or home.away_until != until:
            self._home(hub).away_until = until

    def feedback(
        self,
        hub: str,
        kind: AlertKind,
        outcome: Outcome,
        *,
        details: Mapping[str, object],
        resolved_at: datetime,
    ) -> bool:
        """A person closed one of our alerts as a false alarm or "resident away": be less eager.

        Returns whether it changed anything (each resolution counts once, in order).
        """
        home = self._home(hub)
        if kind is _NO_MOVEMENT and home.no_movement_raised and home.stirring.at is not None:
            # A person closed it after the resident stirred: whoever closed it knows how they
            # are, so the next silence is judged afresh rather than waiting for more movement.
            home.no_movement_raised = False
            forget(home.stirring)
            self._changed.add(hub)
        if kind is AlertKind.NO_MOVEMENT and outcome in _INCIDENT:
            # A person confirmed it: the silence was not their routine, so it is not learned.
            began = details.get("last_activity")
            if not isinstance(began, str):
                return False
            return home.longest.withdraw(datetime.fromisoformat(began).timestamp())
        if outcome not in (Outcome.FALSE_ALARM, Outcome.RESIDENT_AWAY):
            return False
        if home.feedback_until is not None and resolved_at <= home.feedback_until:
            return False
        home.feedback_until = resolved_at
        home.no_movement.limit = None
        s = self.settings
        # What a false alarm teaches is the kind's, in the table of kinds.
        match KINDS[kind].false_alarm:
            case FalseAlarmLesson.LONGER_SILENCE:
                place, band = details.get("place_code"), details.get("band")
                if not isinstance(place, int) or not isinstance(band, int):
                    return False
                cell = (place, band)
                home.slack[cell] = min(home.slack.get(cell, 1.0) * s.feedback_step, s.feedback_max)
            case FalseAlarmLesson.LATER_WAKE:
                home.mornings.slack_min = min(
                    home.mornings.slack_min + s.wake_feedback.total_seconds() / 60,
                    s.wake_feedback_max.total_seconds() / 60,
                )
            case FalseAlarmLesson.LONGER_DOOR_QUIET:
                home.door.slack = min(home.door.slack * 1.5, s.door_feedback_max)
            case FalseAlarmLesson.LESS_EAGER | FalseAlarmLesson.LESS_EAGER_RELEARN as lesson:
                slack = home.advisory_slack.get(kind.value, 1.0)
                home.advisory_slack[kind.value] = min(slack * s.feedback_step, s.feedback_max)
                if lesson is FalseAlarmLesson.LESS_EAGER_RELEARN:
                    learn_recent_days(home.profile)
            case None:
                return False
        return True

    def _away(self, home: HomeState, at: datetime) -> bool:
        return home.away_until is not None and at < home.away_until

    # -- readings ----------------------------------------------------------------

    def observe(self, hub: str, reading: Reading) -> list[Finding]:
        """Fold in one reading, however late it arrives."""
        home = self._home(hub)
        kind = reading.kind
        alive = sensor_reported(
            hub,
            home.sensors,
            reading.sensor,
            reading.ts,
            environment=kind in _ENVIRONMENT,
            motion=kind is _MOTION,
        )
        found = self._observe(hub, home, reading)
        return [alive, *found] if alive else found

    def _observe(self, hub: str, home: HomeState, reading: Reading) -> list[Finding]:
        found: list[Finding] = []
        kind, ts = reading.kind, reading.ts
        if kind is _TEMPERATURE:
            if "bedroom" in self._maps.get(hub, {}).get(reading.sensor, reading.sensor):
                return []  # the living room is what UK guidance is about
            return judge_temperature(
                hub,
                home.cold,
                reading,
                limit_c=self.settings.cold_limit_c,
                cold_for=self.settings.cold_for,
                zone=self._zones.get(hub),
            )
        if kind is _HUMIDITY:
            return []
        if kind is _CONTACT and self._is_front_door(hub, reading.sensor):
            if home.last_door is None or ts > home.last_door:
                # Seen inside since the door was last used: this use can be a leaving. If
                # not (out, or still at the door), it is a coming home or the same use.
                was_in = home.last_activity is not None and (
                    home.last_door is None or home.last_activity > home.last_door
                )
                home.last_door = ts
                door = home.door
                if door.at_night is not None and not door.raised:
                    door.at_night = ts  # still at the door: quiet from its last use
                elif was_in and is_door_night(
                    self._local(hub, ts),
                    in_bed_at=home.pads.in_bed_at,
                    night_starts=self.settings.night_starts,
                    night_ends=self.settings.night_ends,
                ):
                    door.at_night = ts
            return []
        if kind is _CHAIR:
            read_chair_pad(home.pads, reading.value, ts)
        if kind is _BED:
            read_bed_pad(home.pads, reading.value, ts)
        elif kind is _MOTION and reading.value < 1 and reading.sensor not in home.motion_on:
            return []
        if kind is _MOTION:
            # A motion sensor that reports its "on" spell as well as each trigger (most
            # Zigbee PIRs: occupancy true, then false when it clears) saw movement until it
            # cleared, so the silence starts at the clear, not at the trigger: a resident
            # busy in the bathroom for 40 minutes under one "on" is not still for 40.
            # A sensor that only pulses sends no clears and is judged by its triggers.
            if reading.value >= 1:
                home.motion_on.setdefault(reading.sensor, ts)
            else:
                home.motion_on.pop(reading.sensor, None)
                home.motion_clears.add(reading.sensor)
        last = home.last_activity
        if last is not None and ts <= last:
            return []  # late and older than what we know: nothing new about now
        this_hour = self._hour(hub, ts)
        if last is not None and ts - last > ABSENCE:
            resident_back(home.sensors, ts)
        self._learn_gap(hub, home, ts)
        home.last_activity = ts
        home.last_band = this_hour.band
        home.last_day = this_hour.day.toordinal()
        if kind is _BUTTON:
            # The "I'm OK" button is in the hand: the resident is fine and where they were.
            return self._clear_raised(hub, home, ts, home.room or "home")
        today = this_hour.day
        if home.activity_day != today:
            found += self._close_activity_day(hub, home, ts)
            home.activity_day, home.activity_today = today, 0
            home.profile.today = DayCounts()
        home.activity_today += 1
        home.sensors.movements += 1
        mapped = self._maps.get(hub, {}).get(reading.sensor)
        room = self._room(reading, mapped)
        # A mapped contact says they are up and about in its room: a bathroom door opens as
        # they come out as often as when they go in, a bedroom door as they get up, so it
        # neither starts a bathroom stay nor keeps them in bed.
        fixture = mapped is not None and (kind is _CONTACT or kind is _POWER)
        pads = home.pads
        if room != "bedroom" or fixture:
            pads.bed_stay = False  # out of the bedroom: whatever the pad said, they got up
        self._count_for_profile(home, room, ts, last, this_hour.hour)
        home.room = room
        was = home.place
        home.place = UP if fixture else place_of(pads, room, this_hour.hour, ts)
        if home.place == IN_BED:
            pads.in_bed_at = ts
        if home.place == IN_BED and was != IN_BED and this_hour.hour >= BED_TIME_FROM:
            home.profile.today.bed_time = hour_of(self._local(hub, ts))  # the last one counts
        if room == "bathroom":
            count_toilet(home.toilets, ts, hour=this_hour.hour, day=this_hour.day)
        if room == "kitchen":
            kitchen_visit(home.meals, self._local(hub, ts))
        else:
            home.meals.kitchen_since = None
        woke = learn_morning(
            home.mornings,
            room,
            ts,
            this_hour,
            bed_left=pads.bed_left,
            zone=self._zones.get(hub),
        )
        if woke is not None:
            home.profile.wake = woke
        door = home.door
        if door.at_night is not None and ts > door.at_night:
            if door.raised:
                found.append(self._cleared(hub, AlertKind.DOOR_AT_NIGHT, ts, room))
            door.at_night, door.raised = None, False
        if home.no_movement_raised and not moving_again(home.stirring, reading.sensor, ts):
            return found
        if home.no_movement_raised or home.not_up_raised:
            found += self._clear_raised(hub, home, ts, room)
        return found

    def _close_activity_day(self, hub: str, home: HomeState, ts: datetime) -> list[Finding]:
        day = home.activity_day
        if day is None or self._away(home, ts):
            return []
        close_sensor_day(home.sensors, datetime.combine(day, time(0), self._zones.get(hub)))
        away = mostly_away(home.decline, home.activity_today)  # before the day is learned
        found = [
            activity_day(
                hub,
                home.decline,
                day,
                home.activity_today,
                closed_at=ts,
                eagerness=less_eager(home, AlertKind.ACTIVITY_DECLINE),
            )
        ]
        # A day mostly spent away says nothing about how they are.
        if not away:
            profile = home.profile
            counts = profile.today
            measures = [
                profile.wake
                if home.mornings.woke_on == day and profile.wake is not None
                else math.nan,
                profile.toilets
                if home.toilets.closed_night == day and profile.toilets is not None
                else math.nan,
                math.log(max(home.activity_today, 1)),
                counts.kitchen_visits,
                counts.hours_out,
                counts.night_moves,
                counts.bed_time,
            ]
            covered = covered_lately(
                day,
                toilets_raised_on=home.toilets.raised_on,
                decline_raised_on=home.decline.raised_on,
            )
            found.append(
                close_profile_day(
                    hub,
                    profile,
                    day,
                    measures,
                    closed_at=ts,
                    eagerness=less_eager(home, AlertKind.ROUTINE_CHANGE),
                    covered=covered,
                )
            )
        return [f for f in found if f is not None]

    @staticmethod
    def _count_for_profile(
        home: HomeState, room: str, ts: datetime, last: datetime | None, hour: int
    ) -> None:
        counts = home.profile.today
        if room == "kitchen" and home.room != "kitchen":
            counts.kitchen_visits += 1
        if last is not None and home.last_door is not None and home.last_door > last:
            # Out of the front door and back now: out since the last movement before it.
            counts.hours_out += min((ts - last).total_seconds() / 3600, _LONGEST_OUT_H)
        if hour < NIGHT_COUNT_UNTIL and room not in _NIGHT_PASSAGE:
            counts.night_moves += 1  # about the house at night, not bed and the toilet

    def _clear_raised(self, hub: str, home: HomeState, ts: datetime, room: str) -> list[Finding]:
        # Stirring in bed does not end "not up"; getting up does.
        raised = home.raised
        if raised is None or (raised is _NOT_UP and home.place == IN_BED):
            return []
        cleared = self._cleared(hub, raised, ts, room)
        home.no_movement_raised = home.not_up_raised = False
        forget(home.stirring)
        return [cleared]

    def health(self, hub: str, sensors: Sequence[SensorHealth], ts: datetime) -> list[Finding]:
        """A heartbeat's battery levels: a low battery is the installer's to change."""
        home = self._home(hub)
        self.set_sensor_map(hub, {s.sensor: s.room for s in sensors if s.room})
        found = judge_coverage(
            hub,
            home.coverage,
            sensors,
            ts,
            room=home.room or "home",
            zone=self._zones.get(hub),
        )
        found += judge_batteries(hub, home.batteries, sensors, ts, low=self.settings.battery_low)
        return found

    @staticmethod
    def _room(reading: Reading, mapped: str | None) -> str:
        """Where a reading puts the resident, given the sensor's room in the hub's map.

        A motion sensor is in its mapped room. A door, a cupboard, a flush or an appliance
        (the kettle) is used by someone up and in (or at the door of) its room: the map's
        room too, but never a place of its own (see _observe). Pads say where the resident
        is by what they are (in bed, in the chair); a sensor the map does not name keeps a
        place of its own name: nothing says where it is.
        """
        kind = reading.kind
        if mapped is not None and (kind is _MOTION or kind is _CONTACT or kind is _POWER):
            return mapped
        return room_for(reading.sensor, kind)

    def _is_front_door(self, hub: str, sensor: str) -> bool:
        mapped = self._maps.get(hub, {}).get(sensor)
        return mapped == FRONT_DOOR_ROOM if mapped is not None else sensor == FRONT_DOOR_SENSOR

    def _learn_gap(self, hub: str, home: HomeState, ts: datetime) -> None:
        last = home.last_activity
        if home.longest.held:
            home.longest.mature(ts.timestamp())
        if last is None or home.not_up_raised or self._away(home, ts):
            return  # no history yet, not up, or away: not something to learn as normal
        if home.last_door is not None and home.last_door > last:
            return  # out of the house: not a silence at home
        band, day = home.last_band, home.last_day
        if band is None or day is None:  # just restored
            local = self._local(hub, last)
            band, day = band_of(hour_of(local)), local.date().toordinal()
        gap_s = (ts - last).total_seconds()
        place = home.place
        cell = band * _PLACE_COUNT + place  # cell_of(), inlined: this runs for every reading
        if home.no_movement_raised and home.stirring.at is not None:
            return  # stirring after the alert: the silence was held at its first reading
        if home.no_movement_raised:
            # The silence raised an alert and ended in movement: part of their routine
            # unless a person confirms an incident (see alerted_learn_after), so the same
            # long evening still spell does not raise every evening for ever.
            s = self.settings
            cached = home.no_movement
            limit = cached.limit if cached.limit_for == last and cached.limit else None
            if limit is None:
                limit, _ = silence_limit(s, home, self._local(hub, last), explain=False)
            minutes = min(gap_s, limit.total_seconds() * s.alerted_learn_factor) / 60
            home.longest.hold(
                day=day,
                cell=cell,
                minutes=minutes,
                learn_after=(ts + s.alerted_learn_after).timestamp(),
                began=last.timestamp(),
            )
            return
        home.gaps.learn(band=band, place=place, gap_s=gap_s)
        longest, minutes = home.longest, gap_s / 60
        if longest.day != day:
            longest.learn(day=day, cell=cell, minutes=minutes)
        elif minutes > longest.today[cell]:  # most gaps are not the day's longest
            longest.today[cell] = minutes

    # -- the passing of time -------------------------------------------------------------

    def advance(self, hub: str, watermark: datetime) -> list[Finding]:
        """Everything up to ``watermark`` has arrived: judge the silences so far."""
        home = self._homes.get(hub) or self._home(hub)
        if home.watermark is not None and watermark <= home.watermark:
            return []
        self._changed.add(hub)
        home.watermark = watermark
        found: list[Finding] = []
        # The morning and the meal checks are kept in UTC: the watermark is compared with
        # them every minute, and comparing across time zones costs more than the rest.
        if home.next_morning is None or watermark >= home.next_morning:
            local = self._local(hub, watermark)
            if home.last_activity is not None:
                closed, counted = close_night(
                    hub,
                    home.toilets,
                    local,
                    eagerness=less_eager(home, AlertKind.NIGHT_TOILET_VISITS),
                )
                if counted is not None:
                    home.profile.toilets = counted
                found += closed
            meals = meal_deadlines(
                home.meals,
                local.date(),
                self._zones.get(hub),
                factor=less_eager(home, AlertKind.MISSED_MEAL).factor,
            )
            home.meals.checks = [(at.astimezone(UTC), meal) for at, meal in meals if at > watermark]
            day = (
                local.date() + timedelta(days=1)
                if local.hour >= MORNING_RECKONING
                else local.date()
            )
            home.next_morning = datetime.combine(
                day, time(MORNING_RECKONING), local.tzinfo
            ).astimezone(UTC)
        checks = home.meals.checks
        while checks and watermark >= checks[0][0]:
            due, meal = checks.pop(0)
            if home.no_movement_raised or home.not_up_raised or watermark - due > _MEAL_LATE:
                continue  # a silence is already raised, or the hub was away at the time
            local = self._local(hub, watermark)
            at_home = AtHome(
                room=home.room,
                last_activity=home.last_activity,
                last_door=home.last_door,
                away=self._away(home, watermark),
            )
            eagerness = less_eager(home, AlertKind.MISSED_MEAL)
            missed = missed_meal(hub, home.meals, meal, local, home=at_home, eagerness=eagerness)
            if missed:
                found.append(missed)
        if home.next_sensor_check is None or watermark >= home.next_sensor_check:
            home.next_sensor_check = watermark + _SENSOR_CHECK
            if not self._away(home, watermark):
                found += check_sensors(hub, home.sensors, watermark)
        if home.door.at_night is not None:
            found += judge_door(
                hub,
                home.door,
                watermark,
                quiet=self.settings.door_quiet,
                zone=self._zones.get(hub),
            )
        if home.place == IN_BED:
            found += self._not_up(hub, home, watermark)
        last = home.last_activity
        # Most minutes: no silence yet as long as the shortest limit for where they are.
        if last is not None and watermark - last > self._floors[home.place]:
            found += judge_no_movement(
                hub,
                self.settings,
                home,
                watermark,
                floor=self._floors[home.place],
                zone=self._zones.get(hub),
                away=self._away(home, watermark),
            )
        return found

    def _not_up(self, hub: str, home: HomeState, watermark: datetime) -> list[Finding]:
        """Still in bed past this resident's own latest usual time (server.detect.mornings)."""
        if home.place != IN_BED or home.last_activity is None:
            return []
        this_hour = self._hour(hub, watermark)
        not_up = judge_not_up(
            hub,
            home.mornings,
            watermark,
            this_hour,
            latest=latest_wake_for(self.settings, home.mornings, this_hour.day),
            zone=self._zones.get(hub),
            held=home.no_movement_raised or home.not_up_raised or self._away(home, watermark),
        )
        if not_up is None:
            return []
        home.not_up_raised = True
        return [not_up]

    def _cleared(self, hub: str, kind: AlertKind, ts: datetime, room: str) -> Cleared:
        return Cleared(
            hub=hub,
            kind=kind,
            event_at=ts,
            reason=f"Movement again in the {room} at {self._local(hub, ts):%H:%M}.",
        )

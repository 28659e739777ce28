"""Watching one home the way someone who knows the resident would: learned, explained, in event time.

:class:`HomeWatch` is carewatch's detector set. It is pure (readings and
watermarks in, findings out) and per home:

- **adaptive inactivity**: how long a silence is unusual for *this* resident at
  this time of day and in this place (up and about, in the bathroom, in bed),
  learned from their own gaps (:mod:`server.detect.gaps`) with a population
  prior for the first days, and floors and ceilings an operator can set. In
  bed at night, silence is sleep until they are later than their own latest
  usual getting-up time: "not up". Out of the front door with nothing since
  is "out", never "fallen"; a silence during a hub outage is never judged,
  because the watermark does not move.
- **the front door at night** followed by no movement inside: urgent.
- **a cold home**: the living room below the limit (18 °C) for a sustained time.
- **night toilet visits** rising over several nights against the resident's
  own baseline (median and MAD): an advisory, "possible infection".
- **batteries** running low: technical.

Anomalous stretches are not learned from, so a fall does not teach the
detector that long silences are normal.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from edge.protocol import Reading, ReadingKind, SensorHealth
from server.alerts.model import AlertKind, Severity
from server.detect.conditions import Cleared, Condition, Finding
from server.detect.gaps import BATHROOM, IN_BED, IN_CHAIR, UP, GapModel, band_of
from server.detect.inactivity import FRONT_DOOR_SENSOR, format_duration, room_of

__all__ = ["HomeWatch", "WatchSettings"]

_PLACE_WORDS = {
    UP: "up and about",
    BATHROOM: "in the bathroom",
    IN_BED: "in bed",
    IN_CHAIR: "in the chair",
}


@dataclass(slots=True, frozen=True)
class WatchSettings:
    """An operator's limits; the learned thresholds stay between each floor and ceiling."""

    up_floor: timedelta = timedelta(minutes=20)
    up_ceiling: timedelta = timedelta(hours=3)
    bathroom_floor: timedelta = timedelta(minutes=20)
    bathroom_ceiling: timedelta = timedelta(minutes=90)
    chair_floor: timedelta = timedelta(minutes=75)
    chair_ceiling: timedelta = timedelta(hours=3)
    nap_floor: timedelta = timedelta(hours=2)
    nap_ceiling: timedelta = timedelta(hours=4)
    # How rare a silence must be (share of the resident's own gaps that are shorter).
    rarity: float = 0.999
    margin: float = 1.25
    # Before a home has a fortnight of mornings: the latest a resident is expected up.
    latest_wake_default: time = time(10, 0)
    wake_margin: timedelta = timedelta(minutes=60)
    night_starts: time = time(22, 0)
    night_ends: time = time(6, 0)
    door_quiet: timedelta = timedelta(minutes=10)
    cold_limit_c: float = 18.0
    cold_for: timedelta = timedelta(hours=2)
    battery_low: float = 10.0


@dataclass(slots=True)
class _Home:
    gaps: GapModel = field(default_factory=GapModel)
    last_activity: datetime | None = None
    place: int = UP
    room: str | None = None
    in_bed: bool = False
    has_bed_pad: bool = False
    in_chair: bool = False
    not_up_on: date | None = None
    bed_left: datetime | None = None
    last_door: datetime | None = None
    watermark: datetime | None = None
    raised: AlertKind | None = None
    wakes: deque[float] = field(default_factory=lambda: deque(maxlen=28))
    weekend_wakes: deque[float] = field(default_factory=lambda: deque(maxlen=12))
    woke_on: date | None = None
    door_at_night: datetime | None = None
    door_raised: bool = False
    cold_since: dict[str, datetime] = field(default_factory=dict)
    cold_raised: set[str] = field(default_factory=set)
    night_counts: deque[int] = field(default_factory=lambda: deque(maxlen=28))
    tonight: int = 0
    night_of: date | None = None
    last_bathroom: datetime | None = None
    toilets_raised_on: date | None = None
    closed_night: date | None = None
    toilet_cusum: float = 0.0
    recent_nights: deque[int] = field(default_factory=lambda: deque(maxlen=3))
    low_batteries: set[str] = field(default_factory=set)


class HomeWatch:
    """carewatch's detectors for every home, keyed by hub."""

    def __init__(self, settings: WatchSettings | None = None) -> None:
        self.settings = settings or WatchSettings()
        self._homes: dict[str, _Home] = {}
        self._zones: dict[str, ZoneInfo] = {}

    def set_timezone(self, hub: str, zone: ZoneInfo) -> None:
        """The resident's local time zone: nights, mornings and meal times are local."""
        self._zones[hub] = zone

    def _local(self, hub: str, ts: datetime) -> datetime:
        zone = self._zones.get(hub)
        return ts.astimezone(zone) if zone else ts

    def _home(self, hub: str) -> _Home:
        return self._homes.setdefault(hub, _Home())

    # -- readings ----------------------------------------------------------------

    def observe(self, hub: str, reading: Reading) -> list[Finding]:
        """Fold in one reading, however late it arrives."""
        home = self._home(hub)
        found: list[Finding] = []
        kind = reading.kind
        if kind is ReadingKind.TEMPERATURE:
            return self._temperature(hub, home, reading)
        if kind is ReadingKind.HUMIDITY:
            return []
        if kind is ReadingKind.CONTACT and reading.sensor == FRONT_DOOR_SENSOR:
            if home.last_door is None or reading.ts > home.last_door:
                home.last_door = reading.ts
                if self._is_night(self._local(hub, reading.ts).time()):
                    home.door_at_night = reading.ts
            return []
        if kind is ReadingKind.CHAIR:
            home.in_chair = reading.value >= 0.5
        if kind is ReadingKind.BED:
            home.has_bed_pad = True
            home.in_bed = reading.value >= 0.5
            if not home.in_bed:
                home.bed_left = reading.ts
        elif kind is ReadingKind.MOTION and reading.value < 1:
            return []
        if home.last_activity is not None and reading.ts <= home.last_activity:
            return []  # late and older than what we know: nothing new about now
        if kind is ReadingKind.BUTTON:
            # The "I'm OK" button is in the hand: the resident is fine and where they were.
            self._learn_gap(hub, home, reading.ts)
            home.last_activity = reading.ts
            return self._clear_raised(hub, home, reading.ts, home.room or "home")
        room = self._room(reading)
        self._learn_gap(hub, home, reading.ts)
        home.last_activity = reading.ts
        home.room = room
        home.place = self._place(hub, home, room, reading.ts)
        if room == "bathroom":
            self._count_toilet(hub, home, reading.ts)
        self._learn_wake(hub, home, room, reading.ts)
        if home.door_at_night is not None and reading.ts > home.door_at_night:
            if home.door_raised:
                found.append(self._cleared(hub, AlertKind.DOOR_AT_NIGHT, reading.ts, room))
            home.door_at_night, home.door_raised = None, False
        return found + self._clear_raised(hub, home, reading.ts, room)

    def _clear_raised(self, hub: str, home: _Home, ts: datetime, room: str) -> list[Finding]:
        # Stirring in bed does not end "not up"; getting up does.
        if home.raised is None or (home.raised is AlertKind.NOT_UP and home.place == IN_BED):
            return []
        cleared = self._cleared(hub, home.raised, ts, room)
        home.raised = None
        return [cleared]

    def health(self, hub: str, sensors: Sequence[SensorHealth], ts: datetime) -> list[Finding]:
        """A heartbeat's battery levels: a low battery is the installer's to change."""
        home = self._home(hub)
        found: list[Finding] = []
        for sensor in sensors:
            if sensor.battery is None:
                continue
            if (
                sensor.battery < self.settings.battery_low
                and sensor.sensor not in home.low_batteries
            ):
                home.low_batteries.add(sensor.sensor)
                found.append(
                    Condition(
                        hub=hub,
                        kind=AlertKind.BATTERY_LOW,
                        severity=Severity.TECHNICAL,
                        event_at=ts,
                        reason=f"The battery of {sensor.sensor} is at {sensor.battery:.0f} %: "
                        "change it within a week, or the sensor will stop.",
                        details={"sensor": sensor.sensor, "battery": sensor.battery},
                    )
                )
            elif sensor.battery >= 50:
                home.low_batteries.discard(sensor.sensor)
        return found

    @staticmethod
    def _room(reading: Reading) -> str:
        if reading.kind is ReadingKind.BED:
            return "bedroom"
        if reading.kind is ReadingKind.CHAIR:
            return "lounge"
        if reading.sensor in ("kettle", "fridge-door"):
            return "kitchen"
        return room_of(reading.sensor)

    def _place(self, hub: str, home: _Home, room: str, ts: datetime) -> int:
        if room == "bathroom":
            return BATHROOM
        if room == "lounge" and home.in_chair:
            return IN_CHAIR
        if room == "bedroom":
            if home.in_bed:
                return IN_BED
            if not home.has_bed_pad and self._is_sleep_time(self._local(hub, ts).time()):
                return IN_BED
        return UP

    def _is_night(self, t: time) -> bool:
        return t >= self.settings.night_starts or t < self.settings.night_ends

    @staticmethod
    def _is_sleep_time(t: time) -> bool:
        return t >= time(18, 0) or t < time(11, 0)

    def _learn_gap(self, hub: str, home: _Home, ts: datetime) -> None:
        last = home.last_activity
        if last is None or home.raised:
            return  # no history yet, or an anomaly: not something to learn as normal
        if home.last_door is not None and home.last_door > last:
            return  # out of the house: not a silence at home
        hour = self._local(hub, last)
        home.gaps.learn(
            band=band_of(hour.hour + hour.minute / 60),
            place=home.place,
            gap_s=(ts - last).total_seconds(),
        )

    def _learn_wake(self, hub: str, home: _Home, room: str, ts: datetime) -> None:
        """The first time up and about in the morning, from the bed pad if there is one."""
        local = self._local(hub, ts)
        # The day's rooms; a night trip to the bathroom by the hall is not getting up.
        if room not in ("kitchen", "lounge") or not (4 <= local.hour < 13):
            return
        if home.woke_on == local.date():
            return
        home.woke_on = local.date()
        woke = local
        if home.bed_left is not None and timedelta(0) <= ts - home.bed_left < timedelta(hours=1):
            woke = self._local(hub, home.bed_left)
        if not home.raised:
            hour = woke.hour + woke.minute / 60
            (home.weekend_wakes if woke.weekday() >= 5 else home.wakes).append(hour)

    # -- night toilet visits ----------------------------------------------------------

    def _count_toilet(self, hub: str, home: _Home, ts: datetime) -> None:
        local = self._local(hub, ts)
        if local.hour >= 6:
            home.last_bathroom = ts
            return
        self._roll_night(home, local.date())
        if home.last_bathroom is None or ts - home.last_bathroom > timedelta(minutes=10):
            home.tonight += 1
        home.last_bathroom = ts

    @staticmethod
    def _roll_night(home: _Home, night: date) -> None:
        # Visits before 06:00 belong to the night that ends that morning.
        if home.night_of != night:
            home.night_of, home.tonight = night, 0

    def _night_toilets(self, hub: str, home: _Home, local: datetime) -> list[Finding]:
        """Each morning at 07:00: last night's visits against this resident's own nights."""
        today = local.date()
        if local.hour < 7 or home.closed_night == today or home.last_activity is None:
            return []
        home.closed_night = today
        counted = home.tonight if home.night_of == today else 0
        home.recent_nights.append(counted)
        history = list(home.night_counts)
        if len(history) < 10:
            home.night_counts.append(counted)
            return []
        # CUSUM on the nightly count against the resident's own usual (a trimmed
        # mean, so one bad night does not move it): slow rises add up.
        kept = sorted(history)[: int(0.9 * len(history)) + 1]
        usual = max(0.3, sum(kept) / len(kept))
        slack = 0.5 * max(0.5, usual)
        home.toilet_cusum = max(0.0, home.toilet_cusum + counted - usual - slack)
        if home.toilet_cusum < 4 * max(1.0, usual**0.5):
            home.night_counts.append(counted)
            return []
        home.toilet_cusum = 0.0
        if home.toilets_raised_on is not None and (today - home.toilets_raised_on).days <= 7:
            return []
        home.toilets_raised_on = today
        recent = list(home.recent_nights)[-3:]
        low, top = min(history), sorted(history)[int(0.9 * (len(history) - 1))]
        return [
            Condition(
                hub=hub,
                kind=AlertKind.NIGHT_TOILET_VISITS,
                severity=Severity.ADVISORY,
                event_at=local,
                reason=(
                    f"Night toilet visits {', '.join(str(n) for n in recent)} in the last "
                    f"{len(recent)} nights; usually {low} to {top}: possible infection, "
                    "consider a check."
                ),
                details={"recent": recent, "usual": round(usual, 2)},
            )
        ]

    # -- temperature ------------------------------------------------------------------

    def _temperature(self, hub: str, home: _Home, reading: Reading) -> list[Finding]:
        if "bedroom" in reading.sensor:
            return []  # the living room is what UK guidance is about
        s = self.settings
        if reading.value >= s.cold_limit_c:
            home.cold_since.pop(reading.sensor, None)
            if reading.sensor in home.cold_raised:
                home.cold_raised.discard(reading.sensor)
                return [
                    Cleared(
                        hub=hub,
                        kind=AlertKind.COLD_HOME,
                        event_at=reading.ts,
                        reason=f"The living room is back to {reading.value:.1f} °C.",
                    )
                ]
            return []
        since = home.cold_since.setdefault(reading.sensor, reading.ts)
        if reading.ts - since >= s.cold_for and reading.sensor not in home.cold_raised:
            home.cold_raised.add(reading.sensor)
            local = self._local(hub, since)
            return [
                Condition(
                    hub=hub,
                    kind=AlertKind.COLD_HOME,
                    severity=Severity.ADVISORY,
                    event_at=reading.ts,
                    reason=(
                        f"The living room has been below {s.cold_limit_c:g} °C since "
                        f"{local:%H:%M} ({reading.value:.1f} °C now). Older people should have at "
                        "least 18 °C: is the heating working? Consider a call."
                    ),
                    details={"temperature": reading.value, "since": since.isoformat()},
                )
            ]
        return []

    # -- the passing of time -------------------------------------------------------------

    def advance(self, hub: str, watermark: datetime) -> list[Finding]:
        """Everything up to ``watermark`` has arrived: judge the silences so far."""
        home = self._home(hub)
        if home.watermark is not None and watermark <= home.watermark:
            return []
        home.watermark = watermark
        local = self._local(hub, watermark)
        found = self._night_toilets(hub, home, local)
        found += self._door(hub, home, watermark)
        found += self._not_up(hub, home, watermark)
        found += self._inactivity(hub, home, watermark)
        return found

    def _not_up(self, hub: str, home: _Home, watermark: datetime) -> list[Finding]:
        """Still in bed past this resident's own latest usual time: however they stir, not up."""
        if home.place != IN_BED or home.last_activity is None:
            return []
        local = self._local(hub, watermark)
        latest = self._latest_wake(home, local.date())
        if not (latest <= local.time() < time(14, 0)) or home.not_up_on == local.date():
            return []
        if home.raised:
            return []  # already raised as a silence
        home.not_up_on = local.date()
        home.raised = AlertKind.NOT_UP
        learned = len(home.wakes) >= 7
        usual = (
            f"They are usually up by {_clock(statistics.median(home.wakes))}; "
            f"later than {latest:%H:%M} is unusual for them."
            if learned
            else f"Not up by {latest:%H:%M}."
        )
        deadline = datetime.combine(local.date(), latest, local.tzinfo)
        return [
            Condition(
                hub=hub,
                kind=AlertKind.NOT_UP,
                severity=Severity.URGENT,
                event_at=deadline,
                reason=f"Still in bed at {local:%H:%M}. {usual} Call to check they are well.",
                details={"latest_wake": f"{latest:%H:%M}", "wakes_learned": len(home.wakes)},
            )
        ]

    def _door(self, hub: str, home: _Home, watermark: datetime) -> list[Finding]:
        opened = home.door_at_night
        if opened is None or home.door_raised:
            return []
        if watermark - opened < self.settings.door_quiet:
            return []
        home.door_raised = True
        local = self._local(hub, opened)
        return [
            Condition(
                hub=hub,
                kind=AlertKind.DOOR_AT_NIGHT,
                severity=Severity.URGENT,
                event_at=opened + self.settings.door_quiet,
                reason=(
                    f"The front door was used at {local:%H:%M} and there has been no movement "
                    f"inside for {format_duration(watermark - opened)}. At night the resident "
                    "is normally in: they may have gone out. Call, then check the home."
                ),
                details={"door_at": opened.isoformat()},
            )
        ]

    def _inactivity(self, hub: str, home: _Home, watermark: datetime) -> list[Finding]:
        last = home.last_activity
        if home.raised or last is None:
            return []
        if home.last_door is not None and home.last_door > last:
            return []  # left by the front door and nothing moved since: out
        limit, why = self._limit(hub, home, last)
        silence = watermark - last
        if silence <= limit:
            return []
        home.raised = AlertKind.NO_MOVEMENT
        since = self._local(hub, last)
        place = _PLACE_WORDS[home.place]
        return [
            Condition(
                hub=hub,
                kind=AlertKind.NO_MOVEMENT,
                severity=Severity.URGENT,
                event_at=last + limit,
                reason=(
                    f"No movement for {format_duration(silence)} since {since:%H:%M} "
                    f"({home.room or 'home'}, {place}). {why}"
                ),
                details={
                    "last_activity": last.isoformat(),
                    "room": home.room,
                    "place": place,
                    "silence_minutes": round(silence.total_seconds() / 60, 1),
                    "limit_minutes": round(limit.total_seconds() / 60, 1),
                },
            )
        ]

    def _limit(self, hub: str, home: _Home, last: datetime) -> tuple[timedelta, str]:
        s = self.settings
        local = self._local(hub, last)
        hour = local.hour + local.minute / 60
        band = band_of(hour)
        if home.place == IN_BED and self._is_sleep_time(local.time()):
            latest = self._latest_wake(home, local.date())
            wake = datetime.combine(local.date(), latest, local.tzinfo)
            if wake <= local:
                if local.hour >= 14:
                    wake += timedelta(days=1)  # gone to bed for the night
                else:
                    return s.nap_ceiling, "A long silence in bed in the morning."
            learned = len(home.wakes) >= 7
            why = (
                f"Usually up by {_clock(statistics.median(home.wakes))}; later than "
                f"{latest:%H:%M} is unusual for them."
                if learned
                else f"Not up by {latest:%H:%M}."
            )
            # In UTC: on a clock-change night local arithmetic is an hour out.
            return max(wake.astimezone(UTC) - local.astimezone(UTC), s.nap_floor), why
        floor, ceiling = {
            UP: (s.up_floor, s.up_ceiling),
            BATHROOM: (s.bathroom_floor, s.bathroom_ceiling),
            IN_CHAIR: (s.chair_floor, s.chair_ceiling),
            IN_BED: (s.nap_floor, s.nap_ceiling),
        }[home.place]
        rare = home.gaps.quantile(band=band, place=home.place, q=s.rarity)
        usual = home.gaps.quantile(band=band, place=home.place, q=0.5)
        limit = min(max(timedelta(seconds=rare * s.margin), floor), ceiling)
        return limit, (
            f"At this time of day they usually move every {format_duration(timedelta(seconds=max(usual, 60)))}; "
            f"{s.rarity:.1%} of their gaps are under {format_duration(timedelta(seconds=max(rare, 60)))}."
        )

    def _latest_wake(self, home: _Home, day: date | None = None) -> time:
        """The latest this resident usually gets up (weekends apart once there are enough)."""
        s = self.settings
        wakes = home.wakes
        if day is not None and day.weekday() >= 5 and len(home.weekend_wakes) >= 7:
            wakes = home.weekend_wakes
        if len(wakes) < 7:
            return s.latest_wake_default
        median = statistics.median(wakes)
        spread = statistics.median(abs(w - median) for w in wakes)
        latest = median + max(s.wake_margin.total_seconds() / 3600, 4 * spread)
        return _as_time(min(latest, 13.0))

    def _cleared(self, hub: str, kind: AlertKind, ts: datetime, room: str) -> Cleared:
        return Cleared(
            hub=hub,
            kind=kind,
            event_at=ts,
            reason=f"Movement again in the {room} at {self._local(hub, ts):%H:%M}.",
        )


def _as_time(hour: float) -> time:
    minutes = round(hour * 60) % (24 * 60)
    return time(minutes // 60, minutes % 60)


def _clock(hour: float) -> str:
    return f"{_as_time(hour):%H:%M}"

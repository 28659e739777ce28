"""What carewatch remembers about one home, and its checkpoint form.

A checkpoint is ``CWH2``, the length of a MessagePack header, the header and the
gap histogram's raw counts. The header holds its format version ``v``, what every
detector shares (the last movement, where the resident is, the watermark, "away",
the silence raised, the feedback), the longest silences, and one section per
detector with a state of its own: ``cold_home``, ``front_door``, ``night_toilets``,
``batteries``, ``coverage``, ``mornings``, ``sensors``, ``meals``, ``decline``,
``day_profile``, ``pads`` and ``stirring``. Each section is written and read by its detector's
state class, under the names the fields had when they were flat in the header.
The daily longest silences are float32 cells as bytes, as they are kept in memory.

MessagePack, not JSON, since format 5: a learned home's header packs in a tenth of
the time ``json.dumps`` took (0.03 ms against 0.27), and the longest silences as
bytes need no rounding of 900 floats one by one (0.4 ms). A fleet's checkpoints
are made on the event loop that also reads readings, so this is ingest's CPU.

Older formats are still read: formats 1 to 4 began ``CWH1`` with a JSON header
(the longest silences as lists of numbers); version 1 (no ``v``) had every field
flat and one ``raised`` for both silences, version 2 the sections up to
``mornings``, version 3 all but ``pads`` and ``stirring``; a section an older header lacks is read from its flat fields. A
server restored from it neither forgets a baseline nor raises an alert it has
already raised. An unreadable checkpoint (a newer version, a truncated row) is
refused with :class:`CheckpointError` and the home starts from the population
prior again.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import msgpack

from server.detect.batteries import Batteries
from server.detect.cold_home import ColdHome
from server.detect.coverage import Coverage
from server.detect.daily import Decline, Meals
from server.detect.day_profile import DayProfile
from server.detect.front_door import FrontDoor
from server.detect.gaps import UP, GapModel
from server.detect.longest import Longest
from server.detect.mornings import Mornings
from server.detect.night_toilets import NightToilets
from server.detect.no_movement import NoMovement
from server.detect.pads import Pads
from server.detect.sensors import Sensors
from server.detect.stirring import Stirring
from server.domain.alerts import AlertKind

__all__ = ["CheckpointError", "HomeState"]

_MAGIC = b"CWH2"
# Formats 1 to 4: the same layout with a JSON header.
_MAGIC_JSON = b"CWH1"
_HEADER = struct.Struct(">4sI")
# The header's format: 2 has a section per detector and a raised slot per silence; 3
# sections for the silent sensors, meals, the decline and the day profile too; 4 for the
# bed and chair pads and the stirring after an alert; 5 is 4 in MessagePack, the longest
# silences as float32 bytes. Older formats are still read.
_VERSION = 5

# The scalar fields and how they are written: (datetime | date | AlertKind | plain) or None.
_TIMES = (
    "last_activity",
    "last_door",
    "watermark",
    "away_until",
    "feedback_until",
)
_DAYS = ("activity_day",)
_PLAIN = (
    "place",
    "room",
    "activity_today",
    "advisory_slack",
)
# Fields added after checkpoints were first written: an older checkpoint lacks them
# and keeps the defaults, rather than the home forgetting everything it learned.
_ADDED = frozenset({"advisory_slack"})


_SECTIONS = (
    "cold_home",
    "front_door",
    "night_toilets",
    "batteries",
    "coverage",
    "mornings",
    "sensors",
    "meals",
    "decline",
    "day_profile",
    "pads",
    "stirring",
)
# The sections each older format had; the rest were flat in its header, under the names
# the sections keep.
_SECTIONS_OF = {
    1: (),
    2: ("cold_home", "front_door", "night_toilets", "batteries", "coverage", "mornings"),
    3: _SECTIONS[: _SECTIONS.index("pads")],
}


class CheckpointError(ValueError):
    """A checkpoint this version cannot read."""


@dataclass(slots=True)
class HomeState:
    """Per-home detector state; small (about 17 KB as a checkpoint, 12 KB of it the gap histogram)."""

    gaps: GapModel = field(default_factory=GapModel)
    # Each day's longest silence per place and band: what the no-movement limits come from.
    longest: Longest = field(default_factory=Longest)
    last_activity: datetime | None = None
    place: int = UP
    room: str | None = None
    # What the bed and chair pads have said (server.detect.pads): ``place`` is set from it.
    pads: Pads = field(default_factory=Pads)
    last_door: datetime | None = None
    watermark: datetime | None = None
    # The silence raised and not yet ended: one slot each, at most one of them set (a
    # silence raised as one is not raised again as the other).
    no_movement_raised: bool = False
    not_up_raised: bool = False
    # After a no-movement alert: the first reading since, and its sensor. The alert ends
    # when the resident is seen moving about again, not at a lone blip (server.detect.stirring).
    stirring: Stirring = field(default_factory=Stirring)
    # The detectors with a state of their own, each its own checkpoint section.
    door: FrontDoor = field(default_factory=FrontDoor)
    cold: ColdHome = field(default_factory=ColdHome)
    toilets: NightToilets = field(default_factory=NightToilets)
    batteries: Batteries = field(default_factory=Batteries)
    coverage: Coverage = field(default_factory=Coverage)
    mornings: Mornings = field(default_factory=Mornings)
    # The resident said they are away: no inactivity judgements until then.
    away_until: datetime | None = None
    # Feedback: per place and band, how much longer than learned a silence must be.
    slack: dict[tuple[int, int], float] = field(default_factory=dict)
    # Feedback on advisories: per alert kind, how much less eagerly it is raised.
    advisory_slack: dict[str, float] = field(default_factory=dict)
    feedback_until: datetime | None = None
    # Meals and the decline in moving about (server.detect.daily), and today's movements.
    meals: Meals = field(default_factory=Meals)
    decline: Decline = field(default_factory=Decline)
    activity_day: date | None = None
    activity_today: int = 0
    # The day profile (server.detect.day_profile): several measures off together.
    profile: DayProfile = field(default_factory=DayProfile)
    # Each sensor's reports, for telling a silent one (server.detect.sensors).
    sensors: Sensors = field(default_factory=Sensors)
    # Not checkpointed: the no-movement limit for the current last activity.
    no_movement: NoMovement = field(default_factory=NoMovement)
    last_band: int | None = None
    last_day: int | None = None
    # The next local 07:00 (the morning's reckoning).
    next_morning: datetime | None = None
    next_sensor_check: datetime | None = None
    # Motion sensors whose last report was "on", since when, and those seen to clear.
    motion_on: dict[str, datetime] = field(default_factory=dict)
    motion_clears: set[str] = field(default_factory=set)

    @property
    def raised(self) -> AlertKind | None:
        """The silence raised and not yet ended, if any."""
        if self.no_movement_raised:
            return AlertKind.NO_MOVEMENT
        return AlertKind.NOT_UP if self.not_up_raised else None

    def to_bytes(self) -> bytes:
        """The checkpoint form."""
        header: dict[str, Any] = {}
        for name in _TIMES:
            value = getattr(self, name)
            header[name] = value.isoformat() if value else None
        for name in _DAYS:
            value = getattr(self, name)
            header[name] = value.isoformat() if value else None
        for name in _PLAIN:
            header[name] = getattr(self, name)
        header["v"] = _VERSION
        header["no_movement_raised"] = self.no_movement_raised
        header["not_up_raised"] = self.not_up_raised
        header["cold_home"] = self.cold.section()
        header["front_door"] = self.door.section()
        header["night_toilets"] = self.toilets.section()
        header["batteries"] = self.batteries.section()
        header["coverage"] = self.coverage.section()
        header["mornings"] = self.mornings.section()
        header["sensors"] = self.sensors.section()
        header["meals"] = self.meals.section()
        header["decline"] = self.decline.section()
        header["day_profile"] = self.profile.section()
        header["pads"] = self.pads.section()
        header["stirring"] = self.stirring.section()
        header["slack"] = [[p, b, v] for (p, b), v in self.slack.items()]
        header["longest"] = self.longest.state()
        encoded: bytes = msgpack.packb(header)
        return _HEADER.pack(_MAGIC, len(encoded)) + encoded + self.gaps.state()

    @classmethod
    def from_bytes(cls, data: bytes) -> HomeState:
        """A state from :meth:`to_bytes`."""
        try:
            magic, length = _HEADER.unpack_from(data)
            if magic not in (_MAGIC, _MAGIC_JSON):
                raise CheckpointError(f"not a home checkpoint (starts {magic!r})")
            start = _HEADER.size
            raw = data[start : start + length]
            if len(raw) != length:
                raise ValueError(f"a header of {length} bytes cut short at {len(raw)}")
            header = msgpack.unpackb(raw) if magic == _MAGIC else json.loads(raw)
            if not isinstance(header, dict):
                raise ValueError("a header that is not a map")
            state = cls(gaps=GapModel.restore(data[start + length :]))
            for name in _TIMES:
                value = header.get(name) if name in _ADDED else header[name]
                setattr(state, name, datetime.fromisoformat(value) if value else None)
            for name in _DAYS:
                value = header.get(name) if name in _ADDED else header[name]
                setattr(state, name, date.fromisoformat(value) if value else None)
            for name in _PLAIN:
                if name in header or name not in _ADDED:
                    setattr(state, name, header[name])
            version = header.get("v", 1)
            if version == 1:
                # Every field flat in the header, under the names the sections keep.
                raised = AlertKind(header["raised"]) if header["raised"] else None
                state.no_movement_raised = raised is AlertKind.NO_MOVEMENT
                state.not_up_raised = raised is AlertKind.NOT_UP
                sections = dict.fromkeys(_SECTIONS, header)
            elif version <= _VERSION:
                state.no_movement_raised = bool(header["no_movement_raised"])
                state.not_up_raised = bool(header["not_up_raised"])
                had = _SECTIONS_OF.get(version, _SECTIONS)
                sections = {name: header[name] if name in had else header for name in _SECTIONS}
            else:
                raise CheckpointError(
                    f"home checkpoint version {version}, newer than this server's "
                    f"{_VERSION}: upgrade the server, or the home relearns its routine"
                )
            state.cold = ColdHome.from_section(sections["cold_home"])
            state.door = FrontDoor.from_section(sections["front_door"])
            state.toilets = NightToilets.from_section(sections["night_toilets"])
            state.batteries = Batteries.from_section(sections["batteries"])
            state.coverage = Coverage.from_section(sections["coverage"])
            state.mornings = Mornings.from_section(sections["mornings"])
            state.sensors = Sensors.from_section(sections["sensors"])
            state.meals = Meals.from_section(sections["meals"])
            state.decline = Decline.from_section(sections["decline"])
            state.profile = DayProfile.from_section(sections["day_profile"])
            state.pads = Pads.from_section(sections["pads"])
            state.stirring = Stirring.from_section(sections["stirring"])
            state.slack = {(int(p), int(b)): float(v) for p, b, v in header["slack"]}
            # Added later: an older checkpoint has none, and the days are collected afresh.
            state.longest = Longest.restore(header.get("longest"))
        except CheckpointError:
            raise
        except (struct.error, ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"unreadable home checkpoint: {exc}") from exc
        return state

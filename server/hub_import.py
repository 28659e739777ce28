"""Reading and checking a file of homes to provision: every problem found before anything is written.

The file is CSV with a header row; one line a hub::

    hub,resident,timezone,sensors
    hub-0001,Mrs Edith Clarke,Europe/London,kitchen-pir:motion:kitchen;front-door:contact:front_door

``timezone`` may be empty (Europe/London); ``sensors`` is the hub's sensor map,
``sensor:kind:room`` entries separated by ``;`` (a sensor id may itself hold
``:``, so an entry is split from the right), and may be empty when the hub
reports its map in its heartbeat. Each problem names where it is (``line 7``,
or ``homes[6]`` for the API), what is wrong and what to do.

>>> homes, problems = read_homes_csv(["hub,resident,timezone,sensors",
...     "hub-0001,Edith,,hall-pir:motion:hall", "hub-0002,,Mars/Olympus,hall-pir:motion"])
>>> homes[0]
HomeEntry(where='line 2', hub='hub-0001', resident='Edith', timezone='Europe/London', \
sensors=(SensorEntry(sensor='hall-pir', kind='motion', room='hall'),))
>>> for problem in problems: print(problem)
line 3: sensor entry 'hall-pir:motion' is not sensor:kind:room; write e.g. kitchen-pir:motion:kitchen
>>> for problem in check_homes(homes + [HomeEntry("line 4", "hub-0001", "Edith", "UTC", ())]):
...     print(problem)
line 3: the resident's name is empty; give the name the console should show
line 3: unknown time zone 'Mars/Olympus'; use e.g. Europe/London
line 4: hub hub-0001 is also on line 2; list each hub once
line 4: Edith is in time zone Europe/London on line 2 but UTC here; give one resident one time zone
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from edge.protocol import AlarmKind, ProtocolError, ReadingKind, validate_hub_id, validate_sensor_id
from server.broker_accounts import reserved_name_reason
from server.ingest.sensor_roster import MAX_SENSORS_PER_HUB
from server.store.hub_import import ExistingHub

__all__ = [
    "COLUMNS",
    "SENSOR_KINDS",
    "HomeEntry",
    "ImportPlan",
    "ImportRefused",
    "Problem",
    "SensorEntry",
    "check_homes",
    "plan_import",
    "read_homes_csv",
    "sensor_map_problems",
]

COLUMNS = ("hub", "resident", "timezone", "sensors")
DEFAULT_TIMEZONE = "Europe/London"
# What a sensor may be in a sensor map: a reading's kind, or a life-safety sensor's alarm.
SENSOR_KINDS = frozenset(k.value for k in ReadingKind) | frozenset(
    k.value for k in AlarmKind if k is not AlarmKind.TEST
)
_MAX_NAME = 200
_MAX_ROOM = 64


@dataclass(slots=True, frozen=True)
class SensorEntry:
    """One sensor of a hub's map."""

    sensor: str
    kind: str
    room: str


@dataclass(slots=True, frozen=True)
class HomeEntry:
    """One hub in one resident's home, as the file or the request gave it."""

    where: str
    hub: str
    resident: str
    timezone: str
    sensors: tuple[SensorEntry, ...]


@dataclass(slots=True, frozen=True)
class Problem:
    """What is wrong at one place in the file, and what to do about it."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ImportRefused(ValueError):
    """The file has problems; nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing was imported")
        self.problems = list(problems)


@lru_cache(maxsize=1024)
def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _sensors(where: str, text: str) -> tuple[tuple[SensorEntry, ...], list[Problem]]:
    entries: list[SensorEntry] = []
    problems: list[Problem] = []
    for raw in (part.strip() for part in text.split(";")):
        if not raw:
            continue
        fields = raw.rsplit(":", 2)
        if len(fields) != 3 or not all(fields):
            problems.append(
                Problem(
                    where,
                    f"sensor entry {raw[:80]!r} is not sensor:kind:room; "
                    "write e.g. kitchen-pir:motion:kitchen",
                )
            )
            continue
        entries.append(SensorEntry(*(field.strip() for field in fields)))
    return tuple(entries), problems


def read_homes_csv(lines: Iterable[str]) -> tuple[list[HomeEntry], list[Problem]]:
    """The homes in a CSV file (an open file or its lines), and each line's problems of form."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return [], [Problem("line 1", f"the file is empty; begin it with {','.join(COLUMNS)}")]
    names = [name.strip().lower() for name in header]
    if names[: len(COLUMNS)] != list(COLUMNS) or len(names) > len(COLUMNS):
        return [], [
            Problem(
                "line 1",
                f"the header is {','.join(header)[:200]!r}; it must be {','.join(COLUMNS)}",
            )
        ]
    homes: list[HomeEntry] = []
    problems: list[Problem] = []
    for row in reader:
        where = f"line {reader.line_num}"
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(COLUMNS):
            problems.append(
                Problem(
                    where,
                    f"{len(row)} fields where {len(COLUMNS)} are needed ({','.join(COLUMNS)}); "
                    "quote a name that holds a comma",
                )
            )
            continue
        hub, resident, timezone, sensor_text = (cell.strip() for cell in row)
        sensors, sensor_problems = _sensors(where, sensor_text)
        problems += sensor_problems
        # Kept even with a malformed sensor entry, so that check_homes reports the line's
        # other problems too: one pass over the file finds them all.
        homes.append(HomeEntry(where, hub, resident, timezone or DEFAULT_TIMEZONE, sensors))
    return homes, problems


def _home_problems(home: HomeEntry, server_names: Collection[str]) -> Iterable[str]:
    try:
        validate_hub_id(home.hub)
    except ProtocolError as exc:
        yield exc.reason
    if reason := reserved_name_reason(home.hub, server_names=server_names):
        yield reason
    if not home.resident:
        yield "the resident's name is empty; give the name the console should show"
    elif len(home.resident) > _MAX_NAME or not home.resident.isprintable():
        yield f"the resident's name must be printable and at most {_MAX_NAME} characters"
    if not _known_zone(home.timezone):
        yield f"unknown time zone {home.timezone[:80]!r}; use e.g. Europe/London"
    yield from sensor_map_problems(home.sensors)


def sensor_map_problems(sensors: Sequence[SensorEntry]) -> Iterable[str]:
    """What is wrong with a hub's sensor map, one sentence each (imported or edited on the page)."""
    if len(sensors) > MAX_SENSORS_PER_HUB:
        yield f"{len(sensors)} sensors; a hub may have at most {MAX_SENSORS_PER_HUB}"
    seen: set[str] = set()
    for entry in sensors:
        try:
            validate_sensor_id(entry.sensor)
        except ProtocolError as exc:
            yield exc.reason
        if entry.sensor in seen:
            yield f"sensor {entry.sensor} is listed twice; give each sensor one kind and room"
        seen.add(entry.sensor)
        if entry.kind not in SENSOR_KINDS:
            yield (
                f"sensor {entry.sensor} has unknown kind {entry.kind[:40]!r}; "
                f"use one of {', '.join(sorted(SENSOR_KINDS))}"
            )
        if not entry.room.strip():
            yield f"sensor {entry.sensor} has no room: say where it is (e.g. kitchen, front_door)"
        elif len(entry.room) > _MAX_ROOM or not entry.room.isprintable():
            yield (
                f"sensor {entry.sensor}'s room must be printable and at most {_MAX_ROOM} "
                "characters (e.g. kitchen, front_door)"
            )


def check_homes(homes: Sequence[HomeEntry], *, server_names: Collection[str] = ()) -> list[Problem]:
    """Each home's own problems, and hubs or residents the file contradicts itself on."""
    problems: list[Problem] = []
    first_of_hub: dict[str, str] = {}
    zone_of_resident: dict[str, tuple[str, str]] = {}
    for home in homes:
        problems += (Problem(home.where, text) for text in _home_problems(home, server_names))
        if (earlier := first_of_hub.setdefault(home.hub, home.where)) != home.where:
            problems.append(
                Problem(home.where, f"hub {home.hub} is also on {earlier}; list each hub once")
            )
        zone, where = zone_of_resident.setdefault(home.resident, (home.timezone, home.where))
        if zone != home.timezone:
            problems.append(
                Problem(
                    home.where,
                    f"{home.resident} is in time zone {zone} on {where} but {home.timezone} here; "
                    "give one resident one time zone",
                )
            )
    return problems


@dataclass(slots=True, frozen=True)
class ImportPlan:
    """What an import will do: hubs to create, hubs already there for the same resident."""

    new: list[HomeEntry]
    skipped: list[HomeEntry]


def plan_import(
    homes: Sequence[HomeEntry],
    *,
    existing: Mapping[str, ExistingHub],
    resident_timezones: Mapping[str, str],
) -> ImportPlan:
    """Split checked homes into new and already-imported ones; ImportRefused for conflicts.

    A hub already provisioned in the same resident's home is skipped (the file
    was imported before); in another's home, or revoked, it is a conflict.
    """
    new: list[HomeEntry] = []
    skipped: list[HomeEntry] = []
    problems: list[Problem] = []
    for home in homes:
        there = existing.get(home.hub)
        zone = resident_timezones.get(home.resident, home.timezone)
        if there is not None and there.revoked:
            problems.append(
                Problem(
                    home.where,
                    f"hub {home.hub} was revoked; a revoked id is not reused: give the "
                    "replacement hub a new id",
                )
            )
        elif there is not None and there.resident != home.resident:
            problems.append(
                Problem(
                    home.where,
                    f"hub {home.hub} is already in the home of {there.resident}; revoke it "
                    "there first (carewatch hub revoke) or correct the hub id",
                )
            )
        elif there is not None:
            skipped.append(home)
        elif zone != home.timezone:
            problems.append(
                Problem(
                    home.where,
                    f"{home.resident} is already a resident, in time zone {zone}; "
                    f"write {zone} or leave the resident's other hubs as they are",
                )
            )
        else:
            new.append(home)
    if problems:
        raise ImportRefused(problems)
    return ImportPlan(new, skipped)

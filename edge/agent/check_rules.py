"""What ``carewatch-agent check`` makes of what it saw: pure, so every answer is tested alone.

Each answer is a line an installer reads in a resident's hall, with what to
do when it is not good; :mod:`edge.agent.check` gathers the facts (files,
the broker, zigbee2mqtt, the clock) and hands them here.

>>> seen = ZigbeeSeen(bridge="online", listed=("kitchen_pir", "spare_plug"),
...                   heard={"kitchen_pir": DeviceHealth(battery=87.0, link=120.0)})
>>> sensors = [SensorEntry(device="kitchen_pir", sensor="kitchen-pir", kind="motion", room="kitchen")]
>>> for answer in sensor_answers(sensors, seen):
...     print(answer.line())
ok  kitchen-pir (motion, kitchen): reported; battery 87 %, signal 120/255
NO  spare_plug: paired with zigbee2mqtt but not in the sensor map: add a [[sensors]] entry for it in agent.toml, or remove it from zigbee2mqtt
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from urllib.parse import urlsplit

from edge.agent.settings import GpioEntry, SensorEntry
from edge.protocol import AlarmKind, ReadingKind

__all__ = [
    "CLOCK_TOLERANCE_S",
    "LOW_BATTERY",
    "WEAK_SIGNAL",
    "Answer",
    "DeviceHealth",
    "Verdict",
    "ZigbeeSeen",
    "all_good",
    "clock_answers",
    "gpio_answers",
    "placeholder_answers",
    "sensor_answers",
]

# The server raises its own alert at 10 %; an installer should not leave one this low.
LOW_BATTERY = 20.0
# Zigbee link quality (LQI, 0-255) below which messages start to go missing.
WEAK_SIGNAL = 30.0
# The server refuses readings stamped more than 5 minutes ahead; well inside that.
CLOCK_TOLERANCE_S = 60.0
# What agent.example.toml ships with: left in, the hub can never connect.
_PLACEHOLDERS = ("PASSWORD-FROM-HUB-ADD", "broker.example")
# Kinds whose readings say where the resident is (or how warm the room is): without a
# room the detectors have nowhere to put them. Alarms and check-ins need no room.
_NEEDS_ROOM = frozenset(ReadingKind) - {ReadingKind.BUTTON}
_KNOWN_KINDS = frozenset(k.value for k in ReadingKind) | {
    k.value for k in AlarmKind if k is not AlarmKind.TEST
}


class Verdict(Enum):
    """Whether an answer lets the installer leave."""

    OK = "ok "
    NO = "NO "
    NOTE = "   "


@dataclass(slots=True, frozen=True)
class Answer:
    """One line of the report."""

    verdict: Verdict
    subject: str
    words: str

    def line(self) -> str:
        """As printed."""
        return f"{self.verdict.value} {self.subject}: {self.words}"


@dataclass(slots=True, frozen=True)
class DeviceHealth:
    """What a device's last zigbee2mqtt message said of its battery and radio."""

    battery: float | None = None
    link: float | None = None


@dataclass(slots=True, frozen=True)
class ZigbeeSeen:
    """What listening to the hub's own zigbee2mqtt found."""

    bridge: str | None
    # Friendly names zigbee2mqtt lists as paired (its retained bridge/devices), coordinator aside.
    listed: tuple[str, ...] = ()
    # Friendly name → health, for every device that sent a message while we listened.
    heard: dict[str, DeviceHealth] = field(default_factory=dict)


def placeholder_answers(mqtt_url: str) -> list[Answer]:
    """The example config's placeholders, still in the broker URL the hub will use."""
    parts = urlsplit(mqtt_url)
    found = [p for p in _PLACEHOLDERS if p in (parts.netloc or "")]
    if not found:
        return []
    return [
        Answer(
            Verdict.NO,
            "mqtt_url",
            f"still the example's placeholder ({', '.join(found)}): put the line "
            "CAREWATCH_AGENT_MQTT_URL=… that `carewatch hub add` printed in "
            "/etc/carewatch/agent.env and delete mqtt_url from agent.toml",
        )
    ]


def _health_words(health: DeviceHealth) -> tuple[bool, str]:
    parts: list[str] = []
    good = True
    if health.battery is not None:
        low = health.battery < LOW_BATTERY
        good = good and not low
        parts.append(f"battery {health.battery:.0f} %" + (": replace it now" if low else ""))
    else:
        parts.append("battery not reported")
    if health.link is not None:
        weak = health.link < WEAK_SIGNAL
        good = good and not weak
        parts.append(
            f"signal {health.link:.0f}/255"
            + (": weak, move it or add a mains-powered Zigbee router nearby" if weak else "")
        )
    else:
        parts.append("signal not reported")
    return good, ", ".join(parts)


def sensor_answers(sensors: Sequence[SensorEntry], seen: ZigbeeSeen) -> list[Answer]:
    """Each mapped sensor (heard? battery, signal, room?), then devices the map lacks."""
    answers: list[Answer] = []
    for entry in sorted(sensors, key=lambda s: s.sensor):
        where = f"{entry.kind}, {entry.room}" if entry.room else entry.kind
        subject = f"{entry.sensor} ({where})"
        if entry.kind not in _KNOWN_KINDS:
            known = ", ".join(sorted(_KNOWN_KINDS))
            answers.append(
                Answer(Verdict.NO, subject, f"kind {entry.kind!r} is not one of {known}")
            )
            continue
        if entry.room is None and entry.kind in _NEEDS_ROOM:
            answers.append(
                Answer(
                    Verdict.NO,
                    subject,
                    "no room, so the detectors cannot place it: set room = "
                    '"kitchen" (or bedroom, bathroom, lounge, hall, front_door, …) in its '
                    "[[sensors]] entry",
                )
            )
        health = seen.heard.get(entry.device)
        if health is None:
            answers.append(
                Answer(
                    Verdict.NO,
                    subject,
                    "nothing heard yet: wake it (walk past, open, press) and check again",
                )
            )
            continue
        good, words = _health_words(health)
        answers.append(Answer(Verdict.OK if good else Verdict.NO, subject, f"reported; {words}"))
    mapped = {s.device for s in sensors}
    for device in sorted(set(seen.listed) | set(seen.heard)):
        if device not in mapped:
            answers.append(
                Answer(
                    Verdict.NO,
                    device,
                    "paired with zigbee2mqtt but not in the sensor map: add a [[sensors]] "
                    "entry for it in agent.toml, or remove it from zigbee2mqtt",
                )
            )
    return answers


def gpio_answers(wired: Sequence[GpioEntry]) -> list[Answer]:
    """Wired sensors on the hub's pins: each needs a room as much as a Zigbee one.

    >>> [a.line()[:46] for a in gpio_answers([GpioEntry(pin=17, sensor="hall-pir", kind="motion")])]
    ['NO  hall-pir (motion, GPIO 17): no room, so th']
    """
    return [
        Answer(
            Verdict.NO,
            f"{entry.sensor} ({entry.kind}, GPIO {entry.pin})",
            'no room, so the detectors cannot place it: set room = "hall" (or another room) '
            "in its [[gpio]] entry",
        )
        for entry in wired
        if entry.room is None
    ]


def clock_answers(
    *, offset_s: float | None, round_trip_s: float | None, ntp_synchronised: bool | None
) -> list[Answer]:
    """The hub's clock, against the server's (a ``--test`` round trip) and as NTP says.

    >>> for a in clock_answers(offset_s=-95.0, round_trip_s=0.2, ntp_synchronised=True):
    ...     print(a.line()[:60])
    NO  clock: 95 s ahead of the server's (measured over a 0.2 s
    ok  NTP: synchronised (timedatectl)
    """
    answers: list[Answer] = []
    if offset_s is None or round_trip_s is None:
        answers.append(
            Answer(Verdict.NOTE, "clock", "not compared with the server's: run check --test")
        )
    else:
        # The server's stamp lies somewhere in the round trip: no better than half of it.
        error_s = abs(offset_s) - round_trip_s / 2
        side = "behind" if offset_s > 0 else "ahead of"
        measured = f"(measured over a {round_trip_s:.1f} s round trip)"
        if error_s > CLOCK_TOLERANCE_S:
            answers.append(
                Answer(
                    Verdict.NO,
                    "clock",
                    f"{abs(offset_s):.0f} s {side} the server's {measured}: turn NTP on "
                    "(timedatectl set-ntp true) and check the network lets it through",
                )
            )
        else:
            answers.append(
                Answer(
                    Verdict.OK,
                    "clock",
                    f"within {CLOCK_TOLERANCE_S:.0f} s of the server's {measured}",
                )
            )
    match ntp_synchronised:
        case True:
            answers.append(Answer(Verdict.OK, "NTP", "synchronised (timedatectl)"))
        case False:
            answers.append(
                Answer(
                    Verdict.NO,
                    "NTP",
                    "not synchronised (timedatectl): sudo timedatectl set-ntp true, and let "
                    "the hub reach an NTP server (UDP port 123)",
                )
            )
        case None:
            answers.append(Answer(Verdict.NOTE, "NTP", "state unknown here (no timedatectl)"))
    return answers


def all_good(answers: Iterable[Answer]) -> bool:
    """Whether no answer says NO."""
    return all(a.verdict is not Verdict.NO for a in answers)

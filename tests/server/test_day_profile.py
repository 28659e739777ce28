"""The day profile: several measures a little off together, for several days, is an advisory."""

from __future__ import annotations

import math
import random
import re
import warnings
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from edge.protocol import Reading, ReadingKind
from server.detect.day_profile import MEASURES, DayModel, close_profile_day, covered_lately
from server.detect.feedback import less_eager
from server.detect.home_state import HomeState
from server.detect.watch import HomeWatch
from server.domain.alerts import AlertKind, Outcome, Severity
from server.domain.findings import Condition
from tests.server.checkpoint_headers import join, split

HUB = "hub-1"
DAY0 = date(2026, 11, 2)
# chi-squared(7), 99.5 %: the limit the module judges one day by.
LIMIT = 20.28


def _usual_day(rng: random.Random) -> list[float]:
    """Up about 07:00, a night toilet visit or none, ~400 movements, 6 kitchen trips, out 0-2 h,
    to bed about 22:30."""
    return [
        rng.gauss(7.0, 0.25),
        float(rng.choice([0, 1, 1, 2])),
        math.log(rng.gauss(400, 30)),
        float(rng.randint(5, 7)),
        rng.choice([0.0, 1.5, 2.0]),
        float(rng.choice([0, 0, 1])),
        rng.gauss(22.5, 0.3),
    ]


def _unwell_day(rng: random.Random) -> list[float]:
    """Each measure only a little off: up an hour late, fewer movements and kitchen trips, in."""
    day = _usual_day(rng)
    day[0] += 1.0
    day[2] += math.log(0.75)
    day[3] -= 3
    day[4] = 0.0
    return day


def _learned(days: int = 20, seed: int = 1) -> tuple[HomeState, random.Random]:
    home, rng = HomeState(), random.Random(seed)
    for d in range(days):
        assert _close(home, d, _usual_day(rng)) is None
    return home, rng


def _close(home: HomeState, d: int, measures: list[float]) -> Condition | None:
    day = DAY0 + timedelta(days=d)
    closed_at = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return close_profile_day(
        HUB,
        home.profile,
        day,
        measures,
        closed_at=closed_at,
        eagerness=less_eager(home, AlertKind.ROUTINE_CHANGE),
        covered=covered_lately(
            day,
            toilets_raised_on=home.toilets.raised_on,
            decline_raised_on=home.decline.raised_on,
        ),
    )


def test_usual_days_score_as_usual_and_an_unwell_day_does_not() -> None:
    rng = random.Random(7)
    history = [_usual_day(rng) for _ in range(28)]
    model = DayModel(history)
    usual = [model.distance([_usual_day(rng)]) for _ in range(200)]
    assert sum(d > LIMIT for d in usual) <= 4  # about 1 in 200 by design
    unwell = [model.distance([_unwell_day(rng)]) for _ in range(50)]
    assert sum(d > LIMIT for d in unwell) >= 45


def test_measures_never_seen_or_never_varied_neither_crash_nor_dominate() -> None:
    nan = math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an all-NaN median would warn every day in the log
        never_up = DayModel([[nan, 1, 6.0, 5, 0, 0, 22.5] for _ in range(20)])
        assert never_up.distance([[8.0, 1, 6.0, 5, 0, 0, 22.5]]) == 0.0
        # Never out, never up at night, the same every day: each measure still counts,
        # as much as in a usual resident, and nothing is infinite.
        same = DayModel([[7.0, 1, 6.0, 5, 0, 0, 22.5] for _ in range(20)])
    assert same.distance([[7.0, 1, 6.0, 5, 0, 0, 22.5]]) == 0.0
    out_once = same.distance([[7.0, 1, 6.0, 5, 1.5, 0, 22.5]])
    assert 0 < out_once < LIMIT
    assert same.distance([[8.5, 4, 5.5, 2, 0, 6, 22.5]]) > LIMIT


def test_several_measures_off_together_for_three_days_raise_one_explained_advisory() -> None:
    caught = 0
    for seed in range(1, 31):  # thirty residents, each a little different
        home, rng = _learned(seed=seed)
        raised = [_close(home, d, _unwell_day(rng)) for d in range(20, 26)]
        alerts = [r for r in raised if r is not None]
        assert len(alerts) <= 1, "raised once, not every day of the change"
        caught += len(alerts)
    assert caught >= 27
    home, rng = _learned(seed=1)
    raised = [_close(home, d, _unwell_day(rng)) for d in range(20, 26)]
    alert = next(r for r in raised if r is not None)
    assert raised.index(alert) == 2, "on the third unusual day"
    assert alert.kind is AlertKind.ROUTINE_CHANGE
    assert alert.severity is Severity.ADVISORY
    assert alert.reason.startswith("3 of the last 4 days were unlike their usual days")
    assert "in the kitchen" in alert.reason
    assert "(usually 6)" in alert.reason
    assert re.search(
        r"up at 0[89]:\d\d, 0[89]:\d\d, 0[89]:\d\d \(usually about 0[67]:", alert.reason
    )
    moved = alert.details["moved"]
    assert isinstance(moved, list)
    assert {"wake", "kitchen_visits"} <= set(moved)


def _typical_day() -> list[float]:
    """Every measure at its usual value, so only what a test changes is off."""
    return [7.0, 1.0, math.log(400), 6.0, 1.5, 0.0, 22.5]


def test_one_measure_off_is_left_to_its_own_detector() -> None:
    home, _ = _learned()
    for d in range(20, 26):
        day = _typical_day()
        day[1] = 6.0  # night toilet visits only: the toilet detector's to raise
        assert _close(home, d, day) is None


def test_changes_the_better_way_are_not_a_worry() -> None:
    home, _ = _learned()
    for d in range(20, 26):
        day = _typical_day()
        day[0] -= 1.0  # up earlier,
        day[3] += 6  # in the kitchen more,
        day[4] = 5.0  # out for longer
        assert _close(home, d, day) is None


def test_a_lasting_change_is_raised_once_and_becomes_the_new_normal() -> None:
    for seed in range(1, 21):
        home, rng = _learned(seed=seed)
        raised = [_close(home, d, _unwell_day(rng)) for d in range(20, 70)]
        assert sum(r is not None for r in raised) <= 1, f"raised again (resident {seed})"


def test_a_change_closed_as_a_false_alarm_is_learned_and_then_raised_less_eagerly() -> None:
    home, rng = _learned(seed=1)
    raised = [_close(home, d, _unwell_day(rng)) for d in range(20, 23)]
    alert = raised[-1]
    assert alert is not None
    watch = HomeWatch()
    watch.restore(HUB, home.to_bytes())
    assert watch.feedback(
        HUB,
        AlertKind.ROUTINE_CHANGE,
        Outcome.FALSE_ALARM,
        details=alert.details,
        resolved_at=alert.event_at + timedelta(hours=3),
    )
    after = HomeState.from_bytes(watch.take_checkpoints()[HUB])
    assert after.advisory_slack == {"routine_change": 1.25}
    # The three days people said were fine are now among the resident's usual days.
    assert list(after.profile.days)[-3:] == [r[1:] for r in list(home.profile.recent)[-3:]]
    assert len(after.profile.recent) == 0


def test_a_watched_home_measures_its_days() -> None:
    """HomeWatch collects each day's measures from readings: getting up, kitchen, out, nights."""
    watch, zone = HomeWatch(), ZoneInfo("Europe/London")
    watch.set_timezone(HUB, zone)
    day = datetime(2026, 11, 3, tzinfo=UTC)  # local time is UTC in November

    def see(sensor: str, kind: ReadingKind, at: datetime, value: float = 1.0) -> None:
        watch.observe(HUB, Reading(sensor, kind, at, value))
        watch.advance(HUB, at)

    # The night before: to the toilet by the hall, and once round the lounge at 03:00.
    see("bed", ReadingKind.BED, day + timedelta(hours=2), 0.0)
    see("hall-pir", ReadingKind.MOTION, day + timedelta(hours=2, minutes=1))
    see("bathroom-pir", ReadingKind.MOTION, day + timedelta(hours=2, minutes=2))
    see("bed", ReadingKind.BED, day + timedelta(hours=2, minutes=10), 1.0)
    see("lounge-pir", ReadingKind.MOTION, day + timedelta(hours=3))
    # Up at 07:30, breakfast, out 10:00-12:30, lunch; the kitchen three times.
    see("bed", ReadingKind.BED, day + timedelta(hours=7, minutes=30), 0.0)
    for minute in range(0, 20, 2):
        see("kitchen-pir", ReadingKind.MOTION, day + timedelta(hours=7, minutes=31 + minute))
    see("lounge-pir", ReadingKind.MOTION, day + timedelta(hours=8))
    see("kitchen-pir", ReadingKind.MOTION, day + timedelta(hours=9))
    see("hall-pir", ReadingKind.MOTION, day + timedelta(hours=10))
    see("front-door", ReadingKind.CONTACT, day + timedelta(hours=10, minutes=1))
    see("front-door", ReadingKind.CONTACT, day + timedelta(hours=12, minutes=30))
    see("hall-pir", ReadingKind.MOTION, day + timedelta(hours=12, minutes=31))
    see("kitchen-pir", ReadingKind.MOTION, day + timedelta(hours=12, minutes=40))
    # To bed at 21:30, up to the bathroom, back to bed at 22:30 for the night.
    see("bed", ReadingKind.BED, day + timedelta(hours=21, minutes=30), 1.0)
    see("bed", ReadingKind.BED, day + timedelta(hours=22, minutes=20), 0.0)
    see("bathroom-pir", ReadingKind.MOTION, day + timedelta(hours=22, minutes=21))
    see("bed", ReadingKind.BED, day + timedelta(hours=22, minutes=30), 1.0)
    # The next day's first movement closes the day.
    see("lounge-pir", ReadingKind.MOTION, day + timedelta(days=1, hours=7, minutes=45))
    state = HomeState.from_bytes(watch.take_checkpoints()[HUB])
    (measures,) = state.profile.days
    named = dict(zip(MEASURES, measures, strict=True))
    assert named["wake"] == 7.5
    assert named["night_toilets"] == 1  # counted at 07:00 for the night that ended then
    assert named["kitchen_visits"] == 3
    # From the last movement before the door (10:00) to the first after it (12:31).
    assert named["hours_out"] == pytest.approx(2.52, abs=0.01)
    assert named["night_moves"] == 1  # the lounge at 03:00; not the hall on the way to the toilet
    assert named["bed"] == 22.5  # the last time to bed


def test_the_profile_survives_a_checkpoint_and_an_older_checkpoint_still_loads() -> None:
    home, rng = _learned(days=16)
    _close(home, 16, _unwell_day(rng))
    restored = HomeState.from_bytes(home.to_bytes())
    assert list(restored.profile.days) == list(home.profile.days)
    assert list(restored.profile.recent) == list(home.profile.recent)
    assert restored.profile.run == home.profile.run == 1
    # A checkpoint written before the day profile existed (format 2, the later sections
    # still flat in the header, and no profile_ fields): the rest of what was learned stays.
    older = HomeState()
    older.mornings.wakes.extend([7.0] * 9)
    header, rest = split(older.to_bytes())
    header["v"] = 2
    for section in ("sensors", "meals", "decline", "day_profile", "pads", "stirring"):
        header.update(header.pop(section))
    for name in list(header):
        if name.startswith("profile_"):
            del header[name]
    rewritten = join(header, rest)
    loaded = HomeState.from_bytes(rewritten)
    assert list(loaded.mornings.wakes) == [7.0] * 9
    assert list(loaded.profile.days) == []
    assert loaded.profile.run == 0

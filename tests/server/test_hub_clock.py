"""A hub whose clock runs ahead: one reading stamped a day ahead cannot stop the home being
watched, and an alarm stamped ahead is raised at once, never dropped."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import psycopg

from edge.protocol import (
    Alarm,
    AlarmKind,
    HubState,
    HubStatus,
    Reading,
    ReadingKind,
    ReadingsBatch,
    alarm_topic,
    encode,
    readings_topic,
    status_topic,
)
from server.runtime import CarewatchServer
from tests.server.helpers import Publisher, eventually, provision, unique_hub, wait_for


def _rows(database_url: str, query: str, *args: object) -> list[tuple[object, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query.encode(), args).fetchall()


def _kitchen(ts: datetime) -> Reading:
    return Reading("kitchen-pir", ReadingKind.MOTION, ts, 1.0)


async def test_a_reading_stamped_a_day_ahead_does_not_blind_no_movement(
    server: CarewatchServer, database_url: str, mqtt_url: str, api: httpx.AsyncClient
) -> None:
    hub = unique_hub()
    provision(database_url, hub, "Mrs Ada Hart", timezone="UTC")
    # Yesterday 13:00 UTC: daytime, in the kitchen.
    t0 = datetime.now(UTC).replace(hour=13, minute=0, second=0, microsecond=0) - timedelta(days=1)
    ahead = datetime.now(UTC) + timedelta(hours=23)
    first = ReadingsBatch(
        hub, 1, t0, tuple(_kitchen(t0 + timedelta(seconds=40 * i)) for i in range(3))
    )
    # The hub's clock jumps a day ahead for one reading, then the next is true again.
    second = ReadingsBatch(
        hub, 2, t0 + timedelta(minutes=2), (_kitchen(ahead), _kitchen(t0 + timedelta(minutes=2)))
    )
    publisher = Publisher(mqtt_url)
    try:
        publisher.publish(readings_topic(hub), encode(first))
        publisher.publish(readings_topic(hub), encode(second))
        # Then hours of silence (past a new home's first-days net of 3 h), the hub up
        # and everything delivered.
        later = t0 + timedelta(hours=5)
        publisher.publish(
            status_topic(hub), encode(HubStatus(hub, HubState.ONLINE, later, watermark=later))
        )
    finally:
        publisher.close()

    async def no_movement() -> list[dict[str, object]]:
        return [a for a in (await api.get("/api/v1/alerts")).json() if a["hub"] == hub]

    (alert,) = await wait_for(no_movement, what="no-movement alert")
    assert alert["kind"] == "no_movement"
    # The true reading after the jump counted: the silence is from 13:02.
    assert "since 13:02" in str(alert["reason"]), alert["reason"]

    # The detector saw the readings as they came; the writer commits them in groups, a few
    # ms later (both batches and their readings in one transaction).
    async def both_batches_committed() -> bool:
        rows = _rows(database_url, "SELECT seq FROM reading_batches WHERE hub_id = %s", hub)
        return len(rows) == 2

    await wait_for(both_batches_committed, what="both batches committed")
    stored = _rows(database_url, "SELECT seq, ts FROM readings WHERE hub_id = %s ORDER BY ts", hub)
    assert len(stored) == 4
    assert max(ts for _, ts in stored) == t0 + timedelta(minutes=2)  # type: ignore[type-var]
    assert _rows(
        database_url, "SELECT seq FROM reading_batches WHERE hub_id = %s ORDER BY seq", hub
    ) == [(1,), (2,)]
    ((reason,),) = _rows(database_url, "SELECT reason FROM dead_letters WHERE hub_id = %s", hub)
    assert "1 reading of batch 2 refused for the hub's clock" in str(reason)
    assert "23 h 0 min ahead" in str(reason) or "22 h 59 min ahead" in str(reason)
    assert "Check the hub's clock" in str(reason)


async def test_an_alarm_stamped_ahead_is_raised_at_the_receive_time(
    server: CarewatchServer, database_url: str, mqtt_url: str
) -> None:
    hubs = {unique_hub(): timedelta(hours=23), unique_hub(): timedelta(days=3)}
    publisher = Publisher(mqtt_url)
    try:
        for hub, skew in hubs.items():
            provision(database_url, hub, f"Mr Ahead {hub}")
            ts = datetime.now(UTC) + skew
            alarm = Alarm(hub, str(uuid.uuid4()), "pendant", AlarmKind.PENDANT, ts)
            publisher.publish(alarm_topic(hub), encode(alarm))
    finally:
        publisher.close()
    sent = datetime.now(UTC)

    for hub in hubs:
        ((event_at,),) = await eventually(
            lambda hub=hub: _rows(  # type: ignore[misc]
                database_url,
                "SELECT event_at FROM alerts WHERE hub_id = %s AND severity = 'emergency'",
                hub,
            ),
            f"the emergency for {hub}",
        )
        assert isinstance(event_at, datetime)
        assert abs(event_at - sent) < timedelta(minutes=1)
    assert _rows(
        database_url, "SELECT count(*) FROM dead_letters WHERE hub_id = ANY(%s)", list(hubs)
    ) == [(0,)]

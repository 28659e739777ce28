"""The detectors' memory in PostgreSQL: restarts, "away" and feedback, through a real server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from pydantic import SecretStr

from edge.protocol import (
    Alarm,
    AlarmKind,
    alarm_topic,
    encode,
)
from server.detect.home_state import HomeState
from server.domain.alerts import AlertKind
from server.jobs.checkpoint_packing import unpack
from server.runtime import CarewatchServer
from server.settings import ServerSettings
from server.store.pool import migrate
from tests.server.helpers import (
    ADMIN_PASSWORD,
    Publisher,
    eventually,
    forget_session,
    heartbeat,
    provision,
    publish_day_then_silence,
    token,
    unique_hub,
)

Starter = Callable[..., AbstractAsyncContextManager[CarewatchServer]]


@pytest.fixture
def start_server(database_url: str, mqtt_url: str) -> Iterator[Starter]:
    """Start a server (again and again) on the same database and broker session."""
    migrate(database_url)
    client_id = f"carewatch-keeper-test-{uuid.uuid4().hex[:8]}"
    settings = ServerSettings(
        http_port=0,
        admin_password=SecretStr(ADMIN_PASSWORD),
        mqtt_client_id=client_id,
        detector_checkpoint_s=0.2,
    )

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[CarewatchServer]:
        async with CarewatchServer(
            settings.model_copy(update=overrides), database_url=database_url, mqtt_url=mqtt_url
        ) as server:
            yield server

    yield start
    forget_session(mqtt_url, client_id)


def _alerts(database_url: str, hub: str) -> list[tuple[str, str, str | None]]:
    with psycopg.connect(database_url) as conn:
        return [
            (str(kind), str(status), outcome)
            for kind, status, outcome in conn.execute(
                "SELECT kind, status, outcome FROM alerts WHERE hub_id = %s ORDER BY raised_at",
                (hub,),
            ).fetchall()
        ]


def _saved_state(database_url: str, hub: str) -> HomeState | None:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT state FROM detector_state WHERE hub_id = %s", (hub,)).fetchone()
    return HomeState.from_bytes(unpack(bytes(row[0]))) if row else None


async def test_a_restart_keeps_what_was_learned_and_does_not_raise_the_same_silence_again(
    start_server: Starter, database_url: str, mqtt_url: str
) -> None:
    hub = unique_hub()
    provision(database_url, hub, f"Mrs Keeper {hub}")
    async with start_server():
        publish_day_then_silence(mqtt_url, hub, silent_for=timedelta(hours=4))
        await eventually(
            lambda: _alerts(database_url, hub) == [("no_movement", "open", None)], "no_movement"
        )
        saved = await eventually(
            lambda: (s := _saved_state(database_url, hub)) and s.raised and s, "a checkpoint"
        )
    assert isinstance(saved, HomeState)
    assert saved.raised is AlertKind.NO_MOVEMENT
    assert (
        saved.gaps.seen(band=0, place=0)
        + sum(saved.gaps.seen(band=b, place=0) for b in range(1, 8))
        >= 20
    ), "the gaps between movements were learned"

    # A responder closes it while the resident is still silent (say, a carer is on the way).
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE alerts SET status = 'resolved', resolved_at = now(), outcome = 'carer_visited'"
            " WHERE hub_id = %s",
            (hub,),
        )

    async with start_server():
        heartbeat(mqtt_url, hub)
        after = await eventually(
            lambda: (s := _saved_state(database_url, hub)) and s.watermark != saved.watermark and s,
            "the heartbeat judged after the restart",
        )
    assert isinstance(after, HomeState)
    # Same silence, already raised: not again (a fresh detector would raise it anew).
    assert _alerts(database_url, hub) == [("no_movement", "resolved", "carer_visited")]
    assert after.gaps.state() == saved.gaps.state()


async def test_away_pauses_inactivity_but_never_a_pendant_press(
    start_server: Starter, database_url: str, mqtt_url: str
) -> None:
    hub = unique_hub()
    resident = f"Mr Away {hub}"
    provision(database_url, hub, resident)
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE residents SET away_until = now() + interval '3 days' WHERE name = %s",
            (resident,),
        )
    async with start_server():
        await eventually(
            lambda: (s := _saved_state(database_url, hub)) and s.away_until, "away read"
        )
        publish_day_then_silence(mqtt_url, hub, silent_for=timedelta(hours=5))
        await eventually(
            lambda: (s := _saved_state(database_url, hub)) and s.last_activity, "readings seen"
        )
        heartbeat(mqtt_url, hub)
        publisher = Publisher(mqtt_url)
        try:
            alarm = Alarm(hub, "a-1", "pendant", AlarmKind.PENDANT, datetime.now(UTC))
            publisher.publish(alarm_topic(hub), encode(alarm))
        finally:
            publisher.close()
        await eventually(lambda: _alerts(database_url, hub), "the pendant alert")
    assert _alerts(database_url, hub) == [("pendant", "open", None)]


async def test_a_false_alarm_resolved_in_the_console_makes_that_silence_wait_longer(
    start_server: Starter, database_url: str, mqtt_url: str
) -> None:
    hub = unique_hub()
    provision(database_url, hub, f"Mrs Feedback {hub}")
    async with start_server() as server:
        publish_day_then_silence(mqtt_url, hub, silent_for=timedelta(hours=4))
        await eventually(lambda: _alerts(database_url, hub), "no_movement")
        async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as api:
            api.headers["Authorization"] = f"Bearer {await token(api)}"
            alerts = (await api.get("/api/v1/alerts")).json()
            (alert,) = [a for a in alerts if a["hub"] == hub]
            response = await api.post(
                f"/api/v1/alerts/{alert['id']}/resolve", json={"outcome": "false_alarm"}
            )
            assert response.status_code == 200, response.text
        state = await eventually(
            lambda: (s := _saved_state(database_url, hub)) and s.slack and s, "feedback learned"
        )
    assert isinstance(state, HomeState)
    assert list(state.slack.values()) == [1.25]


async def test_readings_stored_after_the_last_checkpoint_are_learned_again_after_a_crash(
    start_server: Starter, database_url: str, mqtt_url: str
) -> None:
    hub = unique_hub()
    provision(database_url, hub, f"Mr Crash {hub}")
    # Checkpoints only at start; the crash below skips the one at stop.
    async with start_server(detector_checkpoint_s=3600) as server:
        await eventually(lambda: _saved_state(database_url, hub), "the first checkpoint")
        publish_day_then_silence(mqtt_url, hub, silent_for=timedelta(minutes=5))
        await eventually(lambda: _count_readings(database_url, hub) == 30, "the readings stored")
        keeper = server.detector_keeper
        assert keeper is not None

        async def crashed() -> None:
            return None

        keeper.sync = crashed  # type: ignore[method-assign]
    before = _saved_state(database_url, hub)
    assert before is not None
    assert before.last_activity is None, "the crash lost what was learned since the checkpoint"

    async with start_server(detector_checkpoint_s=0.2):
        after = await eventually(
            lambda: (s := _saved_state(database_url, hub)) and s.last_activity and s,
            "the readings folded in again",
        )
    assert isinstance(after, HomeState)
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT max(ts) FROM readings WHERE hub_id = %s", (hub,)).fetchone()
    assert row is not None
    assert after.last_activity == row[0]
    assert after.activity_today + sum(after.gaps.seen(band=b, place=0) for b in range(8)) > 0


def _count_readings(database_url: str, hub: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM readings WHERE hub_id = %s", (hub,)).fetchone()
    return int(row[0]) if row else 0


async def test_movement_stored_after_the_last_checkpoint_clears_the_silence_at_restart(
    start_server: Starter, database_url: str, mqtt_url: str
) -> None:
    hub = unique_hub()
    provision(database_url, hub, f"Mrs Fold {hub}")
    async with start_server():
        publish_day_then_silence(mqtt_url, hub, silent_for=timedelta(hours=4))
        await eventually(
            lambda: _alerts(database_url, hub) == [("no_movement", "open", None)], "no_movement"
        )
    # Stored while the server was going down, after its last checkpoint: moving about
    # again (two sensors; a lone blip would not end the alert).
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO readings (hub_id, seq, sensor, kind, ts, value, received_at)"
            " VALUES (%s, 99, 'hall-pir', 'motion', now() - interval '1 minute', 1.0,"
            " now() + interval '1 second'),"
            " (%s, 100, 'kitchen-pir', 'motion', now(), 1.0, now() + interval '1 second')",
            (hub, hub),
        )
    async with start_server():
        await eventually(
            lambda: _alerts(database_url, hub) == [("no_movement", "resolved", "self_cleared")],
            "the silence cleared by the movement folded in at start",
        )

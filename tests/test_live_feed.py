"""The live feed's fan-out: each alert to the streams that may see it; slow streams reload."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from server.api.live import AlertFeed, Subscription
from server.domain.access import ResidentScope, Role, Viewer
from server.store.alerts import AlertRow


def _alert(resident_id: int) -> AlertRow:
    now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    return AlertRow(
        id=uuid.uuid4(),
        resident_id=resident_id,
        resident=f"resident {resident_id}",
        hub=None,
        kind="pendant",
        severity="emergency",
        status="open",
        raised_at=now,
        event_at=now,
        reason="pressed their pendant",
        details={},
        acknowledged_at=None,
        acknowledged_by=None,
        resolved_at=None,
        resolved_by=None,
        outcome=None,
        updated_at=now,
    )


def _feed(*, backlog: int = 10) -> tuple[AlertFeed, list[AlertRow]]:
    rendered: list[AlertRow] = []

    def render(row: AlertRow) -> str:
        rendered.append(row)
        return str(row.id)

    # The pool is not used by fan_out.
    return AlertFeed("postgresql://unused", None, render=render, backlog=backlog), rendered  # type: ignore[arg-type]


def _drain(subscription: Subscription) -> list[str | None]:
    queue = subscription._queue
    return [queue.get_nowait() for _ in range(queue.qsize())]


async def test_each_alert_goes_only_to_who_may_see_it_rendered_once() -> None:
    feed, rendered = _feed()
    carer = feed.subscribe(Viewer(3, "amy", Role.CARER))
    resident = feed.subscribe(Viewer(9, "edith", Role.RESIDENT, resident_id=7))
    other_service = feed.subscribe(Viewer(5, "arc", Role.RESPONDER, service="south"))
    admins = [feed.subscribe(Viewer(1, "admin", Role.ADMIN)) for _ in range(50)]
    alert = _alert(7)
    home = ResidentScope(resident_id=7, service="north", carer_ids=frozenset({3}))

    reads = feed.fan_out([(alert, home)])

    assert _drain(carer) == [str(alert.id)]
    assert _drain(resident) == [str(alert.id)]
    assert _drain(other_service) == []
    assert all(_drain(a) == [str(alert.id)] for a in admins)
    assert rendered == [alert]
    # Reads to log: everyone who saw it but the resident herself.
    assert sorted({v.username for v, _ in reads}) == ["admin", "amy"]


async def test_a_stream_that_falls_behind_is_told_to_reload_not_queued_without_end() -> None:
    feed, _ = _feed(backlog=3)
    slow = feed.subscribe(Viewer(1, "admin", Role.ADMIN))
    home = ResidentScope(resident_id=7, service="north", carer_ids=frozenset())
    for _ in range(10):
        feed.fan_out([(_alert(7), home)])
    queued = _drain(slow)
    assert len(queued) <= 3
    assert None in queued  # "reload": fetch the list again


async def test_closing_wakes_every_stream() -> None:
    feed, _ = _feed()
    streams = [feed.subscribe(Viewer(1, "admin", Role.ADMIN)) for _ in range(3)]
    feed.close()
    assert feed.closed
    assert all(_drain(s) == [None] for s in streams)

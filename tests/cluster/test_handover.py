"""A partition's homes handed from one process's keeper to another's through their checkpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from edge.protocol import Reading, ReadingKind
from server.detect.watch import HomeWatch
from server.jobs.checkpoint_packing import unpack
from server.jobs.detector_keeper import DetectorKeeper
from server.store.pool import migrate, open_pool
from tests.server.helpers import provision, unique_hub


def _saved(database_url: str, hub: str) -> tuple[bytes, datetime] | None:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT state, saved_at FROM detector_state WHERE hub_id = %s", (hub,)
        ).fetchone()
    return (unpack(bytes(row[0])), row[1]) if row else None


async def test_a_home_let_go_is_restored_by_its_new_holder_and_never_saved_by_the_old(
    database_url: str,
) -> None:
    migrate(database_url)
    moving, staying = unique_hub("mv"), unique_hub("st")
    provision(database_url, moving, f"Mr Moving {moving}")
    provision(database_url, staying, f"Mrs Staying {staying}")
    pool = await open_pool(database_url, name="test", min_size=1, max_size=2)
    try:
        first, second = HomeWatch(), HomeWatch()
        old = DetectorKeeper(pool, first, interval_s=60)
        new = DetectorKeeper(pool, second, interval_s=60)
        await old.take_over([moving, staying])
        morning = datetime.now(UTC) - timedelta(hours=2)
        for minute in range(0, 60, 5):
            for hub in (moving, staying):
                first.observe(
                    hub,
                    Reading(
                        "kitchen-pir", ReadingKind.MOTION, morning + timedelta(minutes=minute), 1
                    ),
                )

        await old.release([moving])
        handed = _saved(database_url, moving)
        assert handed is not None
        assert handed[0] == first.checkpoint(moving)

        await new.take_over([moving])
        assert second.checkpoint(moving) == handed[0]
        assert second.checkpoint(staying) is None

        # The old process still has the home in memory and sees it change (late "away", say):
        # its keeper must not write over the new holder's checkpoint.
        first.observe(
            moving, Reading("kitchen-pir", ReadingKind.MOTION, morning + timedelta(hours=1), 1)
        )
        second.observe(
            moving, Reading("hall-pir", ReadingKind.MOTION, morning + timedelta(minutes=61), 1)
        )
        await old.sync()
        await new.sync()
        after = _saved(database_url, moving)
        assert after is not None
        assert after[0] == second.checkpoint(moving)
        assert after[0] != first.checkpoint(moving)
        # What the old holder kept is still its own to save.
        assert _saved(database_url, staying) is not None
    finally:
        await pool.close()

"""A hub agent process for kill -9 tests: N readings enter its outbox at once, then it sends them.

python -m tests.edge.agent_process HUB MQTT_URL OUTBOX COUNT
"""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from edge.agent.agent import Agent
from edge.agent.schedule import FlushPolicy
from edge.protocol import Reading, ReadingKind
from tests.edge.helpers import ScriptedDriver

START = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def readings(count: int) -> list[Reading]:
    """The readings the killed agent is given, the same in every run."""
    return [
        Reading(f"room{i % 4}-pir", ReadingKind.MOTION, START + timedelta(seconds=i), 1.0)
        for i in range(count)
    ]


def main() -> None:
    hub, mqtt_url, outbox, count = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    protocol: Literal["5", "3.1.1"] = "5" if sys.argv[5] == "5" else "3.1.1"
    agent = Agent(
        hub_id=hub,
        driver=ScriptedDriver(readings(count)),
        outbox_path=outbox,
        mqtt_url=mqtt_url,
        # Small batches, one in flight: a long enough stream to be killed in the middle of.
        flush=FlushPolicy(max_readings=20, max_delay_s=0.0),
        max_batches_in_flight=1,
        tick_s=0.005,
        mqtt_protocol=protocol,
    )
    agent.start()
    agent.run(threading.Event())


if __name__ == "__main__":
    main()

"""The soak (bench/soak.py) as a test: ``pytest -m slow tests/server/test_soak.py``.

Ten minutes by default; ``CAREWATCH_SOAK_SECONDS=120`` for a shorter run.
Needs the machine's PostgreSQL and Debian's Mosquitto.
"""

from __future__ import annotations

import os
import shutil

import pytest

from bench.soak import run
from tests import infra

pytestmark = pytest.mark.slow


def test_alarms_hold_under_a_fleet_bad_input_live_streams_and_a_login_flood() -> None:
    if not infra.system_postgres_available() or shutil.which("mosquitto") is None:
        pytest.skip("the soak needs PostgreSQL on 127.0.0.1:5432 and Debian's mosquitto")
    seconds = float(os.environ.get("CAREWATCH_SOAK_SECONDS", "600"))
    figures = run(
        seconds=seconds, hubs=1000, interval_s=10.0, streams=500, logins_per_s=20.0, bad_per_s=5.0
    )
    print(figures)
    assert figures["presses"] >= seconds // 10 - 1
    assert figures["presses_without_alert"] == 0
    assert figures["alarm_to_alert_p99_ms"] <= 1000
    # Every good reading stored, once.
    assert figures["good_readings_stored"] == figures["good_readings_sent"]
    assert figures["good_readings_stored_distinct"] == figures["good_readings_sent"]
    # Every bad input a dead letter with a reason.
    assert figures["bad_dead_lettered"] == figures["bad_sent"]
    assert figures["dead_letters_without_reason"] == 0
    assert figures["live_streams_opened"] == 500
    # Memory bounded: the second half of the run needs no more than the first, give or take.
    assert figures["rss_mb_second_half_max"] <= figures["rss_mb_first_half_max"] * 1.2 + 20
    assert figures["readyz_after"] == 200

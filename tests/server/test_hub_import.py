"""``carewatch hub import``: hundreds of homes at once, checked whole, idempotent, credentials kept."""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import os
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest

from server.broker_accounts import BrokerAccounts
from server.cli import main
from server.hub_import import HomeEntry, SensorEntry, check_homes, read_homes_csv
from server.ingest.service import IngestService
from server.runtime import CarewatchServer
from server.store.pool import open_pool
from tests.server.helpers import wait_for

HOMES = 300


def _homes_file(path: Path, count: int = HOMES, *, start: int = 0, extra: str = "") -> Path:
    lines = ["hub,resident,timezone,sensors"]
    for n in range(start, start + count):
        lines.append(
            f'hub-{n:05d},"Resident {n}, Flat {n}",Europe/London,'
            f"kitchen-pir:motion:kitchen;front-door:contact:front_door;bed-{n}:bed:bedroom"
        )
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _matches(line: str, password: str) -> bool:
    """Check a $7$ line as Mosquitto does."""
    _, _, iterations, salt, digest = line.split(":", 1)[1].split("$")
    made = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(iterations))
    return made == base64.b64decode(digest)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> str:
    monkeypatch.setenv("CAREWATCH_DATABASE_URL", database_url)
    monkeypatch.setenv("CAREWATCH_BROKER_CREDENTIALS_DIR", str(tmp_path / "credentials"))
    return database_url


def _count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def test_import_provisions_every_home_with_its_sensor_map_and_broker_account(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "credentials.csv"
    assert (
        main(
            [
                "hub",
                "import",
                str(_homes_file(tmp_path / "homes.csv")),
                "--out",
                str(out),
                "--chunk",
                "64",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert f"Imported {HOMES} hubs" in captured.out
    assert f"writing: {HOMES}/{HOMES} hubs (100 %)" in captured.err
    assert os.stat(out).st_mode & 0o777 == 0o600
    rows = _rows(out)
    assert [r["hub"] for r in rows] == [f"hub-{n:05d}" for n in range(HOMES)]
    assert rows[7]["where"] == "line 9"
    assert rows[7]["resident"] == "Resident 7, Flat 7"
    assert rows[7]["CAREWATCH_AGENT_MQTT_URL"].startswith(
        f"mqtts://hub-00007:{rows[7]['password']}@"
    )
    assert len({r["password"] for r in rows}) == HOMES
    lines = dict(
        (line.split(":", 1)[0], line)
        for line in (tmp_path / "credentials" / "passwords").read_text().splitlines()
    )
    assert _matches(lines["hub-00007"], rows[7]["password"])
    assert not _matches(lines["hub-00007"], rows[8]["password"])
    with psycopg.connect(env) as conn:
        hub = conn.execute(
            "SELECT r.name, r.timezone, h.password_hash FROM hubs h"
            " JOIN residents r ON r.id = h.resident_id WHERE h.id = 'hub-00007'"
        ).fetchone()
        sensors = conn.execute(
            "SELECT sensor, kind, room FROM hub_sensors WHERE hub_id = 'hub-00007' ORDER BY sensor"
        ).fetchall()
    assert hub == ("Resident 7, Flat 7", "Europe/London", lines["hub-00007"].split(":", 1)[1])
    assert sensors == [
        ("bed-7", "bed", "bedroom"),
        ("front-door", "contact", "front_door"),
        ("kitchen-pir", "motion", "kitchen"),
    ]
    assert _count(env, "hub_sensors") == 3 * HOMES


def test_a_second_run_skips_what_is_there_and_adds_only_the_new(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _homes_file(tmp_path / "first.csv", 50)
    assert main(["hub", "import", str(first), "--out", str(tmp_path / "a.csv")]) == 0
    passwords = (tmp_path / "credentials" / "passwords").read_text()
    both = _homes_file(tmp_path / "both.csv", 60)
    capsys.readouterr()
    assert main(["hub", "import", str(both), "--out", str(tmp_path / "b.csv")]) == 0
    out = capsys.readouterr().out
    assert "Imported 10 hubs" in out
    assert "Skipped 50 hubs already provisioned for the same resident (line 2, line 3," in out
    assert [r["hub"] for r in _rows(tmp_path / "b.csv")] == [f"hub-{n:05d}" for n in range(50, 60)]
    # The first fifty's broker passwords were not changed by the second run.
    after = (tmp_path / "credentials" / "passwords").read_text()
    assert passwords in after
    assert _count(env, "hubs") == 60
    # Never overwrites a credentials file.
    assert main(["hub", "import", str(both), "--out", str(tmp_path / "b.csv")]) == 2
    assert "b.csv exists" in capsys.readouterr().err


def test_a_bad_file_is_refused_whole_with_each_line_named(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _homes_file(
        tmp_path / "homes.csv",
        100,
        extra="hub/1,Someone,,\nhub-00003,Other,,\ncarewatch-server,X,,\nhub-x,Y,Mars/Base,hall:sofa:lounge\n",
    )
    out = tmp_path / "out.csv"
    assert main(["migrate"]) == 0
    assert main(["hub", "import", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "line 102: hub id 'hub/1' is not valid" in err
    assert "line 103: hub hub-00003 is also on line 5; list each hub once" in err
    assert "line 104: carewatch-server is " in err
    assert "line 105: unknown time zone 'Mars/Base'" in err
    assert "line 105: sensor hall has unknown kind 'sofa'; use one of" in err
    assert "nothing was imported" in err
    assert _count(env, "hubs") == 0
    assert not out.exists()
    assert not (tmp_path / "credentials" / "passwords").exists()


def test_a_hub_in_another_residents_home_is_a_conflict_and_nothing_is_written(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["hub", "add", "hub-00040", "--resident", "Mrs Edith Clarke"]) == 0
    before = BrokerAccounts(tmp_path / "credentials").usernames()
    capsys.readouterr()
    homes = _homes_file(tmp_path / "homes.csv", 100)
    out = tmp_path / "out.csv"
    assert main(["hub", "import", str(homes), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "line 42: hub hub-00040 is already in the home of Mrs Edith Clarke; revoke it" in err
    assert _count(env, "hubs") == 1
    assert BrokerAccounts(tmp_path / "credentials").usernames() == before
    assert not out.exists()


def test_reading_reports_malformed_lines_and_keeps_checking_the_rest() -> None:
    homes, problems = read_homes_csv(
        ["hub,resident,timezone,sensors", "hub-1,A", "hub-2,B,,pir-1:motion:hall;pir-1:motion:hall"]
    )
    assert [str(p) for p in problems] == [
        "line 2: 2 fields where 4 are needed (hub,resident,timezone,sensors); quote a name that holds a comma"
    ]
    assert [str(p) for p in check_homes(homes)] == [
        "line 3: sensor pir-1 is listed twice; give each sensor one kind and room"
    ]
    _, header = read_homes_csv(["hub,name"])
    assert "it must be hub,resident,timezone,sensors" in str(header[0])


def test_a_sensor_id_holding_colons_is_split_from_the_right() -> None:
    homes, problems = read_homes_csv(
        ["hub,resident,timezone,sensors", "hub-1,A,UTC,0x00158d:0001:motion:hall"]
    )
    assert not problems
    assert homes[0].sensors == (SensorEntry("0x00158d:0001", "motion", "hall"),)
    assert check_homes([HomeEntry("line 2", "hub-1", "A", "UTC", homes[0].sensors)]) == []


def _request(count: int, *, start: int = 0) -> dict[str, object]:
    return {
        "homes": [
            {
                "hub": f"api-{n:04d}",
                "resident": f"Api Resident {n}",
                "timezone": "Europe/Dublin",
                "sensors": [
                    {"sensor": "hall-pir", "kind": "motion", "room": "hall"},
                    {"sensor": "door", "kind": "contact", "room": "front_door"},
                ],
            }
            for n in range(start, start + count)
        ]
    }


async def test_the_bulk_api_imports_skips_on_a_rerun_and_refuses_a_bad_request_whole(
    admin_api: httpx.AsyncClient, quick_server: CarewatchServer, database_url: str
) -> None:
    response = await admin_api.post("/api/v1/hubs/import", json=_request(200))
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["created"]) == 200
    assert body["skipped"] == []
    first = body["created"][5]
    assert first["where"] == "homes[5]"
    assert first["hub"] == first["username"] == "api-0005"
    assert first["agent_settings"]["CAREWATCH_AGENT_HUB_ID"] == "api-0005"
    again = (await admin_api.post("/api/v1/hubs/import", json=_request(201))).json()
    assert [h["hub"] for h in again["created"]] == ["api-0200"]
    assert len(again["skipped"]) == 200
    bad = _request(3, start=300)
    bad["homes"][1]["sensors"][0]["kind"] = "sofa"  # type: ignore[index]
    bad["homes"][2]["hub"] = "api-0001"  # type: ignore[index]
    refused = await admin_api.post("/api/v1/hubs/import", json=bad)
    assert refused.status_code == 422
    problems = refused.json()["detail"]
    assert [p["where"] for p in problems] == ["homes[1]", "homes[2]"]
    assert "unknown kind 'sofa'" in problems[0]["problem"]
    assert "already in the home of Api Resident 1" in problems[1]["problem"]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM hubs WHERE id LIKE 'api-%'").fetchone() == (201,)

    # The server heard of the imported hubs and their maps without a restart.
    async def known() -> bool:
        assert quick_server.ingest is not None
        return "api-0200" in quick_server.ingest._homes

    await wait_for(known, within=5, what="the server to hear of the imported hub")


class _MapSpy:
    """A detector that records the sensor maps and time zones it is given."""

    def __init__(self) -> None:
        self.maps: dict[str, dict[str, str]] = {}

    def set_timezone(self, hub: str, zone: ZoneInfo) -> None:
        pass

    def set_sensor_map(self, hub: str, rooms: dict[str, str]) -> None:
        self.maps[hub] = dict(rooms)


async def test_the_installers_sensor_map_reaches_the_detector_before_any_heartbeat(
    env: str, tmp_path: Path
) -> None:
    homes = _homes_file(tmp_path / "homes.csv", 3)
    command = ["hub", "import", str(homes), "--out", str(tmp_path / "out.csv")]
    assert await asyncio.to_thread(main, command) == 0
    pool = await open_pool(env, min_size=1, max_size=1)
    try:
        spy = _MapSpy()
        ingest = IngestService(pool, alerts=None, detector=spy, writer=None)  # type: ignore[arg-type]
        await ingest.start()
        assert spy.maps["hub-00001"] == {
            "kitchen-pir": "kitchen",
            "front-door": "front_door",
            "bed-1": "bedroom",
        }
        assert set(spy.maps) == {"hub-00000", "hub-00001", "hub-00002"}
        spy.maps.clear()
        await ingest.refresh_hubs()
        assert spy.maps == {}  # read once, not at every refresh
    finally:
        await pool.close()


@pytest.mark.slow
def test_a_hundred_thousand_homes_import_in_under_ten_minutes(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    homes = _homes_file(tmp_path / "homes.csv", 100_000)
    started = time.monotonic()
    assert main(["hub", "import", str(homes), "--out", str(tmp_path / "out.csv")]) == 0
    assert time.monotonic() - started < 600
    assert "Imported 100000 hubs" in capsys.readouterr().out
    assert _count(env, "hubs") == 100_000
    assert _count(env, "hub_sensors") == 300_000
    assert len(_rows(tmp_path / "out.csv")) == 100_000

"""schemathesis against the server's own OpenAPI spec: no request, however odd, is a server error.

It runs as each role, since what a carer may reach differs from an admin's,
with two homes and their alerts in place so paths can hit real records.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from server.runtime import CarewatchServer
from tests.server.people import bearer, make_two_homes

# The live stream never ends by itself, so a fuzzer call to it would only time out.
_EXCLUDE = r"/alerts/stream$"


def _schemathesis() -> str:
    found = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    if found is None:
        pytest.fail("schemathesis is missing: it is in the dev extra (pip install -e '.[dev]')")
    return found


async def _fuzz(
    base_url: str, headers: list[str], tmp_path: Path, *, examples: int, phases: str
) -> str:
    command = [
        _schemathesis(),
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        str(examples),
        "--phases",
        phases,
        "--seed",
        "20261201",
        "--exclude-path-regex",
        _EXCLUDE,
        *(part for header in headers for part in ("--header", header)),
        "--request-timeout",
        "10",
        "--generation-database",
        "none",
        "--no-color",
    ]
    done = await asyncio.to_thread(
        subprocess.run,
        command,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
        env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false"},
        check=False,
    )
    assert done.returncode == 0, done.stdout[-6_000:] + done.stderr[-2_000:]
    return done.stdout


async def _no_server_errors(
    role: str,
    server: CarewatchServer,
    api: httpx.AsyncClient,
    tmp_path: Path,
    *,
    examples: int,
    phases: str,
) -> None:
    homes = await make_two_homes(api)
    if role == "admin":
        headers = [f"Authorization: {api.headers['Authorization']}"]
    else:
        username = homes.edith.carer if role == "carer" else homes.edith.resident_user
        headers = [f"Authorization: Bearer {await bearer(api, username)}"]
    report = await _fuzz(server.http_url, headers, tmp_path, examples=examples, phases=phases)
    ran = re.search(r"(\d+) generated, (\d+) passed", report)
    assert ran is not None, report[-3_000:]
    assert int(ran[1]) > 100
    assert ran[1] == ran[2]
    # The server is still up and answering after the barrage.
    assert (await api.get("/readyz")).status_code == 200


async def test_no_server_errors_as_admin(
    server: CarewatchServer, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    await _no_server_errors("admin", server, api, tmp_path, examples=10, phases="examples,fuzzing")


@pytest.mark.slow
@pytest.mark.parametrize("role", ["admin", "carer", "resident"])
async def test_no_server_errors_in_every_phase(
    role: str, server: CarewatchServer, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    await _no_server_errors(
        role, server, api, tmp_path, examples=50, phases="examples,coverage,fuzzing,stateful"
    )


async def test_what_the_fuzzer_found_is_refused_with_a_reason(api: httpx.AsyncClient) -> None:
    # Ids past PostgreSQL's bigint once reached the database and came back as a 500.
    too_big = await api.get("/api/v1/dead-letters", params={"before_id": 2**63})
    assert too_big.status_code == 422
    assert (await api.get(f"/api/v1/residents/{2**63}")).status_code == 422
    # Text with a NUL byte cannot be stored in PostgreSQL at all.
    nul = await api.post("/api/v1/residents", json={"name": "Mrs \x00 Clarke"})
    assert nul.status_code == 422
    assert "cannot be stored" in nul.json()["detail"]

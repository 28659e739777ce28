"""A social-alarm unit played by SIPp (Debian's sip-tester / sipp): one SCAIP MESSAGE per run.

The scenario sends the MESSAGE with the given body, expects the given final
response (and, for an error, words in its Warning header), then, for a 200,
waits for the receiver's SCAIP answer in a MESSAGE of its own, checks its
``<snu>`` and answers it 200 OK, as a unit does.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

SIPP = shutil.which("sipp")


def require_sipp() -> str:
    """The sipp binary, or skip; in CI (CAREWATCH_REQUIRE_SIPP=1, .ci/run installs it) fail."""
    if SIPP is None:
        why = "SIPp is not installed (apt-get install sip-tester on Debian 12, sipp on 13)"
        if os.environ.get("CAREWATCH_REQUIRE_SIPP") == "1":
            pytest.fail(why)
        pytest.skip(why)
    return SIPP


def free_udp_port() -> int:
    """A port free for both UDP and TCP on loopback (SIPp binds its main socket in either).

    A port the kernel hands out free for UDP may be taken for TCP (a server's
    listener, a connection's ephemeral end): SIPp over TCP then fails with
    "Unable to bind main socket". Both are tried on the same number.
    """
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no loopback port free for both UDP and TCP in 50 tries")


def mrq(
    unit: str,
    *,
    ref: str,
    device: str = "0003",
    status: str | None = "0010",
    message_type: str = "ME",
) -> str:
    """A SCAIP request body as a unit sends it."""
    stc = f"<stc>{status}</stc>" if status is not None else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<mrq><ref>{ref}</ref><ver>01.00</ver><cid>{unit}</cid><dty>{device}</dty>"
        f"<mty>{message_type}</mty>{stc}<crd>sip:{unit}@127.0.0.1</crd></mrq>"
    )


_ANSWER = """
  <recv request="MESSAGE" timeout="5000">
    <action>
      <ereg regexp="&lt;snu&gt;{snu}&lt;/snu&gt;" search_in="body" check_it="true" assign_to="snu"/>
      <ereg regexp="&lt;ref&gt;{ref}&lt;/ref&gt;" search_in="body" check_it="true" assign_to="ref"/>
    </action>
  </recv>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=unit[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

    ]]>
  </send>
"""

_SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="SCAIP social-alarm unit">
  <send retrans="500">
    <![CDATA[
MESSAGE sip:arc@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{unit}@[local_ip]:[local_port]>;tag=[call_number]
To: <sip:arc@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 MESSAGE
Max-Forwards: 70
User-Agent: sipp-social-alarm-unit
Content-Type: {content_type}
Content-Length: [len]

{body}
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="{status}" timeout="10000">
    {warning}
  </recv>
  {answer}
  {used}
</scenario>
"""


def _reference(variables: list[str]) -> str:
    """Mark the check variables used (SIPp fails a scenario whose variables are set, never read)."""
    return f'<Reference variables="{",".join(variables)}"/>' if variables else ""


@dataclass(slots=True, frozen=True)
class UnitRun:
    """What SIPp said: its exit status and its error log."""

    returncode: int
    errors: str

    @property
    def ok(self) -> bool:
        """Every step of the scenario happened as written."""
        return self.returncode == 0


async def send(
    port: int,
    body: str,
    *,
    unit: str = "4711",
    expect: int = 200,
    warning: str | None = None,
    transport: str = "udp",
    content_type: str = "application/scaip+xml",
    ref: str | None = None,
) -> UnitRun:
    """Run SIPp as the unit once against 127.0.0.1:``port``."""
    sipp = require_sipp()
    check = ""
    if warning is not None:
        check = (
            '<action><ereg regexp="' + escape(warning, {'"': "&quot;"}) + '" search_in="hdr" '
            'header="Warning:" check_it="true" assign_to="w"/></action>'
        )
    answer = _ANSWER.format(snu="0", ref=ref or "[^&lt;]+") if expect == 200 else ""
    scenario = _SCENARIO.format(
        unit=unit,
        body=body,
        status=expect,
        warning=check,
        answer=answer,
        content_type=content_type,
        used=_reference(
            (["w"] if warning is not None else []) + (["snu", "ref"] if expect == 200 else [])
        ),
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "unit.xml"
        path.write_text(scenario)
        process = await asyncio.create_subprocess_exec(
            sipp,
            f"127.0.0.1:{port}",
            "-sf",
            str(path),
            "-m",
            "1",
            "-t",
            "u1" if transport == "udp" else "t1",
            "-i",
            "127.0.0.1",
            "-p",
            str(free_udp_port()),
            "-timeout",
            "20s",
            "-timeout_error",
            "-nostdin",
            "-trace_err",
            "-error_file",
            str(Path(folder) / "errors.log"),
            cwd=folder,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await process.communicate()
        errors_file = Path(folder) / "errors.log"
        errors = errors_file.read_text(errors="replace") if errors_file.exists() else ""
    return UnitRun(process.returncode or 0, errors + stderr.decode(errors="replace"))

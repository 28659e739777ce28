"""The one-tap acknowledge page on a real server: a token nobody signed is refused plainly.

Before, a token with an expiry past what the platform's clock can hold
(unsigned: anyone can type one) answered 500.
"""

from __future__ import annotations

import base64
import uuid

import httpx
import pytest

from server.runtime import CarewatchServer


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "token",
    [
        f"{_b64(f'{uuid.uuid4()}:1:99999999999999999999:n'.encode())}.{_b64(b'x' * 32)}",
        f"{_b64(f'{uuid.uuid4()}:1:-99999999999999999999:n'.encode())}.{_b64(b'x')}",
        _b64(b"\xff\xfe") + "." + _b64(b"x"),
        "%E2%82%AC.%E2%82%AC",
        "no-dot-at-all",
    ],
    ids=["huge-expiry", "negative-expiry", "not-utf8", "not-ascii", "no-signature"],
)
async def test_a_forged_or_damaged_link_gets_the_same_plain_refusal(
    server: CarewatchServer, token: str
) -> None:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as client:
        shown = await client.get(f"/ack/{token}")
        tapped = await client.post(f"/ack/{token}")
    for answer in (shown, tapped):
        assert answer.status_code == 410, answer.text
        assert "this link is not valid" in answer.text

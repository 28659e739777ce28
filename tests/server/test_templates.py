"""Every page from the one layout: its head once, its own scripts, nothing the CSP refuses."""

from __future__ import annotations

import json
import re
from importlib import resources

import httpx
import pytest

from server.api.render import render
from server.domain.alerts import AlertKind

PAGES = sorted(
    entry.name
    for entry in resources.files("server.api").joinpath("templates").iterdir()
    # A name starting with "_" is a part included in pages (the care record's form), not a page.
    if entry.name.endswith(".html")
    and entry.name != "layout.html"
    and not entry.name.startswith("_")
)
VALUES = {
    "error.html": {"title": "Page not found", "message": "m"},
    "refused.html": {"message": "m"},
}


def test_the_pages_are_found() -> None:
    assert {"console.html", "carer.html", "resident.html", "admin.html", "login.html"} <= set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_each_page_has_the_layouts_head_once_and_no_inline_script(page: str) -> None:
    html = render(page, **VALUES.get(page, {}))
    assert html.startswith('<!doctype html>\n<html lang="en">')
    assert html.count("<head>") == 1
    assert html.count('<link rel="stylesheet" href="/static/carewatch.css">') == 1
    assert re.search(r"<title>[^<]+ — carewatch</title>", html)
    assert html.count('<p class="brand">carewatch') == 1
    # The content security policy allows scripts from files only (a JSON data block is
    # not run: the alert kinds' words from the domain's one table).
    assert not re.search(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", html)
    kinds = re.search(
        r'<script type="application/json" id="carewatch-kinds">([^<]*)</script>', html
    )
    assert kinds is not None
    assert set(json.loads(kinds.group(1))) == {kind.value for kind in AlertKind}
    assert " style=" not in html


def test_a_message_is_escaped() -> None:
    html = render("refused.html", message="<script>alert(1)</script> & more")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "<script>alert" not in html


async def test_the_vocabulary_is_the_domains_table(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/v1/vocabulary")).json()
    kinds = {k["kind"]: k for k in body["kinds"]}
    assert set(kinds) == {kind.value for kind in AlertKind}
    assert kinds["no_movement"] == {
        "kind": "no_movement",
        "severity": "urgent",
        "title": "No movement",
    }
    assert body["severities"] == ["emergency", "urgent", "advisory", "technical"]

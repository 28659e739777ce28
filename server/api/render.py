"""The pages' HTML: Jinja2 templates on one shared layout (server/api/templates/).

``layout.html`` holds what every page has (the head, the stylesheet, the
header with the name); each page fills its blocks: title, scripts, the skip
link, the page's name, who is signed in, and its content. Values are
escaped by Jinja2 (autoescape), so a message can be put in a page as it is.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from server.domain.alerts import KINDS

__all__ = ["render"]

_PAGES = Environment(
    loader=PackageLoader("server.api", "templates"),
    autoescape=select_autoescape(["html"]),
    # A page that names a value nobody gave it fails its test, not a visitor's eyes.
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


# Every page's words for alert kinds, from the one table (common.js reads them).
_PAGES.globals["alert_kinds"] = {
    kind.value: {"title": words.title, "severity": words.severity.value}
    for kind, words in KINDS.items()
}


def render(page: str, **values: Any) -> str:
    """The HTML of ``page`` (e.g. ``"carer.html"``) with ``values`` filled in."""
    return _PAGES.get_template(page).render(**values)

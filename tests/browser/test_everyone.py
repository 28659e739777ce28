"""What every visitor meets: the API's reference pages, error pages, both colour themes."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

import httpx
import psycopg
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, expect

from server.runtime import CarewatchServer
from tests.browser.conftest import accessibility_problems, screenshot, sign_in
from tests.server.helpers import (
    ADMIN_PASSWORD,
    eventually,
    press_pendant,
    publish_day_then_silence,
)
from tests.server.people import PASSWORD, make_two_homes

pytestmark = pytest.mark.browser


async def test_the_api_reference_renders_its_operations_under_the_sites_policy(
    browser: Browser, server: CarewatchServer
) -> None:
    page = await browser.new_page()
    refused: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # ReDoc's credit logo comes from its makers' CDN: refused, and not missed.
        if "cdn.redoc.ly" in message.text:
            return
        if "Content Security Policy" in message.text or message.type == "error":
            refused.append(f"{page.url}: {message.text} {message.location}")

    page.on("console", on_console)
    for path in ("/docs", "/redoc"):
        # Nothing from another site: the tools come from the server itself.
        raw = await (await page.request.get(f"{server.http_url}{path}")).text()
        assert "//" not in raw.replace("<!doctype html>", ""), raw
    await page.goto(f"{server.http_url}/docs")
    # The API's operations, as Swagger UI lists them.
    await expect(
        page.locator(".opblock-summary-path", has_text="/api/v1/alerts").first
    ).to_be_visible()
    await expect(page.get_by_text("POST/api/v1/auth/token", exact=False).first).to_be_visible()
    await page.goto(f"{server.http_url}/redoc")
    # ReDoc lays out the whole spec before its first heading: 5.0 s measured on two cores
    # at a load of 14, right at the default timeout.
    await expect(page.get_by_role("heading", name="carewatch", exact=False).first).to_be_visible(
        timeout=20_000
    )
    await expect(page.locator("[data-section-id^='operation/']").first).to_be_attached()
    assert refused == [], "\n".join(refused)


def _channels(colour: str) -> tuple[float, float, float]:
    """``rgb(1, 2, 3)`` (or ``rgba``) as computed by the browser, in 0..1."""
    inside = colour[colour.index("(") + 1 : colour.index(")")]
    red, green, blue = (float(part) / 255 for part in inside.replace("/", ",").split(",")[:3])
    return red, green, blue


def contrast(first: str, second: str) -> float:
    """WCAG's contrast ratio of two computed colours."""

    def luminance(colour: str) -> float:
        def linear(c: float) -> float:
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        red, green, blue = (linear(c) for c in _channels(colour))
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# The focused element's ring colour and what is painted just outside it, where the
# ring is drawn (found by hit-testing, so a link laid over the header is judged on it).
_RING = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const ring = parseFloat(style.outlineOffset) + parseFloat(style.outlineWidth) / 2;
  const x = box.left - ring >= 0 ? box.left - ring : box.right + ring;
  const y = box.top + box.height / 2;
  let under = document.elementsFromPoint(x, y).find((e) => e !== el && !el.contains(e));
  let behind = "rgb(255, 255, 255)";
  for (let n = under; n; n = n.parentElement) {
    const bg = getComputedStyle(n).backgroundColor;
    if (bg && bg !== "transparent" && !bg.startsWith("rgba(0, 0, 0, 0)")) { behind = bg; break; }
  }
  return {what: el.outerHTML.slice(0, 80), style: style.outlineStyle, ring: style.outlineColor, behind};
}"""


async def focus_rings(page: Page, *, stops: int = 6) -> list[tuple[str, float]]:
    """Tab through the first few stops; each focused element's ring and its contrast."""
    found = []
    # From the top of the page, as a keyboard user arrives: the skip link and header first.
    await page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(stops):
        await page.keyboard.press("Tab")
        ring = await page.evaluate(_RING)
        if ring["what"].startswith("<body"):
            break
        assert ring["style"] != "none", f"no focus ring on {ring['what']}"
        found.append((ring["what"], contrast(ring["ring"], ring["behind"])))
    return found


async def _check(page: Page, where: str, scheme: str) -> list[str]:
    problems = [f"{where} ({scheme}): {p}" for p in await accessibility_problems(page)]
    rings = await focus_rings(page)
    assert rings, f"nothing on {where} took the keyboard's focus"
    for what, ratio in rings:
        if ratio < 3.0:
            problems.append(f"{where} ({scheme}): focus ring {ratio:.2f}:1 on {what}")
    return problems


# Two halves, so that each stays a short test; together they are every page.
@pytest.mark.parametrize("half", ["sign-in, errors, the desk", "carer, resident, admin"])
async def test_every_page_in_both_themes_passes_axe_with_visible_focus_rings(
    half: str,
    browser: Browser,
    quick_server: CarewatchServer,
    admin_api: httpx.AsyncClient,
    database_url: str,
    mqtt_url: str,
) -> None:
    homes = await make_two_homes(admin_api)
    edith = homes.edith
    publish_day_then_silence(mqtt_url, edith.hub, silent_for=timedelta(minutes=5))
    press_pendant(mqtt_url, edith.hub)
    await eventually(lambda: _open_alerts(database_url, edith.resident_id), "Edith's alert")
    base = quick_server.http_url
    problems: list[str] = []

    async def visit(who: str | None, password: str, path: str, ready: str) -> Page:
        context = await browser.new_context(viewport={"width": 1200, "height": 900})
        page = await context.new_page()
        if who is not None:
            await sign_in(page, base, who, password)
            await page.wait_for_url(lambda url: url != f"{base}/")
        await page.goto(f"{base}{path}")
        await expect(page.get_by_text(ready, exact=False).first).to_be_visible()
        schemes: tuple[Literal["light", "dark"], ...] = ("light", "dark")
        for scheme in schemes:
            await page.emulate_media(color_scheme=scheme)
            # The theme really is the one asked for: the page's background follows it.
            background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
            darker = contrast(background, "rgb(0, 0, 0)") < contrast(
                background, "rgb(255, 255, 255)"
            )
            assert darker is (scheme == "dark"), (path, scheme, background)
            problems.extend(await _check(page, path, scheme))
            await screenshot(page, f"{path.strip('/').split('/')[0] or 'sign-in'}-{scheme}")
        return page

    if half.startswith("sign-in"):
        await visit(None, "", "/", "Sign in")
        await visit(None, "", "/no-such-page", "Page not found")
        await visit(edith.responder, PASSWORD, "/console", "Pendant pressed")
        await visit(edith.responder, PASSWORD, f"/residents/{edith.resident_id}", edith.name)
    else:
        await visit(edith.carer, PASSWORD, "/carer", edith.name)
        await visit(
            edith.carer, PASSWORD, f"/residents/{homes.arthur.resident_id}", "not available"
        )
        await visit(edith.resident_user, PASSWORD, "/me", "OK")
        await visit("admin", ADMIN_PASSWORD, "/admin", edith.name)
    assert problems == [], "\n".join(problems)


def _open_alerts(database_url: str, resident_id: int) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM alerts WHERE resident_id = %s AND status = 'open'",
            (resident_id,),
        ).fetchone()
    return int(row[0]) if row else 0

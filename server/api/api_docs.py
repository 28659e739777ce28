"""The API's own reference pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc).

FastAPI's built-in pages load Swagger UI from a CDN and start it with an
inline script, which the site's content security policy (server/api/security.py)
refuses: the page stayed blank. Here both tools come from an installed package
(fastapi-offline ships their files), and each page starts its tool with a
script file of ours. ReDoc writes its styles into ``<style>`` elements as it
renders (styled-components, bundled so that no nonce can be handed to it), so
its page alone allows inline styles; scripts stay ``'self'`` only, as on every
page, and the page shows nothing but our own OpenAPI schema. (ReDoc's credit
logo, from its makers' CDN, is refused and simply not shown.)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

__all__ = ["ASSETS", "router"]

# Swagger UI's and ReDoc's built files, served under /static/api-tools.
ASSETS = Path(str(resources.files("fastapi_offline").joinpath("static")))

router = APIRouter(include_in_schema=False)

_SWAGGER = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>API reference (Swagger UI) — carewatch</title>
  <link rel="icon" href="/static/api-tools/favicon.png">
  <link rel="stylesheet" href="/static/api-tools/swagger-ui.css">
  <script src="/static/api-tools/swagger-ui-bundle.js" defer></script>
  <script src="/static/api-docs/swagger-init.js" defer></script>
</head>
<body>
  <main id="swagger-ui" data-openapi-url="/openapi.json"></main>
</body>
</html>
"""

_REDOC = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>API reference (ReDoc) — carewatch</title>
  <link rel="icon" href="/static/api-tools/favicon.png">
  <script src="/static/api-tools/redoc.standalone.js" defer></script>
  <script src="/static/api-docs/redoc-init.js" defer></script>
</head>
<body>
  <main id="redoc" data-openapi-url="/openapi.json"></main>
</body>
</html>
"""

_SELF_ONLY = (
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    """Swagger UI: every operation, tried from the page with a bearer token."""
    return HTMLResponse(_SWAGGER)


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    """ReDoc: the same reference, laid out for reading."""
    return HTMLResponse(
        _REDOC,
        headers={
            # Its search runs in a worker it makes from a blob of its own code.
            "Content-Security-Policy": f"{_SELF_ONLY}; style-src 'self' 'unsafe-inline'; "
            "worker-src 'self' blob:"
        },
    )

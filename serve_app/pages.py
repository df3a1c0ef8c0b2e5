"""The portal's pages: Swagger UI and ReDoc with their files served from this process (no CDN), the web UI's
static files under a strict content security policy, and the OpenAPI document built by `serve_app.openapi`."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from serve_app.openapi import CallerView, JobEvent, KeyCreated, ProjectView, build_openapi

__all__ = ["REDOC_JS", "serve_pages"]

REDOC_JS = "/docs-assets/redoc.js"
_REDOC_CDN = re.compile(r"https://cdn\.redoc\.ly/[^\s\"')]+")

_UI_DIR = Path(__file__).with_name("ui")
_UI_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-src blob:; object-src 'none'; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache",
}


class _UiFiles(StaticFiles):
    """The web UI's files, each with a strict content security policy (scripts and styles from the portal only)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        """The file, with the UI's security headers."""
        response = await super().get_response(path, scope)
        response.headers.update(_UI_HEADERS)
        return response



_DOCS_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
                "base-uri 'none'; frame-ancestors 'none'")


def _docs_policy(page: HTMLResponse) -> HTMLResponse:
    """The docs pages start Swagger UI and ReDoc with inline scripts; everything else comes from the portal."""
    page.headers["Content-Security-Policy"] = _DOCS_POLICY
    return page


def serve_pages(app: FastAPI) -> None:
    """Swagger UI, ReDoc and the web UI, all served from this process (no CDN), and the OpenAPI document."""
    import fastapi_offline

    assets = Path(fastapi_offline.__file__).with_name("static")
    # ReDoc's footer draws its logo from cdn.redoc.ly, the one remote URL in either bundle: pointed home here. The
    # bundle's hash versions its URL, so an upgraded package is never read from a browser's cache.
    redoc_js = _REDOC_CDN.sub("/docs-assets/favicon.png", (assets / "redoc.standalone.js").read_text(encoding="utf-8"))
    redoc_url = f"{REDOC_JS}?v={hashlib.sha256(redoc_js.encode()).hexdigest()[:12]}"

    async def redoc_bundle(_: Request) -> Response:
        return Response(redoc_js, media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=86400, immutable"})

    app.add_route(REDOC_JS, redoc_bundle, include_in_schema=False)
    app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")
    app.mount("/ui", _UiFiles(directory=_UI_DIR, html=True, check_dir=False), name="ui")

    async def swagger(_: Request) -> HTMLResponse:
        return _docs_policy(get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon.png",
                                   oauth2_redirect_url="/docs/oauth2-redirect",
                                   # no badge from validator.swagger.io: nothing leaves the portal
                                   swagger_ui_parameters={"validatorUrl": None}))

    async def redirect(_: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(_: Request) -> HTMLResponse:
        return _docs_policy(get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} API",
                                           redoc_js_url=redoc_url, redoc_favicon_url="/docs-assets/favicon.png",
                                           with_google_fonts=False))

    app.add_route("/docs", swagger, include_in_schema=False)
    app.add_route("/docs/oauth2-redirect", redirect, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app, version=app.version,
                                               extra_models=[JobEvent, KeyCreated, CallerView, ProjectView])
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

"""The station app's shell, service worker, manifest and assets, under a content security policy of its own.

The other pages forbid scripts altogether (trace_api/web/render.py). The station is an app: it runs our own
scripts (no inline script, nothing from another origin), its service worker, and zxing-cpp's WebAssembly
('wasm-unsafe-eval' allows compiling WebAssembly, not JavaScript eval); it talks to this origin only.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Final

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

HERE: Final = Path(__file__).parent
STATIC_DIR: Final = HERE / "static"
SHELL_DIR: Final = HERE / "shell"  # served at fixed paths, not as assets
APP_PATH: Final = "/scan"
STATIC_URL: Final = "/scan/static"

STATION_CSP: Final = (
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; "
    "img-src 'self' data: blob:; media-src 'self' blob: mediastream:; style-src 'self'; manifest-src 'self'; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS: Final = {
    "Content-Security-Policy": STATION_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # The shell is revalidated on every load online; the service worker serves it offline.
    "Cache-Control": "no-cache",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
}

router = APIRouter(include_in_schema=False)


@cache
def app_version() -> str:
    """A hash of every asset: the service worker's cache name, so a new release replaces the cached app."""
    digest = hashlib.sha256()
    for path in sorted(p for p in (*STATIC_DIR.rglob("*"), *SHELL_DIR.rglob("*")) if p.is_file()):
        digest.update(path.relative_to(HERE).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def shell_files() -> list[str]:
    """What the service worker caches at install: every asset of the app (vendored libraries included)."""
    files = sorted(p for p in STATIC_DIR.rglob("*") if p.is_file() and not p.name.startswith("."))
    return [f"{STATIC_URL}/{p.relative_to(STATIC_DIR).as_posix()}" for p in files]


@router.get(APP_PATH)
def station_app() -> Response:
    return Response((SHELL_DIR / "index.html").read_bytes(), media_type="text/html; charset=utf-8", headers=HEADERS)


@router.get(f"{APP_PATH}/sw.js")
def service_worker() -> Response:
    """The worker, with the release and the shell's file list written in; allowed to control ``/scan``."""
    source = (SHELL_DIR / "sw.js").read_text("utf-8")
    shell = [APP_PATH, f"{APP_PATH}/manifest.webmanifest", *shell_files()]
    source = source.replace("__VERSION__", app_version()).replace('["__SHELL__"]', json.dumps(shell))
    headers = {**HEADERS, "Service-Worker-Allowed": APP_PATH}
    return Response(source, media_type="text/javascript; charset=utf-8", headers=headers)


@router.get(f"{APP_PATH}/manifest.webmanifest")
def manifest() -> Response:
    body = (SHELL_DIR / "manifest.webmanifest").read_bytes()
    return Response(body, media_type="application/manifest+json", headers=HEADERS)


class Assets(StaticFiles):
    """The app's scripts, styles, icons and vendored libraries, under the station's policy."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(HEADERS)
        return response

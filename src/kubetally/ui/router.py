"""The UI's routes: the pages (``/``, ``/ui/assets``, ``/ui/cloud``) and their static files (``/ui/static/...``).

Pages carry no cost data and need no credentials: the browser fetches everything from the public JSON API
(``/allocation``, ``/assets``) with the signed-in user's session cookie (``POST /session``, HttpOnly), so the UI
sees exactly what that user's API calls see. The chart library is served from the installed ``plotly`` package,
not from the repository.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from kubetally import __version__
from kubetally.errors import NotFound


@dataclass(frozen=True)
class Page:
    """A UI page: its path, template, navigation title and the script that fills it."""

    path: str
    template: str
    title: str
    script: str


PAGES: tuple[Page, ...] = (
    Page("/", "allocations.html", "Allocations", "allocations.js"),
    Page("/ui/assets", "assets.html", "Assets", "assets.js"),
    Page("/ui/cloud", "cloud.html", "Cloud costs", "cloud.js"),
    Page("/ui/clusters", "clusters.html", "Clusters", "clusters.js"),
)
"""Every page, in navigation order."""


_PACKAGE = resources.files("kubetally.ui")
_TEMPLATES = Jinja2Templates(directory=str(_PACKAGE / "templates"))
_STATIC = Path(str(_PACKAGE / "static"))


def _plotly_js() -> Path:
    """plotly.js as shipped inside the installed ``plotly`` Python package."""
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


STATIC_FILES: dict[str, tuple[Path, str]] = {
    "style.css": (_STATIC / "style.css", "text/css"),
    "common.js": (_STATIC / "common.js", "text/javascript"),
    "allocations.js": (_STATIC / "allocations.js", "text/javascript"),
    "assets.js": (_STATIC / "assets.js", "text/javascript"),
    "cloud.js": (_STATIC / "cloud.js", "text/javascript"),
    "clusters.js": (_STATIC / "clusters.js", "text/javascript"),
}
"""The UI's own static files by URL name, with their media types (plotly.min.js is added at lookup)."""

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
"""Sent with every page: scripts only from the server itself, never framed (clickjacking), no referrer."""

router = APIRouter(tags=["UI"], include_in_schema=False)
"""The UI's pages and static files; the serve app includes it unprotected (pages hold no data)."""


def _page_handler(page: Page) -> Callable[[Request], HTMLResponse]:
    def render(request: Request) -> HTMLResponse:
        currency = request.app.state.kubetally.currency  # the served price book's currencyCode
        context = {"page": page, "pages": PAGES, "currency": currency, "version": __version__}
        response = _TEMPLATES.TemplateResponse(request, page.template, context)
        response.headers.update(PAGE_HEADERS)
        return response

    render.__name__ = f"ui_{page.template.removesuffix('.html')}"
    return render


for _page in PAGES:
    router.add_api_route(_page.path, _page_handler(_page), methods=["GET"], response_class=HTMLResponse)


@router.get("/ui/static/{name}")
def static_file(name: str) -> FileResponse:
    """One of the UI's static files; NotFound (404) for any other name."""
    if name == "plotly.min.js":
        return FileResponse(_plotly_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})
    entry = STATIC_FILES.get(name)
    if entry is None:
        raise NotFound(f"no UI static file {name!r}")
    path, media_type = entry
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "no-cache"})

"""Jinja2 templates with the locale and shared filters."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.i18n import ANONYMITY_NOTE, pick_locale, translator
from app.models import CHECK_NAMES, Role
from app.services.campaigns import TZ

# A plain Jinja environment rather than Starlette's TemplateResponse: pages need no
# request-bound helpers, and the wrapper's per-render work showed on the intake hot path.
# Templates ship with the code, so no mtime check per render either.
env = Environment(
    loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
    auto_reload=False,
)


def _local_time(value: datetime) -> str:
    return value.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


env.filters["local_time"] = _local_time
env.globals["CHECK_NAMES"] = CHECK_NAMES
env.globals["ANONYMITY_NOTE"] = ANONYMITY_NOTE
env.globals["ROLES"] = [r.value for r in Role]


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    private: bool = True,
) -> HTMLResponse:
    """Render a page in the request's locale."""
    locale = pick_locale(request.query_params.get("lang"), request.headers.get("accept-language"))
    ctx = {"lang": locale, "_": translator(locale), **(context or {})}
    # Receipts and form keys must not linger in a shared phone's cache.
    headers = {"Cache-Control": "no-store"} if private else None
    return HTMLResponse(env.get_template(name).render(ctx), status_code=status, headers=headers)


def render_error(request: Request, message: str, status: int) -> HTMLResponse:
    """A Chinese error page with the reason and a way back."""
    return render(request, "error.html", {"message": message, "status": status}, status=status)

"""Jinja2 templates with the locale and shared filters."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.i18n import ANONYMITY_NOTE, pick_locale, translator
from app.models import CHECK_NAMES, Role
from app.services.campaigns import TZ

templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")
# Templates ship with the code: checking their mtime on every render costs a stat per
# template per request on the hot intake path.
templates.env.auto_reload = False


def _local_time(value: datetime) -> str:
    return value.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


templates.env.filters["local_time"] = _local_time
templates.env.globals["CHECK_NAMES"] = CHECK_NAMES
templates.env.globals["ANONYMITY_NOTE"] = ANONYMITY_NOTE
templates.env.globals["ROLES"] = [r.value for r in Role]


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
    response = templates.TemplateResponse(request, name, ctx, status_code=status)
    if private:
        # Receipts and form keys must not linger in a shared phone's cache.
        response.headers["Cache-Control"] = "no-store"
    return response


def render_error(request: Request, message: str, status: int) -> HTMLResponse:
    """A Chinese error page with the reason and a way back."""
    return render(request, "error.html", {"message": message, "status": status}, status=status)

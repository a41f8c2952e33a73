"""Jinja2 templates with the locale and shared filters."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import escape

from app.core.i18n import ANONYMITY_NOTE, pick_locale, translator
from app.core.time import TZ
from app.models import CHECK_NAMES, Role

# A plain Jinja environment rather than Starlette's TemplateResponse: pages need no
# request-bound helpers, and the wrapper's per-render work showed on the intake hot path.
# Templates ship with the code, so no mtime check per render either. Each feature package
# keeps its templates in <package>/templates/<package>/, so names say where they live.
APP = Path(__file__).resolve().parent.parent
env = Environment(
    loader=FileSystemLoader(sorted(APP.glob("*/templates"))),
    autoescape=select_autoescape(["html"]),
    auto_reload=False,
)
# Mails are plain text as well as HTML: block tags must not leave blank lines, and a missing
# value must fail the build rather than mail an empty figure.
mail_env = env.overlay(undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _local_time(value: datetime) -> str:
    return value.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


env.filters["local_time"] = _local_time
env.globals["CHECK_NAMES"] = CHECK_NAMES
env.globals["ANONYMITY_NOTE"] = ANONYMITY_NOTE
env.globals["ROLES"] = [r.value for r in Role]


# Receipts and form keys must not linger in a shared phone's cache.
_PRIVATE = {"Cache-Control": "no-store"}


def request_locale(request: Request) -> str:
    """The locale a request asks for (?lang=, then Accept-Language)."""
    return pick_locale(request.query_params.get("lang"), request.headers.get("accept-language"))


def _page_context(locale: str, context: dict[str, Any]) -> dict[str, Any]:
    return {"lang": locale, "_": translator(locale), **context}


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    private: bool = True,
) -> HTMLResponse:
    """Render a page in the request's locale."""
    ctx = _page_context(request_locale(request), context or {})
    headers = _PRIVATE if private else None
    return HTMLResponse(env.get_template(name).render(ctx), status_code=status, headers=headers)


# Stands in for the one per-request value of a page rendered ahead (see render_slotted).
_SLOT = "\x00slot\x00"


@lru_cache(maxsize=256)
def _page_around_slot(
    name: str, locale: str, context: tuple[tuple[str, Any], ...], slot: str
) -> tuple[str, str]:
    html = env.get_template(name).render(_page_context(locale, {**dict(context), slot: _SLOT}))
    before, after = html.split(_SLOT)  # the template must show the slot exactly once
    return before, after


def render_slotted(
    request: Request, name: str, context: dict[str, Any], *, slot: str, value: str
) -> HTMLResponse:
    """Render a private page whose only per-request part is one value (the receipt page).

    The page is rendered once per locale and context around a marker and then only joined
    with the escaped value: on the intake hot path, running the template cost more than
    storing the submission.
    """
    key = tuple(sorted(context.items()))
    before, after = _page_around_slot(name, request_locale(request), key, slot)
    return HTMLResponse(before + str(escape(value)) + after, headers=_PRIVATE)


def render_error(request: Request, message: str, status: int) -> HTMLResponse:
    """A Chinese error page with the reason and a way back."""
    return render(request, "error.html", {"message": message, "status": status}, status=status)

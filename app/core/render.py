"""Jinja2 templates with the locale and shared filters."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import escape

from app.core.i18n import ANONYMITY_NOTE, pick_locale, translator
from app.core.time import TZ, chinese_date
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
env.filters["chinese_date"] = chinese_date
env.globals["CHECK_NAMES"] = CHECK_NAMES
env.globals["ANONYMITY_NOTE"] = ANONYMITY_NOTE
env.globals["ROLES"] = [r.value for r in Role]


# Receipts and form keys must not linger in a shared phone's cache.
_PRIVATE = {"Cache-Control": "no-store"}


def request_locale(request: Request) -> str:
    """The locale a request asks for (?lang=, then Accept-Language)."""
    return pick_locale(request.query_params.get("lang"), request.headers.get("accept-language"))


def localise(request: Request, text: str) -> str:
    """One message (an error's, say) in the request's locale."""
    return translator(request_locale(request))(text)


def _big_text(request: Request) -> bool:
    # 大字 lives in the URL, not in a cookie: it must identify no one (see base.html).
    return request.query_params.get("big") == "1"


def _page_context(locale: str, big: bool, context: dict[str, Any]) -> dict[str, Any]:
    kept = ([("lang", "en")] if locale == "en" else []) + ([("big", "1")] if big else [])
    return {
        "lang": locale,
        "big": big,
        "_": translator(locale),
        # What every link and form action carries on: the locale and 大字.
        "kept": kept,
        "q": "?" + urlencode(kept) if kept else "",
        **context,
    }


def _switch_href(request: Request, name: str, value: str | None) -> str:
    url = (
        request.url.remove_query_params(name)
        if value is None
        else request.url.include_query_params(**{name: value})
    )
    return url.path + ("?" + url.query if url.query else "")


def _switches(request: Request, locale: str, big: bool) -> dict[str, str]:
    # Only on pages reached by GET: following a link from a POST answer (the receipt above
    # all) would lose what that answer showed.
    if request.method != "GET":
        return {}
    return {
        "lang_href": _switch_href(request, "lang", "zh" if locale == "en" else "en"),
        "big_href": _switch_href(request, "big", None if big else "1"),
    }


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    private: bool = True,
) -> HTMLResponse:
    """Render a page in the request's locale."""
    locale, big = request_locale(request), _big_text(request)
    ctx = _page_context(locale, big, {**_switches(request, locale, big), **(context or {})})
    headers = _PRIVATE if private else None
    return HTMLResponse(env.get_template(name).render(ctx), status_code=status, headers=headers)


# Stands in for the one per-request value of a page rendered ahead (see render_slotted).
_SLOT = "\x00slot\x00"


@lru_cache(maxsize=256)
def _page_around_slot(
    name: str, locale: str, big: bool, context: tuple[tuple[str, Any], ...], slot: str
) -> tuple[str, ...]:
    page = _page_context(locale, big, {**dict(context), slot: _SLOT})
    html = env.get_template(name).render(page)
    # The value may appear more than once: the receipt page shows it and posts it for a slip.
    return tuple(html.split(_SLOT))


def render_slotted(
    request: Request, name: str, context: dict[str, Any], *, slot: str, value: str
) -> HTMLResponse:
    """Render a private page whose only per-request part is one value (the receipt page).

    The page is rendered once per locale and context around a marker and then only joined
    with the escaped value: on the intake hot path, running the template cost more than
    storing the submission.
    """
    key = tuple(sorted(context.items()))
    parts = _page_around_slot(name, request_locale(request), _big_text(request), key, slot)
    return HTMLResponse(str(escape(value)).join(parts), headers=_PRIVATE)


def render_error(request: Request, message: str, status: int) -> HTMLResponse:
    """An error page with the reason, in the request's locale, and a way back."""
    context = {"message": localise(request, message), "status": status}
    return render(request, "error.html", context, status=status)

"""宣传材料: the solicitation letter, the poster and QR codes for a unit; the short links
printed on them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.accounts.access import visible_units
from app.accounts.deps import Admin, AdminUser
from app.accounts.pages import NavGroup, register_nav, render_admin
from app.campaign.deps import PDF_HEADERS, admin_unit
from app.campaign.printables import (
    AUDIENCE_LABELS,
    form_url,
    letter_pdf,
    poster,
    print_context,
    resolve_short_link,
    short_url,
)
from app.core.config import Settings
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import Invalid
from app.documents.qr import qr_png, qr_svg

router = APIRouter(prefix="/admin", include_in_schema=False)
register_nav("/admin/print", "宣传材料", group=NavGroup.campaign, order=60)
short_router = APIRouter(include_in_schema=False)


@router.get("/print", response_class=HTMLResponse)
def print_page(
    request: Request, admin: AdminUser, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    units = visible_units(session, user=admin.user)
    return render_admin(
        request,
        admin,
        "campaign/admin/print.html",
        {
            "units": units,
            "audiences": list(AUDIENCE_LABELS.items()),
            "form_url": lambda slug, a=None: form_url(
                base_url=settings.base_url, slug=slug, audience=a
            ),
            "short_url": lambda unit_id: short_url(base_url=settings.base_url, unit_id=unit_id),
        },
    )


def _pdf(data: bytes, name: str) -> Response:
    headers = {**PDF_HEADERS, "Content-Disposition": f"inline; filename={name}"}
    return Response(data, media_type="application/pdf", headers=headers)


@router.get("/print/letter.pdf")
async def print_letter(
    request: Request, admin: AdminUser, session: SessionDep, settings: SettingsDep
) -> Response:
    unit = admin_unit(session, admin, request.query_params.get("unit"))
    context = print_context(session, slug=unit.slug)
    # Rendering takes seconds: keep the event loop free.
    data = await run_in_threadpool(letter_pdf, context, base_url=settings.base_url)
    return _pdf(data, f"letter-{unit.slug}.pdf")


@router.get("/print/poster.pdf")
async def print_poster(
    request: Request, admin: AdminUser, session: SessionDep, settings: SettingsDep
) -> Response:
    unit = admin_unit(session, admin, request.query_params.get("unit"))
    context = print_context(session, slug=unit.slug)
    data = await run_in_threadpool(poster, context, base_url=settings.base_url)
    return _pdf(data, f"poster-{unit.slug}.pdf")


def _qr_target(request: Request, admin: Admin, session: Session, settings: Settings) -> str:
    unit = admin_unit(session, admin, request.query_params.get("unit"))
    audience = request.query_params.get("a") or None
    if audience is not None and audience not in AUDIENCE_LABELS:
        raise Invalid("没有这个宣传对象。", field="a")
    return form_url(base_url=settings.base_url, slug=unit.slug, audience=audience)


@router.get("/print/qr.png")
def print_qr_png(
    request: Request, admin: AdminUser, session: SessionDep, settings: SettingsDep
) -> Response:
    data = qr_png(_qr_target(request, admin, session, settings))
    return Response(data, media_type="image/png", headers=PDF_HEADERS)


@router.get("/print/qr.svg")
def print_qr_svg(
    request: Request, admin: AdminUser, session: SessionDep, settings: SettingsDep
) -> Response:
    data = qr_svg(_qr_target(request, admin, session, settings))
    return Response(data, media_type="image/svg+xml", headers=PDF_HEADERS)


@short_router.get("/s/{code}")
def short_link(code: str, session: SessionDep) -> RedirectResponse:
    """A short link from a letter or poster: on to the unit's form, audience kept."""
    return RedirectResponse(resolve_short_link(session, code=code), status_code=302)

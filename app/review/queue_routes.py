"""The review queue at /admin: counts, filters in the URL, keyset pages, exports, bulk actions."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.accounts.deps import Admin, CsrfAdmin
from app.accounts.deps import AdminUser as AdminDep
from app.accounts.pages import NavGroup, register_nav, render_admin
from app.core.deps import SessionDep
from app.core.errors import UserError
from app.core.forms import form_text
from app.core.time import TZ
from app.dispatch.marks import marks_for
from app.models import CHANNEL_LABELS, STATUS_LABELS, Role
from app.review.export import export_queue
from app.review.overview import OverviewCache
from app.review.queue import DUES, FLAGS, STATES, QueueFilter, load_queue, parse_filter
from app.review.service import BULK_ACTIONS, SETTABLE_STATUSES, bulk_apply, may_assign

router = APIRouter(prefix="/admin", include_in_schema=False)
register_nav("/admin", "意见", group=NavGroup.opinions, order=10)

_MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _overview_cache(request: Request) -> OverviewCache:
    cache: OverviewCache | None = getattr(request.app.state, "overview_cache", None)
    if cache is None:
        cache = request.app.state.overview_cache = OverviewCache()
    return cache


def _filters(request: Request) -> QueueFilter:
    return parse_filter(dict(request.query_params))


def _queue_page(
    request: Request,
    admin: Admin,
    session: SessionDep,
    filters: QueueFilter,
    *,
    back: str,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    view = load_queue(session, user=admin.user, filters=filters, counts=_overview_cache(request))
    context = {
        "units": view.units,
        "unit_names": {u.id: u.name for u in view.units},
        "overview": view.overview,
        "page": view.page,
        "f": filters,
        "status_labels": STATUS_LABELS,
        "states": STATES,
        "flags": FLAGS,
        "dues": DUES,
        "marks": marks_for(admin.user),
        "channel_labels": CHANNEL_LABELS,
        "roles": [r.value for r in Role],
        "assignees": view.assignees,
        "assignee_names": {u.id: u.display_name or u.username for u in view.assignees},
        "bulk_statuses": SETTABLE_STATUSES,
        "can_assign": may_assign(admin.user),
        "back": back,
        "error": error,
    }
    return render_admin(request, admin, "review/queue.html", context, status=status)


@router.get("", response_class=HTMLResponse)
def queue(request: Request, admin: AdminDep, session: SessionDep) -> HTMLResponse:
    return _queue_page(request, admin, session, _filters(request), back=request.url.query)


def _export_name(ext: str) -> str:
    stamp = datetime.now(TZ).strftime("%Y%m%d-%H%M")
    name = f"意见汇总-{stamp}.{ext}"
    return f"attachment; filename=\"yijian-{stamp}.{ext}\"; filename*=UTF-8''{quote(name)}"


def _export(
    request: Request, admin: Admin, session: SessionDep, ext: Literal["csv", "xlsx"]
) -> Response:
    body = export_queue(session, user=admin.user, filters=_filters(request), fmt=ext)
    session.commit()
    return Response(
        body,
        media_type=_MEDIA_TYPES[ext],
        headers={"Content-Disposition": _export_name(ext), "Cache-Control": "no-store"},
    )


@router.get("/export.xlsx")
def export_xlsx(request: Request, admin: AdminDep, session: SessionDep) -> Response:
    return _export(request, admin, session, "xlsx")


@router.get("/export.csv")
def export_csv(request: Request, admin: AdminDep, session: SessionDep) -> Response:
    return _export(request, admin, session, "csv")


def _safe_back(value: str) -> str:
    # The queue's own query string only: no path, so no redirect elsewhere.
    return "/admin" + ("?" + value if value and "\n" not in value and "\r" not in value else "")


@router.post("/bulk")
async def bulk(request: Request, admin: CsrfAdmin, session: SessionDep) -> Response:
    form = await request.form(max_files=0, max_fields=600)
    raw_ids = [v for v in form.getlist("ids") if isinstance(v, str)]
    action = form_text(form, "action")
    value = form_text(form, "value_" + action) if action in BULK_ACTIONS else ""
    back = form_text(form, "back")
    try:
        ids = [int(v) for v in raw_ids if v.isascii() and v.isdigit()]
        if len(ids) != len(raw_ids):
            raise UserError("意见编号不正确。")
        bulk_apply(session, user=admin.user, ids=ids, action=action, value=value)
    except UserError as exc:
        session.rollback()
        filters = parse_filter(dict(_query_pairs(back)))
        return _queue_page(
            request, admin, session, filters, back=back, error=exc.message, status=exc.status
        )
    session.commit()
    return RedirectResponse(_safe_back(back), status_code=303)


def _query_pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=False)[:20]

"""The review queue at /admin: counts, filters in the URL, keyset pages, exports, bulk actions."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.accounts.access import visible_units
from app.accounts.deps import Admin, CsrfAdmin
from app.accounts.deps import AdminUser as AdminDep
from app.audit.service import record_audit
from app.core.admin_pages import register_nav, render_admin
from app.core.deps import SessionDep
from app.core.errors import UserError
from app.core.time import TZ
from app.documents.tables import submissions_csv, submissions_xlsx
from app.models import CHANNEL_LABELS, STATUS_LABELS, AdminUser, Role, Status
from app.review.overview import OverviewCache
from app.review.queue import QueueFilter, export_rows, parse_filter, queue_page
from app.review.service import BULK_ACTIONS, assignable_users, bulk_apply, may_assign

router = APIRouter(prefix="/admin", include_in_schema=False)
register_nav("/admin", "意见", order=10)


def _overview_cache(request: Request) -> OverviewCache:
    cache: OverviewCache | None = getattr(request.app.state, "overview_cache", None)
    if cache is None:
        cache = request.app.state.overview_cache = OverviewCache()
    return cache


def _filters(request: Request) -> QueueFilter:
    return parse_filter(dict(request.query_params))


def _assignees(session: SessionDep, admin: Admin, unit_ids: list[int]) -> list[AdminUser]:
    return assignable_users(session, unit_ids=unit_ids) if may_assign(admin.user) else []


def queue_context(
    request: Request, admin: Admin, session: SessionDep, filters: QueueFilter
) -> dict[str, object]:
    """What the queue page shows; shared by the page and the bulk form's error view."""
    units = visible_units(session, user=admin.user)
    unit_ids = [u.id for u in units if u.id is not None]
    page = queue_page(session, user=admin.user, filters=filters)
    assignees = _assignees(session, admin, unit_ids)
    return {
        "units": units,
        "unit_names": {u.id: u.name for u in units},
        "overview": _overview_cache(request).get(session, unit_ids=unit_ids),
        "page": page,
        "f": filters,
        "status_labels": STATUS_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "roles": [r.value for r in Role],
        "assignees": assignees,
        "assignee_names": {u.id: u.display_name or u.username for u in assignees},
        "bulk_statuses": [s for s in Status if s != Status.duplicate],
        "can_assign": may_assign(admin.user),
        "back": request.url.query,
        "error": None,
    }


@router.get("", response_class=HTMLResponse)
def queue(request: Request, admin: AdminDep, session: SessionDep) -> HTMLResponse:
    filters = _filters(request)
    return render_admin(
        request, admin, "review/queue.html", queue_context(request, admin, session, filters)
    )


def _export_name(ext: str) -> str:
    stamp = datetime.now(TZ).strftime("%Y%m%d-%H%M")
    name = f"意见汇总-{stamp}.{ext}"
    return f"attachment; filename=\"yijian-{stamp}.{ext}\"; filename*=UTF-8''{quote(name)}"


def _export(request: Request, admin: Admin, session: SessionDep, ext: str) -> Response:
    filters = _filters(request)
    rows = export_rows(session, user=admin.user, filters=filters)
    record_audit(
        session,
        actor_id=admin.id,
        action="export",
        detail={"format": ext, "rows": len(rows), "filter": filters.params(after=None)},
    )
    session.commit()
    if ext == "csv":
        body = submissions_csv(rows)
        media = "text/csv; charset=utf-8"
    else:
        stamp = datetime.now(TZ).strftime("%Y-%m-%d %H:%M")
        body = submissions_xlsx(
            rows, title="意见汇总", summary={"导出时间": stamp, "导出人": admin.user.username}
        )
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        body,
        media_type=media,
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
    action = str(form.get("action") or "")
    value = str(form.get("value_" + action) or "") if action in BULK_ACTIONS else ""
    back = str(form.get("back") or "")
    try:
        ids = [int(v) for v in raw_ids if v.isdigit()]
        if len(ids) != len(raw_ids):
            raise UserError("意见编号不正确。")
        count = bulk_apply(session, user=admin.user, ids=ids, action=action, value=value)
    except UserError as exc:
        session.rollback()
        filters = parse_filter(dict(_query_pairs(back)))
        context = queue_context(request, admin, session, filters)
        context["error"] = exc.message
        context["back"] = back
        return render_admin(request, admin, "review/queue.html", context, status=exc.status)
    record_audit(
        session, actor_id=admin.id, action="bulk", detail={"action": action, "count": count}
    )
    session.commit()
    return RedirectResponse(_safe_back(back), status_code=303)


def _query_pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=False)[:20]

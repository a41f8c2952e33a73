"""/admin/reports: download the campaign's written reports as Word drafts or PDF."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.accounts.access import visible_units
from app.accounts.deps import AdminUser
from app.accounts.pages import NavGroup, register_nav, render_admin
from app.core.deps import SessionDep
from app.core.errors import Forbidden, Invalid
from app.core.time import parse_day
from app.reports.service import (
    MEDIA_TYPES,
    REPORT_LABELS,
    ReportFormat,
    parse_format,
    parse_kind,
    render_report,
    report_filename,
    report_for_download,
    report_scope,
)
from app.stats.routes import item_store
from app.stats.service import campaign_phases, choose_period

router = APIRouter(prefix="/admin/reports", include_in_schema=False)
register_nav("/admin/reports", "报告", group=NavGroup.handling, order=55)


@router.get("", response_class=HTMLResponse)
def reports_page(request: Request, admin: AdminUser, session: SessionDep) -> HTMLResponse:
    return render_admin(
        request,
        admin,
        "reports/admin.html",
        {
            "units": visible_units(session, user=admin.user),
            "kinds": list(REPORT_LABELS.items()),
            "phases": campaign_phases(session, bureau_id=admin.user.bureau_id),
        },
    )


def _phase_id(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise Invalid("活动阶段不正确。", field="phase")
    return int(value)


@router.get("/download")
def report_download(request: Request, admin: AdminUser, session: SessionDep) -> Response:
    q = request.query_params
    kind = parse_kind(q.get("kind", ""))
    fmt = parse_format(q.get("format", ReportFormat.docx.value))
    bureau = q.get("scope") == "bureau"
    if bureau and not admin.is_bureau:
        raise Forbidden("只有教育局管理员可以生成全局汇总。")
    scope = report_scope(
        session, units=visible_units(session, user=admin.user), slug=q.get("unit"), bureau=bureau
    )
    period = choose_period(
        session,
        bureau_id=scope.bureau_id,
        start=parse_day(q["from"], field="from", label="开始日期") if q.get("from") else None,
        end=parse_day(q["to"], field="to", label="结束日期") if q.get("to") else None,
        phase_id=_phase_id(q.get("phase")),
    )
    document = report_for_download(
        session,
        actor_id=admin.user.id,
        kind=kind,
        scope=scope,
        period=period,
        fmt=fmt,
        store=item_store(request),
    )
    session.commit()
    # A plain def: FastAPI runs it in the thread pool, so setting a PDF (seconds) and the
    # queries never hold up the event loop.
    data = render_report(document, fmt=fmt)
    name = report_filename(kind=kind, scope=scope, period=period, fmt=fmt)
    return Response(
        data,
        media_type=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )

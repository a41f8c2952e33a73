"""Admin pages for 我为教育发展献良策: roster upload with preview, compliance, reminders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.accounts.access import visible_unit_ids, visible_units
from app.accounts.deps import Admin, AdminUser, ManagerCsrfAdmin
from app.accounts.pages import NavGroup, register_nav, render_admin
from app.audit.service import record_audit
from app.campaign import roster
from app.campaign.deps import admin_unit
from app.campaign.jobs import send_reminders_now
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import Invalid, TooLarge, UserError
from app.documents.tables import rows_csv, rows_xlsx
from app.outbox.service import require_sender

router = APIRouter(prefix="/admin/roster", include_in_schema=False)
register_nav("/admin/roster", "中层献策", group=NavGroup.campaign, order=30)

MAX_ROSTER_BYTES = 2 * 1024 * 1024


def _unit_ids(session: Session, admin: Admin, unit: str | None) -> list[int]:
    """The chosen unit, or every unit this admin may see."""
    if not unit:
        return visible_unit_ids(session, user=admin.user)
    target = admin_unit(session, admin, unit)
    assert target.id is not None
    return [target.id]


def _page(
    request: Request,
    admin: Admin,
    session: Session,
    *,
    unit: str | None = None,
    error: str | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    rows = roster.compliance_rows(session, unit_ids=_unit_ids(session, admin, unit))
    return render_admin(
        request,
        admin,
        "campaign/admin/roster.html",
        {
            "rows": rows,
            "totals": roster.compliance_by_unit(rows),
            "units": visible_units(session, user=admin.user),
            "unit": unit or "",
            "error": error,
            "message": message,
        },
        status=status,
    )


@router.get("", response_class=HTMLResponse)
def roster_page(request: Request, admin: AdminUser, session: SessionDep) -> HTMLResponse:
    sent = request.query_params.get("sent", "")
    message = f"已发送提醒 {int(sent)} 封。" if sent.isdigit() else None
    if request.query_params.get("imported", "").isdigit():
        message = f"已导入 {int(request.query_params['imported'])} 人。"
    return _page(request, admin, session, unit=request.query_params.get("unit"), message=message)


@router.post("/preview", response_class=HTMLResponse)
def roster_preview(
    request: Request,
    admin: ManagerCsrfAdmin,
    session: SessionDep,
    unit: Annotated[str, Form(max_length=64)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    try:
        target = admin_unit(session, admin, unit)
        assert target.id is not None
        if file is None or not file.filename:
            raise Invalid("请选择名单文件（xlsx 或 CSV）。", field="file")
        data = file.file.read(MAX_ROSTER_BYTES + 1)
        if len(data) > MAX_ROSTER_BYTES:
            raise TooLarge("名单文件不能超过 2 MB。")
        preview = roster.parse_roster(filename=file.filename, data=data)
        staged = None
        if not preview.errors:
            staged = roster.stage_roster_import(
                session, unit_id=target.id, actor_id=admin.id, preview=preview
            )
            session.commit()
    except UserError as exc:
        session.rollback()
        return _page(request, admin, session, error=exc.message, status=exc.status)
    return render_admin(
        request,
        admin,
        "campaign/admin/roster_preview.html",
        {"unit": target, "preview": preview, "import_id": staged.id if staged else None},
        status=200 if staged else 422,
    )


@router.post("/confirm")
def roster_confirm(
    request: Request,
    admin: ManagerCsrfAdmin,
    session: SessionDep,
    settings: SettingsDep,
    import_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    try:
        if not import_id.isdigit():
            raise Invalid("这次导入已确认或已失效，请重新上传名单。")
        people = roster.confirm_roster_import(
            session,
            import_id=int(import_id),
            unit_ids=visible_unit_ids(session, user=admin.user),
            secret=settings.secret_key,
        )
        record_audit(
            session,
            actor_id=admin.id,
            action="roster_imported",
            unit_id=people[0].unit_id if people else None,
            detail={"count": len(people)},
        )
        session.commit()
    except UserError as exc:
        session.rollback()
        return _page(request, admin, session, error=exc.message, status=exc.status)
    return RedirectResponse(f"/admin/roster?imported={len(people)}", status_code=303)


@router.get("/export.{fmt}")
def roster_export(request: Request, fmt: str, admin: AdminUser, session: SessionDep) -> Response:
    ids = _unit_ids(session, admin, request.query_params.get("unit"))
    table = roster.compliance_table(roster.compliance_rows(session, unit_ids=ids))
    if fmt == "csv":
        data, media = rows_csv(roster.COMPLIANCE_HEADERS, table), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        data = rows_xlsx(roster.COMPLIANCE_HEADERS, table, sheet_title="献策情况")
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        raise Invalid("只能导出 xlsx 或 csv。")
    return Response(
        data,
        media_type=media,
        headers={
            "Content-Disposition": f"attachment; filename=roster-compliance.{fmt}",
            "Cache-Control": "no-store",
        },
    )


@router.post("/remind")
async def roster_remind(
    request: Request,
    admin: ManagerCsrfAdmin,
    session: SessionDep,
    settings: SettingsDep,
    unit: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    try:
        if not settings.smtp_host or not settings.mail_from:
            raise Invalid("尚未配置发信邮箱（YIJIAN_SMTP_HOST、YIJIAN_MAIL_FROM），无法发送提醒。")
        ids = await run_in_threadpool(_unit_ids, session, admin, unit)
        # End this read first: the reminders commit through other connections, and SQLite
        # refuses a later write (the audit) from a transaction older than theirs.
        await run_in_threadpool(session.rollback)
        run = await send_reminders_now(
            request.app.state.engine,
            settings=settings,
            sender=require_sender(settings),
            unit_ids=ids,
        )

        def record() -> None:
            record_audit(
                session,
                actor_id=admin.id,
                action="roster_reminded",
                detail={"sent": len(run.sent), "failed": len(run.failed)},
            )
            session.commit()

        await run_in_threadpool(record)
        if run.failed:
            message = f"已发送 {len(run.sent)} 封；{len(run.failed)} 封发送失败，下次再试。"
            return await run_in_threadpool(
                lambda: _page(request, admin, session, error=message, status=502)
            )
    except UserError as exc:
        session.rollback()
        error, status = exc.message, exc.status
        return await run_in_threadpool(
            lambda: _page(request, admin, session, error=error, status=status)
        )
    return RedirectResponse(f"/admin/roster?sent={len(run.sent)}", status_code=303)

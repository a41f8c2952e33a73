"""The digest page: past digests with their status and errors, send now, and settings."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.accounts.deps import BureauAdmin, BureauCsrfAdmin
from app.accounts.pages import NavGroup, register_nav, render_admin
from app.audit.service import record_audit
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import Invalid, UserError
from app.digest.jobs import BUREAU_BUSY, send_digest_now
from app.digest.schedule import (
    WEEKDAY_NAMES,
    ensure_default_setting,
    get_setting,
    latest_completed,
    period_of,
    save_setting,
)
from app.digest.service import list_digests
from app.models import DIGEST_STATUS_LABELS, DigestKind, DigestStatus, utcnow
from app.outbox.service import require_sender

router = APIRouter(prefix="/admin/digest", include_in_schema=False)
register_nav("/admin/digest", "摘要", group=NavGroup.handling, order=60, bureau_only=True)

NOTICES = {
    DigestStatus.sent.value: "已发送。",
    DigestStatus.failed.value: "发送失败，系统会自动重试，原因见下表。",
    DigestStatus.skipped.value: "没有新意见，未发送。",
    DigestStatus.sending.value: "另一个进程正在发送这期摘要，请稍后刷新查看结果。",
    DigestStatus.pending.value: BUREAU_BUSY,
    "saved": "设置已保存。",
}


def _page(
    request: Request,
    admin: BureauAdmin,
    session: SessionDep,
    settings: SettingsDep,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    bureau_id = admin.user.bureau_id
    rows = list_digests(session, bureau_id=bureau_id)
    now = utcnow()
    return render_admin(
        request,
        admin,
        "digest/admin.html",
        {
            "rows": [
                {
                    "row": row,
                    "period": period_of(row),
                    "label": DIGEST_STATUS_LABELS[DigestStatus(row.status)],
                    "total": json.loads(row.totals).get("total") if row.totals else None,
                }
                for row in rows
            ],
            "setting": get_setting(session, bureau_id=bureau_id),
            "weekdays": WEEKDAY_NAMES,
            "yesterday": latest_completed(DigestKind.day, now=now),
            "last_week": latest_completed(DigestKind.week, now=now),
            "notice": NOTICES.get(request.query_params.get("done", "")),
            "error": error,
            "smtp_ready": bool(settings.smtp_host and settings.mail_from),
        },
        status=status,
    )


@router.get("", response_class=HTMLResponse)
def digest_page(
    request: Request, admin: BureauAdmin, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    # YIJIAN_DIGEST_TO seeds the form the first time the page is opened.
    ensure_default_setting(session, recipients=settings.digest_to)
    session.commit()
    return _page(request, admin, session, settings)


@router.post("/send", response_class=HTMLResponse)
def send_now(
    request: Request,
    admin: BureauCsrfAdmin,
    session: SessionDep,
    settings: SettingsDep,
    kind: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Send the last whole day's or week's digest now (once per period, ever)."""
    bureau_id, actor_id = admin.user.bureau_id, admin.id
    # End this session's read snapshot (and touch nothing until the send is done): the send
    # commits through another connection, and SQLite refuses a later write from a transaction
    # whose snapshot predates it.
    session.commit()
    try:
        if kind not in {k.value for k in DigestKind}:
            raise Invalid("请选择要发送的摘要。", field="kind")
        now = utcnow()
        period = latest_completed(DigestKind(kind), now=now)
        outcome = send_digest_now(
            request.app.state.engine,
            settings,
            require_sender(settings),
            bureau_id=bureau_id,
            period=period,
            now=now,
        )
    except UserError as exc:
        session.rollback()
        return _page(request, admin, session, settings, error=exc.message, status=exc.status)
    record_audit(
        session,
        actor_id=actor_id,
        action="digest_sent_now",
        detail={"period": outcome.period_key, "status": outcome.status.value},
    )
    session.commit()
    return RedirectResponse(f"/admin/digest?done={outcome.status.value}", status_code=303)


@router.post("/settings", response_class=HTMLResponse)
def update_settings(
    request: Request,
    admin: BureauCsrfAdmin,
    session: SessionDep,
    settings: SettingsDep,
    recipients: Annotated[str, Form(max_length=2000)] = "",
    daily_time: Annotated[str, Form(max_length=5)] = "",
    weekly_weekday: Annotated[str, Form(max_length=2)] = "",
    send_when_empty: Annotated[str | None, Form(max_length=3)] = None,
    enabled: Annotated[str | None, Form(max_length=3)] = None,
) -> Response:
    try:
        if weekly_weekday and not weekly_weekday.isdigit():
            raise Invalid("每周发送日应为周一到周日之一。", field="weekly_weekday")
        save_setting(
            session,
            bureau_id=admin.user.bureau_id,
            recipients=recipients,
            daily_time=daily_time or None,
            clear_daily=not daily_time,
            weekly_weekday=int(weekly_weekday) if weekly_weekday else None,
            clear_weekly=not weekly_weekday,
            send_when_empty=send_when_empty is not None,
            enabled=enabled is not None,
        )
    except UserError as exc:
        session.rollback()
        return _page(request, admin, session, settings, error=exc.message, status=exc.status)
    record_audit(session, actor_id=admin.id, action="digest_settings")
    session.commit()
    return RedirectResponse("/admin/digest?done=saved", status_code=303)

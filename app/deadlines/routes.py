"""Deadline pages: an item's extension, approval and 催办; the bureau's 督办 list; the
answer-time settings of the bureau and its schools."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.accounts.access import visible_units
from app.accounts.deps import Admin, AdminUser, BureauAdmin, CsrfAdmin
from app.accounts.pages import NavGroup, register_nav, render_admin
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import Forbidden, NotFound, UserError
from app.core.render import render_error
from app.core.time import today_local
from app.deadlines.ack import list_unacknowledged
from app.deadlines.service import (
    decide_extension,
    extend_item,
    list_overdue,
    set_bureau_times,
    set_unit_times,
    urge_item,
)
from app.models import AdminRole, Bureau

router = APIRouter(prefix="/admin", include_in_schema=False)
register_nav("/admin/supervision", "督办", group=NavGroup.handling, order=45, bureau_only=True)
register_nav("/admin/deadlines", "办理时限", group=NavGroup.settings, order=55)

NOTICES = {
    "extend": "已延期。",
    "requested": "延期申请已提交，等待教育局审批。",
    "approve": "已批准延期。",
    "refuse": "已不批准延期，承诺答复日期不变。",
    "urge": "已催办，记录在办理记录中。",
    "saved": "办理时限已保存。",
}


def _back(item_id: int, notice: str) -> RedirectResponse:
    return RedirectResponse(f"/admin/items/{item_id}?done={notice}", status_code=303)


def _refused(request: Request, session: Session, exc: UserError) -> Response:
    # Nothing of a refused action is kept; the error page says why and leads back.
    session.rollback()
    return render_error(request, exc.message, exc.status)


@router.post("/items/{item_id}/deadline/extend")
def extend(
    request: Request,
    item_id: int,
    admin: CsrfAdmin,
    session: SessionDep,
    extra_days: Annotated[str, Form(max_length=4)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        outcome = extend_item(
            session,
            user=admin.user,
            submission_id=item_id,
            extra_days=extra_days,
            reason=reason,
            today=today_local(),
        )
    except UserError as exc:
        return _refused(request, session, exc)
    session.commit()
    return _back(item_id, "requested" if outcome == "pending" else "extend")


@router.post("/items/{item_id}/deadline/{decision}")
def decide(
    request: Request,
    item_id: int,
    decision: str,
    admin: CsrfAdmin,
    session: SessionDep,
    settings: SettingsDep,
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        if decision == "urge":
            urge_item(
                session,
                user=admin.user,
                submission_id=item_id,
                note=note,
                from_addr=settings.mail_from,
                base_url=settings.base_url,
            )
        elif decision in ("approve", "refuse"):
            decide_extension(
                session, user=admin.user, submission_id=item_id, approve=decision == "approve"
            )
        else:
            raise NotFound("没有这个操作。")
    except UserError as exc:
        return _refused(request, session, exc)
    session.commit()
    return _back(item_id, decision)


@router.get("/supervision", response_class=HTMLResponse)
def supervision(request: Request, admin: BureauAdmin, session: SessionDep) -> HTMLResponse:
    """督办: every overdue item of every school."""
    today = today_local()
    rows = list_overdue(session, user=admin.user, today=today)
    unacked = list_unacknowledged(session, user=admin.user, today=today)
    context = {"rows": rows, "unacked": unacked}
    return render_admin(request, admin, "deadlines/supervision.html", context)


def _settings_page(
    request: Request,
    admin: Admin,
    session: Session,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render_admin(
        request,
        admin,
        "deadlines/settings.html",
        {
            "bureau": session.get(Bureau, admin.user.bureau_id) if admin.is_bureau else None,
            "units": visible_units(session, user=admin.user),
            "notice": NOTICES.get(request.query_params.get("done", "")),
            "error": error,
        },
        status=status,
    )


@router.get("/deadlines", response_class=HTMLResponse)
def deadline_settings(request: Request, admin: AdminUser, session: SessionDep) -> HTMLResponse:
    return _settings_page(request, admin, session)


@router.post("/deadlines", response_class=HTMLResponse)
def save_deadline_settings(
    request: Request,
    admin: CsrfAdmin,
    session: SessionDep,
    unit: Annotated[str, Form(max_length=64)] = "",
    answer_days: Annotated[str, Form(max_length=4)] = "",
    ack_days: Annotated[str, Form(max_length=4)] = "",
    approval: Annotated[str | None, Form(max_length=3)] = None,
) -> Response:
    try:
        if admin.user.role == AdminRole.reviewer:
            raise Forbidden("审核人不能修改办理时限。")
        if unit:
            found = next(
                (u for u in visible_units(session, user=admin.user) if u.slug == unit), None
            )
            if found is None:
                raise NotFound("没有找到这个单位，或您无权修改。")
            set_unit_times(
                session, actor_id=admin.id, unit=found, answer_days=answer_days, ack_days=ack_days
            )
        else:
            bureau = session.get(Bureau, admin.user.bureau_id)
            if not admin.is_bureau or bureau is None:
                raise Forbidden("只有教育局管理员可以修改教育局的设置。")
            set_bureau_times(
                session,
                actor_id=admin.id,
                bureau=bureau,
                answer_days=answer_days,
                ack_days=ack_days,
                extension_needs_approval=approval is not None,
            )
    except UserError as exc:
        session.rollback()
        return _settings_page(request, admin, session, error=exc.message, status=exc.status)
    session.commit()
    return RedirectResponse("/admin/deadlines?done=saved", status_code=303)

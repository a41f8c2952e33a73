"""The retention page: the bureau's periods, the 14-day warning list, holds and releases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.accounts.deps import Admin, AdminUser, BureauCsrfAdmin, CsrfAdmin
from app.accounts.pages import NavGroup, register_nav, render_admin
from app.core.deps import SessionDep
from app.core.errors import UserError
from app.core.time import today_local
from app.models import AdminRole
from app.retention.service import (
    WARNING_DAYS,
    get_policy,
    hold_item,
    list_upcoming,
    release_item,
    set_policy,
)

router = APIRouter(prefix="/admin/retention", include_in_schema=False)
register_nav("/admin/retention", "保存期限", group=NavGroup.settings, order=78)

DONE = {
    "policy": "保存期限已保存。",
    "held": "已保留，这条意见不会被清理。",
    "released": "已取消保留。",
}


def _page(
    request: Request,
    admin: Admin,
    session: SessionDep,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render_admin(
        request,
        admin,
        "retention/page.html",
        {
            "policy": get_policy(session, bureau_id=admin.user.bureau_id),
            "items": list_upcoming(session, user=admin.user, today=today_local()),
            "warning_days": WARNING_DAYS,
            "can_edit": admin.user.role == AdminRole.bureau_admin,
            "done": DONE.get(request.query_params.get("done", "")),
            "error": error,
        },
        status=status,
    )


@router.get("", response_class=HTMLResponse)
def retention_page(request: Request, admin: AdminUser, session: SessionDep) -> HTMLResponse:
    return _page(request, admin, session)


@router.post("/policy", response_class=HTMLResponse)
def save_policy(
    request: Request,
    admin: BureauCsrfAdmin,
    session: SessionDep,
    purge_days: Annotated[int, Form()],
    archive_days: Annotated[int, Form()],
) -> Response:
    try:
        set_policy(
            session,
            bureau_id=admin.user.bureau_id,
            purge_days=purge_days,
            archive_days=archive_days,
            actor_id=admin.id,
        )
    except UserError as exc:
        session.rollback()
        return _page(request, admin, session, error=exc.message, status=exc.status)
    session.commit()
    return RedirectResponse("/admin/retention?done=policy", status_code=303)


@router.post("/items/{item_id}/hold", response_class=HTMLResponse)
def hold(
    request: Request,
    item_id: int,
    admin: CsrfAdmin,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        hold_item(session, user=admin.user, submission_id=item_id, reason=reason)
    except UserError as exc:
        session.rollback()
        return _page(request, admin, session, error=exc.message, status=exc.status)
    session.commit()
    return RedirectResponse("/admin/retention?done=held", status_code=303)


@router.post("/items/{item_id}/release", response_class=HTMLResponse)
def release(request: Request, item_id: int, admin: CsrfAdmin, session: SessionDep) -> Response:
    try:
        release_item(session, user=admin.user, submission_id=item_id)
    except UserError as exc:
        session.rollback()
        return _page(request, admin, session, error=exc.message, status=exc.status)
    session.commit()
    return RedirectResponse("/admin/retention?done=released", status_code=303)

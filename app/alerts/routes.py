"""Clearing a false alarm (紧急 → 解除) and the duty addresses page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.accounts.deps import Admin, AdminUser, CsrfAdmin
from app.accounts.pages import NavGroup, register_nav, render_admin
from app.alerts.service import clear_item_flag, duty_addresses, save_duty_addresses
from app.core.deps import SessionDep
from app.core.errors import UserError

router = APIRouter(prefix="/admin/alerts", include_in_schema=False)
register_nav("/admin/alerts", "紧急提醒", group=NavGroup.settings, order=75)


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
        "alerts/contacts.html",
        {
            "rows": duty_addresses(session, user=admin.user),
            "saved": request.query_params.get("done") == "saved",
            "error": error,
        },
        status=status,
    )


@router.get("", response_class=HTMLResponse)
def contacts_page(request: Request, admin: AdminUser, session: SessionDep) -> HTMLResponse:
    return _page(request, admin, session)


@router.post("", response_class=HTMLResponse)
async def save_contacts(request: Request, admin: CsrfAdmin, session: SessionDep) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.items() if k.startswith("email_") and isinstance(v, str)}
    try:
        save_duty_addresses(session, user=admin.user, values=values)
    except UserError as exc:
        session.rollback()
        return _page(request, admin, session, error=exc.message, status=exc.status)
    session.commit()
    return RedirectResponse("/admin/alerts?done=saved", status_code=303)


@router.post("/items/{item_id}/clear", response_class=HTMLResponse)
def clear(
    request: Request,
    item_id: int,
    admin: CsrfAdmin,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """An admin clears a false alarm; the reason is audited."""
    try:
        clear_item_flag(session, user=admin.user, submission_id=item_id, reason=reason)
    except UserError as exc:
        session.rollback()
        return render_admin(
            request,
            admin,
            "alerts/refused.html",
            {"error": exc.message, "item_id": item_id},
            status=exc.status,
        )
    session.commit()
    return RedirectResponse(f"/admin/items/{item_id}?done=urgent_cleared", status_code=303)

"""Sign-off pages: the drafts waiting, approve / send back, the per-unit setting and the
unit's reply templates (常用答复)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.accounts.access import visible_units
from app.accounts.deps import Admin, AdminUser, BureauCsrfAdmin, ManagerCsrfAdmin
from app.accounts.pages import NavGroup, register_nav, render_admin
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import Forbidden, Invalid, UserError
from app.core.render import render_error
from app.models import AdminRole
from app.review.replies import save_and_send
from app.signoff.approval import approve_draft
from app.signoff.service import (
    delete_template,
    find_unit,
    get_draft,
    list_drafts,
    list_templates,
    return_draft,
    save_template,
    set_bureau_signoff,
    set_signoff,
    signoff_settings,
)

router = APIRouter(prefix="/admin", include_in_schema=False)
register_nav("/admin/signoff", "答复审核", group=NavGroup.handling, order=46)
register_nav("/admin/reply-settings", "常用答复", group=NavGroup.settings, order=56)

NOTICES = {
    "saved": "已保存。",
    "template": "常用答复已保存。",
    "deleted": "常用答复已删除。",
}


def _refused(request: Request, session: Session, exc: UserError) -> Response:
    session.rollback()
    return render_error(request, exc.message, exc.status)


def _require_manager(admin: Admin) -> None:
    if admin.user.role == AdminRole.reviewer:
        raise Forbidden("只有管理员可以访问此页面。")


@router.get("/signoff", response_class=HTMLResponse)
def drafts(request: Request, admin: AdminUser, session: SessionDep) -> HTMLResponse:
    """答复审核: the drafts of this admin's units (a handler: their own)."""
    rows = list_drafts(session, user=admin.user)
    return render_admin(request, admin, "signoff/drafts.html", {"rows": rows})


@router.post("/signoff/drafts/{draft_id}/approve")
async def approve(
    request: Request,
    draft_id: int,
    admin: ManagerCsrfAdmin,
    session: SessionDep,
    settings: SettingsDep,
    body: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    sender = request.app.state.mail_sender
    save = partial(
        approve_draft,
        user=admin.user,
        draft_id=draft_id,
        body=body,
        from_addr=settings.mail_from if sender is not None else None,
        base_url=settings.base_url,
        secret=settings.secret_key,
    )
    try:
        draft = await run_in_threadpool(
            partial(get_draft, session, user=admin.user, draft_id=draft_id)
        )
        item_id = draft.submission_id
        # The approval runs in a session of its own: this one must not hold the read open.
        await run_in_threadpool(session.rollback)
        await save_and_send(request.app.state.engine, user=admin.user, save=save, sender=sender)
    except UserError as exc:
        return await run_in_threadpool(_refused, request, session, exc)
    return RedirectResponse(f"/admin/items/{item_id}?done=approved", status_code=303)


@router.post("/signoff/drafts/{draft_id}/return")
def send_back(
    request: Request,
    draft_id: int,
    admin: ManagerCsrfAdmin,
    session: SessionDep,
    comment: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        draft = return_draft(session, user=admin.user, draft_id=draft_id, comment=comment)
    except UserError as exc:
        return _refused(request, session, exc)
    session.commit()
    return RedirectResponse(f"/admin/items/{draft.submission_id}?done=returned", status_code=303)


def _settings_page(
    request: Request, admin: Admin, session: Session, *, error: str | None = None, status: int = 200
) -> HTMLResponse:
    _require_manager(admin)
    units = visible_units(session, user=admin.user)
    ids = [u.id for u in units if u.id is not None]
    return render_admin(
        request,
        admin,
        "signoff/settings.html",
        {
            "units": units,
            "signoff": signoff_settings(session, bureau_id=admin.user.bureau_id, units=units),
            "may_set_default": admin.is_bureau,
            "templates": {i: list_templates(session, unit_id=i) for i in ids},
            "notice": NOTICES.get(request.query_params.get("done", "")),
            "error": error,
        },
        status=status,
    )


@router.get("/reply-settings", response_class=HTMLResponse)
def reply_settings(request: Request, admin: AdminUser, session: SessionDep) -> HTMLResponse:
    return _settings_page(request, admin, session)


def _saved(session: Session, notice: str) -> Response:
    session.commit()
    return RedirectResponse(f"/admin/reply-settings?done={notice}", status_code=303)


@router.post("/reply-settings/signoff", response_class=HTMLResponse)
def save_signoff(
    request: Request,
    admin: ManagerCsrfAdmin,
    session: SessionDep,
    unit: Annotated[str, Form(max_length=64)] = "",
    required: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    try:
        found = find_unit(session, user=admin.user, slug=unit)
        set_signoff(session, actor_id=admin.id, unit=found, required=_choice(required))
    except UserError as exc:
        session.rollback()
        return _settings_page(request, admin, session, error=exc.message, status=exc.status)
    return _saved(session, "saved")


# A unit's choice on the form: on, off, or the bureau's default (empty).
_CHOICES: dict[str, bool | None] = {"1": True, "0": False, "": None}


def _choice(value: str) -> bool | None:
    if value not in _CHOICES:
        raise Invalid("请选择 需审核、不需审核 或 跟随教育局默认。", field="required")
    return _CHOICES[value]


@router.post("/reply-settings/signoff-default", response_class=HTMLResponse)
def save_signoff_default(
    admin: BureauCsrfAdmin,
    session: SessionDep,
    required: Annotated[str | None, Form(max_length=3)] = None,
) -> Response:
    set_bureau_signoff(
        session, actor_id=admin.id, bureau_id=admin.user.bureau_id, required=required is not None
    )
    return _saved(session, "saved")


@router.post("/reply-settings/templates", response_class=HTMLResponse)
def save_reply_template(
    request: Request,
    admin: ManagerCsrfAdmin,
    session: SessionDep,
    unit: Annotated[str, Form(max_length=64)] = "",
    template: Annotated[str, Form(max_length=12)] = "",
    title: Annotated[str, Form(max_length=400)] = "",
    body: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    try:
        found = find_unit(session, user=admin.user, slug=unit)
        save_template(
            session,
            user=admin.user,
            unit=found,
            template_id=int(template) if template.isdigit() else None,
            title=title,
            body=body,
        )
    except UserError as exc:
        session.rollback()
        return _settings_page(request, admin, session, error=exc.message, status=exc.status)
    return _saved(session, "template")


@router.post("/reply-settings/templates/{template_id}/delete", response_class=HTMLResponse)
def remove_reply_template(
    request: Request, template_id: int, admin: ManagerCsrfAdmin, session: SessionDep
) -> Response:
    try:
        delete_template(session, user=admin.user, template_id=template_id)
    except UserError as exc:
        session.rollback()
        return _settings_page(request, admin, session, error=exc.message, status=exc.status)
    return _saved(session, "deleted")

"""Login, logout, password change, and account management."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import col, select

from app.accounts.access import visible_units
from app.accounts.auth import (
    authenticate,
    change_password,
    end_session,
    reset_password,
    start_session,
)
from app.accounts.deps import (
    AdminUser,
    BureauAdmin,
    BureauCsrfAdmin,
    CsrfAdmin,
    check_origin,
    cookie_name,
)
from app.accounts.pages import NavGroup, register_nav, render_admin
from app.accounts.service import create_admin
from app.audit.service import record_audit
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import Invalid, TooMany, UserError
from app.core.render import render
from app.models import ADMIN_ROLE_LABELS, AdminRole
from app.models import AdminUser as AdminUserRow

router = APIRouter(prefix="/admin", include_in_schema=False)
register_nav("/admin/users", "用户", group=NavGroup.settings, order=80, bureau_only=True)
register_nav("/admin/password", "修改密码", group=NavGroup.settings, order=90)


def _safe_next(value: str | None) -> str:
    # Only local admin paths: never an open redirect to another site.
    if value and value.startswith("/admin") and not value.startswith("//"):
        return value
    return "/admin"


def login_limit(request: Request) -> None:
    """Per-address limit on login attempts, in memory only."""
    limiter = request.app.state.login_limiter
    if not limiter.hit(request.client.host if request.client else "unknown"):
        raise TooMany("登录尝试过于频繁，请稍后再试。")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return render(
        request,
        "accounts/login.html",
        {"next": _safe_next(request.query_params.get("next")), "error": None},
    )


@router.post("/login", dependencies=[Depends(login_limit)])
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=500)] = "/admin",
) -> Response:
    check_origin(request)
    try:
        user = authenticate(
            session,
            username=username,
            password=password,
            address=request.client.host if request.client else "unknown",
            throttle=request.app.state.login_throttle,
        )
    except UserError as exc:
        session.commit()  # keep the audit of a locked account
        return render(
            request,
            "accounts/login.html",
            {"next": _safe_next(next), "error": exc.message, "username": username},
            status=exc.status,
        )
    new = start_session(session, user=user)
    session.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        cookie_name(settings),
        new.token,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    return response


@router.post("/logout")
def logout(admin: CsrfAdmin, session: SessionDep, settings: SettingsDep) -> Response:
    end_session(session, token_hash=admin.token_hash, actor_id=admin.id)
    session.commit()
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(
        cookie_name(settings),
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/password", response_class=HTMLResponse)
def password_form(request: Request, admin: AdminUser) -> HTMLResponse:
    return render_admin(request, admin, "accounts/password.html", {"error": None, "done": False})


@router.post("/password", response_class=HTMLResponse)
def password_change(
    request: Request,
    admin: CsrfAdmin,
    session: SessionDep,
    current: Annotated[str, Form(max_length=256)] = "",
    new: Annotated[str, Form(max_length=256)] = "",
) -> HTMLResponse:
    user = session.get(AdminUserRow, admin.id)
    assert user is not None
    try:
        change_password(
            session, user=user, current=current, new=new, keep_token_hash=admin.token_hash
        )
    except Invalid as exc:
        return render_admin(
            request,
            admin,
            "accounts/password.html",
            {"error": exc.message, "done": False},
            status=exc.status,
        )
    session.commit()
    return render_admin(request, admin, "accounts/password.html", {"error": None, "done": True})


def _users_page(
    request: Request,
    admin: BureauAdmin,
    session: SessionDep,
    error: str | None = None,
    status: int = 200,
    new_password: tuple[str, str] | None = None,
) -> HTMLResponse:
    users = session.exec(
        select(AdminUserRow)
        .where(AdminUserRow.bureau_id == admin.user.bureau_id)
        .order_by(col(AdminUserRow.username))
    ).all()
    units = visible_units(session, user=admin.user)
    names = {u.id: u.name for u in units}
    return render_admin(
        request,
        admin,
        "accounts/users.html",
        {
            "users": users,
            "units": units,
            "unit_names": names,
            "role_labels": ADMIN_ROLE_LABELS,
            "error": error,
            "new_password": new_password,
        },
        status=status,
    )


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, admin: BureauAdmin, session: SessionDep) -> HTMLResponse:
    return _users_page(request, admin, session)


@router.post("/users", response_class=HTMLResponse)
def add_user(
    request: Request,
    admin: BureauCsrfAdmin,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    unit_id: Annotated[str, Form(max_length=20)] = "",
    display_name: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        if role not in {r.value for r in AdminRole}:
            raise Invalid("请选择角色。", field="role")
        unit = int(unit_id) if unit_id.isdigit() else None
        if unit is not None and unit not in {u.id for u in visible_units(session, user=admin.user)}:
            raise Invalid("请选择本局的单位。", field="unit")
        user = create_admin(
            session,
            username=username,
            password=password,
            role=AdminRole(role),
            bureau_id=admin.user.bureau_id,
            unit_id=None if role == AdminRole.bureau_admin else unit,
            display_name=display_name,
        )
    except UserError as exc:
        session.rollback()
        return _users_page(request, admin, session, error=exc.message, status=exc.status)
    record_audit(
        session,
        actor_id=admin.id,
        action="user_created",
        unit_id=user.unit_id,
        detail={"username": user.username, "role": user.role},
    )
    session.commit()
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{user_id}/password", response_class=HTMLResponse)
def reset_user_password(
    request: Request, user_id: int, admin: BureauCsrfAdmin, session: SessionDep
) -> HTMLResponse:
    """A colleague forgot their password: a new one, shown once to the bureau admin."""
    user = session.get(AdminUserRow, user_id)
    if user is None or user.bureau_id != admin.user.bureau_id:
        return _users_page(request, admin, session, error="没有找到这个用户。", status=404)
    if user.id == admin.id:
        message = "请在“修改密码”页修改自己的密码。"
        return _users_page(request, admin, session, error=message, status=422)
    new = secrets.token_urlsafe(12)
    reset_password(session, username=user.username, new=new, actor_id=admin.id)
    session.commit()
    return _users_page(request, admin, session, new_password=(user.username, new))

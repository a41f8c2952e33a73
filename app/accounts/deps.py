"""Admin dependencies: the logged-in admin, role gates and CSRF checks."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from app.accounts.auth import LoginPolicy, resume_session
from app.core.config import Settings
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import Forbidden
from app.models import AdminRole
from app.models import AdminUser as AdminUserRow


class LoginRequired(Exception):
    """Raised for a page that needs a login; the app answers with a redirect."""


async def redirect_to_login(request: Request, exc: Exception) -> Response:
    """The answer to LoginRequired: the login page, coming back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/admin/login?next={quote(target)}", status_code=303)


def cookie_name(settings: Settings) -> str:
    # __Host- cookies must be Secure; plain HTTP (local dev) gets a plain name.
    return "__Host-yijian_admin" if settings.secure_cookies else "yijian_admin"


def login_policy(settings: Settings) -> LoginPolicy:
    return LoginPolicy(
        idle_minutes=settings.session_idle_minutes,
        max_hours=settings.session_max_hours,
    )


@dataclass(frozen=True)
class Admin:
    user: AdminUserRow
    csrf_token: str
    token_hash: str

    @property
    def id(self) -> int:
        assert self.user.id is not None
        return self.user.id

    @property
    def is_bureau(self) -> bool:
        return self.user.role == AdminRole.bureau_admin


def current_admin(request: Request, session: SessionDep, settings: SettingsDep) -> Admin:
    """The admin of this request's session cookie, or LoginRequired."""
    token = request.cookies.get(cookie_name(settings))
    active = resume_session(session, token=token, policy=login_policy(settings)) if token else None
    session.commit()  # expired sessions are deleted, the idle clock touched
    if active is None:
        raise LoginRequired
    request.state.admin = active
    return Admin(user=active.user, csrf_token=active.csrf_token, token_hash=active.token_hash)


def check_origin(request: Request) -> None:
    """Refuse a state change that a browser says came from another site."""
    site = request.headers.get("sec-fetch-site")
    if site == "cross-site":
        raise Forbidden("跨站请求已被拒绝。")
    origin = request.headers.get("origin")
    if origin and origin != "null":
        if urlsplit(origin).netloc != request.headers.get("host", ""):
            raise Forbidden("跨站请求已被拒绝。")
    elif origin == "null" and site != "same-origin":
        # Our pages send Referrer-Policy no-referrer, so browsers send "Origin: null" even
        # for our own forms; Sec-Fetch-Site then still tells same-origin from the rest.
        raise Forbidden("跨站请求已被拒绝。")


async def csrf_admin(request: Request, admin: Annotated[Admin, Depends(current_admin)]) -> Admin:
    """The admin, for a state-changing request that passed the origin and token checks."""
    check_origin(request)
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    if not sent or not secrets.compare_digest(sent, admin.csrf_token):
        raise Forbidden("页面已过期或请求来源不明，请刷新页面后重试。")
    return admin


def bureau_admin(admin: Annotated[Admin, Depends(current_admin)]) -> Admin:
    """Only a bureau admin."""
    if not admin.is_bureau:
        raise Forbidden("只有教育局管理员可以访问此页面。")
    return admin


async def bureau_csrf_admin(admin: Annotated[Admin, Depends(csrf_admin)]) -> Admin:
    """A bureau admin making a checked state change."""
    if not admin.is_bureau:
        raise Forbidden("只有教育局管理员可以执行此操作。")
    return admin


async def manager_csrf_admin(admin: Annotated[Admin, Depends(csrf_admin)]) -> Admin:
    """A bureau or unit admin making a checked state change; reviewers only read here."""
    if admin.user.role == AdminRole.reviewer:
        raise Forbidden("审核人只能处理分配给自己的意见，不能执行此操作。")
    return admin


AdminUser = Annotated[Admin, Depends(current_admin)]
ManagerCsrfAdmin = Annotated[Admin, Depends(manager_csrf_admin)]
CsrfAdmin = Annotated[Admin, Depends(csrf_admin)]
BureauAdmin = Annotated[Admin, Depends(bureau_admin)]
BureauCsrfAdmin = Annotated[Admin, Depends(bureau_csrf_admin)]

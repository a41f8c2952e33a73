"""Admin login: argon2id check, throttling, server-side sessions with idle timeout."""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from app.accounts.service import MIN_PASSWORD, hash_password, needs_rehash, verify_password
from app.accounts.throttle import LoginThrottle
from app.audit.service import record_audit
from app.core.errors import Invalid, NotFound, TooMany, UserError
from app.models import AdminSession, AdminUser, utcnow

# Verified against when the user does not exist, so both cases take the same time.
_DUMMY_HASH = hash_password(secrets.token_hex(16))
LOGIN_FAILED = "用户名或密码不正确。"


class LoginFailed(UserError):
    status = 401
    code = "login_failed"


@dataclass(frozen=True)
class LoginPolicy:
    idle_minutes: int
    max_hours: int


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    address: str,
    throttle: LoginThrottle,
    now: datetime | None = None,
) -> AdminUser:
    """Check credentials, throttled per (name, address); one answer whatever went wrong.

    A refused attempt costs no password hash and no query, and unknown names are throttled
    exactly like real ones, so neither the answer nor its timing tells them apart.
    """
    name = username.strip()
    wait = throttle.attempt(account=name, address=address)
    if wait > 0:
        raise TooMany(f"登录失败次数过多，请 {math.ceil(wait / 60)} 分钟后再试。")
    user = session.exec(select(AdminUser).where(AdminUser.username == name)).first()
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password)
        raise LoginFailed(LOGIN_FAILED)
    if not verify_password(user.password_hash, password):
        if throttle.at_ceiling(account=name):
            record_audit(session, actor_id=user.id, action="login_locked")
        raise LoginFailed(LOGIN_FAILED)
    throttle.succeeded(account=name, address=address)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now or utcnow()
    session.add(user)
    return user


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf_token: str


def start_session(session: Session, *, user: AdminUser) -> NewSession:
    """A fresh session id at every login (no fixation); returns the cookie token."""
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(AdminSession(token_hash=_token_hash(token), user_id=user.id, csrf_token=csrf))
    record_audit(session, actor_id=user.id, action="login")
    return NewSession(token=token, csrf_token=csrf)


@dataclass(frozen=True)
class ActiveSession:
    user: AdminUser
    csrf_token: str
    token_hash: str


def resume_session(
    session: Session, *, token: str, policy: LoginPolicy, now: datetime | None = None
) -> ActiveSession | None:
    """The logged-in user for a cookie token, or None when unknown, idle or too old."""
    now = now or utcnow()
    row = session.get(AdminSession, _token_hash(token))
    if row is None:
        return None
    expired = now - row.last_seen_at > timedelta(
        minutes=policy.idle_minutes
    ) or now - row.created_at > timedelta(hours=policy.max_hours)
    user = session.get(AdminUser, row.user_id)
    if expired or user is None or not user.active:
        session.delete(row)
        return None
    # Touch at most once a minute: a page view should not always be a write.
    if now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now
        session.add(row)
    return ActiveSession(user=user, csrf_token=row.csrf_token, token_hash=row.token_hash)


def end_session(session: Session, *, token_hash: str, actor_id: int | None) -> None:
    """Log out: the session row is deleted, so the cookie is worthless."""
    session.exec(delete(AdminSession).where(col(AdminSession.token_hash) == token_hash))
    record_audit(session, actor_id=actor_id, action="logout")


def reset_password(
    session: Session, *, username: str, new: str, actor_id: int | None = None
) -> None:
    """Set a forgotten password and end all of the user's sessions (actor: None for the CLI)."""
    user = session.exec(select(AdminUser).where(AdminUser.username == username.strip())).first()
    if user is None:
        raise NotFound(f"没有名为 {username} 的管理员。")
    if len(new) < MIN_PASSWORD:
        raise Invalid(f"新密码至少需要 {MIN_PASSWORD} 个字符。", field="password")
    user.password_hash = hash_password(new)
    session.add(user)
    session.exec(delete(AdminSession).where(col(AdminSession.user_id) == user.id))
    detail = {"username": user.username}
    record_audit(session, actor_id=actor_id, action="password_reset", detail=detail)


def change_password(
    session: Session, *, user: AdminUser, current: str, new: str, keep_token_hash: str
) -> None:
    """Change a password and end the user's other sessions."""
    if not verify_password(user.password_hash, current):
        raise Invalid("当前密码不正确。", field="current")
    if len(new) < MIN_PASSWORD:
        raise Invalid(f"新密码至少需要 {MIN_PASSWORD} 个字符。", field="new")
    user.password_hash = hash_password(new)
    session.add(user)
    session.exec(
        delete(AdminSession).where(
            col(AdminSession.user_id) == user.id, col(AdminSession.token_hash) != keep_token_hash
        )
    )
    record_audit(session, actor_id=user.id, action="password_changed")

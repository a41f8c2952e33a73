"""Admin accounts: argon2id password hashes."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from app.core.errors import Conflict, Invalid
from app.models import AdminRole, AdminUser

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches; never raises on a bad hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


def create_admin(
    session: Session,
    *,
    username: str,
    password: str,
    role: AdminRole,
    bureau_id: int,
    unit_id: int | None = None,
    display_name: str = "",
) -> AdminUser:
    """Create an admin account; unit roles need a unit."""
    name = username.strip()
    if not name or len(name) > 64:
        raise Invalid("用户名不能为空，且不超过64个字符。", field="username")
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"密码至少需要 {MIN_PASSWORD} 个字符。", field="password")
    if role != AdminRole.bureau_admin and unit_id is None:
        raise Invalid("学校管理员和审核人需要指定所属单位。", field="unit")
    if session.exec(select(AdminUser).where(AdminUser.username == name)).first():
        raise Conflict("这个用户名已经存在。", field="username")
    user = AdminUser(
        username=name,
        password_hash=hash_password(password),
        role=role,
        bureau_id=bureau_id,
        unit_id=unit_id,
        display_name=display_name or name,
    )
    session.add(user)
    session.flush()
    return user

"""Bureaus and units (schools), and the demo data for a first look."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.accounts.service import create_admin
from app.campaign.service import create_campaign
from app.core.errors import Conflict, Invalid, NotFound
from app.core.time import today_local
from app.models import AdminRole, AdminUser, Bureau, Campaign, Unit

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
DEMO_BUREAU = "示范县教育体育局"
DEMO_ADMIN = "admin"
DEMO_INTRO = (
    "为深入开展“解放思想、更新观念、开拓创新”大讨论活动，广泛听取家长、离退休干部、"
    "上级领导、教职工和社会各界对学校工作的意见和建议，现公开征求意见。可以匿名提交。"
)


def get_or_create_bureau(session: Session, *, name: str) -> Bureau:
    """The bureau with this name, created when missing."""
    bureau = session.exec(select(Bureau).where(Bureau.name == name)).first()
    if bureau is None:
        bureau = Bureau(name=name)
        session.add(bureau)
        session.flush()
    return bureau


def default_bureau(session: Session) -> Bureau:
    """The first bureau; single-county installs have only one."""
    bureau = session.exec(select(Bureau).order_by(col(Bureau.id))).first()
    if bureau is None:
        raise NotFound("还没有教育局，请先运行 yijian demo 或 yijian unit add。")
    return bureau


def add_unit(
    session: Session,
    *,
    slug: str,
    name: str,
    bureau_id: int | None = None,
    email: str | None = None,
) -> Unit:
    """Add a school; the slug appears in its public link /u/<slug>."""
    if not _SLUG.match(slug):
        raise Invalid("单位代码只能用小写字母、数字和连字符，2-63位。", field="slug")
    if not name.strip():
        raise Invalid("单位名称不能为空。", field="name")
    if session.exec(select(Unit).where(Unit.slug == slug)).first():
        raise Conflict(f"单位代码 {slug} 已被使用。", field="slug")
    if bureau_id is None:
        bureau_id = get_or_create_bureau(session, name=DEMO_BUREAU).id
    assert bureau_id is not None
    unit = Unit(bureau_id=bureau_id, slug=slug, name=name.strip(), email=email)
    session.add(unit)
    session.flush()
    return unit


@dataclass(frozen=True)
class DemoResult:
    bureau: str
    units: list[str]
    admin: str
    password: str | None  # only when the admin was created in this run


def ensure_demo(session: Session) -> DemoResult:
    """Create the demo bureau, schools demo and demo2, an open campaign and an admin, once."""
    bureau = get_or_create_bureau(session, name=DEMO_BUREAU)
    assert bureau.id is not None
    for slug, name, email in (
        ("demo", "示范县第一初级中学", "yijian-demo@school.example"),
        ("demo2", "示范县实验小学", None),
    ):
        if session.exec(select(Unit).where(Unit.slug == slug)).first() is None:
            add_unit(session, slug=slug, name=name, bureau_id=bureau.id, email=email)
    if session.exec(select(Campaign).where(Campaign.bureau_id == bureau.id)).first() is None:
        create_campaign(
            session,
            bureau_id=bureau.id,
            title="解放思想、更新观念、开拓创新大讨论活动",
            intro=DEMO_INTRO,
            solicit_start=today_local(),
            solicit_days=30,
        )
    password = None
    if session.exec(select(AdminUser).where(AdminUser.username == DEMO_ADMIN)).first() is None:
        password = secrets.token_urlsafe(12)
        create_admin(
            session,
            username=DEMO_ADMIN,
            password=password,
            role=AdminRole.bureau_admin,
            bureau_id=bureau.id,
            display_name="活动办公室",
        )
    return DemoResult(
        bureau=bureau.name, units=["demo", "demo2"], admin=DEMO_ADMIN, password=password
    )

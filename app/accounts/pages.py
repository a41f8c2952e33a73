"""Rendering admin pages: the navigation registry and the shared page context."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.accounts.deps import Admin
from app.core.render import render


class NavGroup(StrEnum):
    """What a clerk came to do; the menu shows these headings in this order."""

    opinions = "意见"  # read and enter opinions
    handling = "办理"  # follow them through: measures, the digest to the bureau
    campaign = "活动"  # run the campaign: roster, evaluation, printed material
    settings = "设置"  # mailboxes, accounts, the audit log, one's password


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    group: NavGroup
    bureau_only: bool
    order: int


NAV: list[NavItem] = []


def register_nav(
    href: str, label: str, *, group: NavGroup, order: int, bureau_only: bool = False
) -> None:
    """Add a top-level admin page to the navigation (each feature router adds its own)."""
    if all(item.href != href for item in NAV):
        NAV.append(NavItem(href, label, group, bureau_only, order))
        NAV.sort(key=lambda item: item.order)


def nav_menu(admin: Admin) -> list[tuple[NavGroup, list[NavItem]]]:
    """The pages this admin may open, grouped; groups without such a page are left out."""
    visible = [item for item in NAV if admin.is_bureau or not item.bureau_only]
    menu = [(group, [item for item in visible if item.group == group]) for group in NavGroup]
    return [(group, items) for group, items in menu if items]


def render_admin(
    request: Request,
    admin: Admin,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> HTMLResponse:
    """An admin page: never cached, with the nav for this admin's role and the CSRF token."""
    ctx = {
        "admin": admin,
        "csrf": admin.csrf_token,
        "nav": nav_menu(admin),
        "path": request.url.path,
        **(context or {}),
    }
    return render(request, name, ctx, status=status)

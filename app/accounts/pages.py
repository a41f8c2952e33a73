"""Rendering admin pages: the navigation registry and the shared page context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.accounts.deps import Admin
from app.core.render import render


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    bureau_only: bool
    order: int


NAV: list[NavItem] = []


def register_nav(href: str, label: str, *, order: int, bureau_only: bool = False) -> None:
    """Add a top-level admin page to the navigation (each feature router adds its own)."""
    if all(item.href != href for item in NAV):
        NAV.append(NavItem(href, label, bureau_only, order))
        NAV.sort(key=lambda item: item.order)


def render_admin(
    request: Request,
    admin: Admin,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> HTMLResponse:
    """An admin page: never cached, with the nav for this admin's role and the CSRF token."""
    nav = [item for item in NAV if admin.is_bureau or not item.bureau_only]
    ctx = {
        "admin": admin,
        "csrf": admin.csrf_token,
        "nav": nav,
        "path": request.url.path,
        **(context or {}),
    }
    return render(request, name, ctx, status=status)

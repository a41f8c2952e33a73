"""The 工作日 page: a year's corrections of the official calendar, for bureau admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.accounts.deps import Admin, BureauAdmin, BureauCsrfAdmin
from app.accounts.pages import NavGroup, register_nav, render_admin
from app.core.deps import SessionDep
from app.core.errors import Invalid, UserError
from app.core.time import parse_day, today_local
from app.workdays.service import knows_year, list_overrides, remove_override, set_override

router = APIRouter(prefix="/admin/calendar", include_in_schema=False)
register_nav("/admin/calendar", "工作日", group=NavGroup.settings, order=56, bureau_only=True)

NOTICES = {"set": "已保存。", "unset": "已删除，这一天按国家日历计算。"}


def _year(value: str | None) -> int:
    text = (value or "").strip()
    if not text:
        return today_local().year
    if not (text.isascii() and text.isdigit()) or not 2000 <= int(text) <= 2100:
        raise Invalid("年份应是 2000 到 2100 之间的四位数字。", field="year")
    return int(text)


def _page(
    request: Request,
    admin: Admin,
    session: Session,
    *,
    year: int,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render_admin(
        request,
        admin,
        "workdays/calendar.html",
        {
            "year": year,
            "known": knows_year(year),
            "days": list_overrides(session, year=year),
            "notice": NOTICES.get(request.query_params.get("done", "")),
            "error": error,
        },
        status=status,
    )


@router.get("", response_class=HTMLResponse)
def calendar_page(
    request: Request, admin: BureauAdmin, session: SessionDep, year: str | None = None
) -> HTMLResponse:
    try:
        shown = _year(year)
    except UserError as exc:
        return _page(
            request, admin, session, year=today_local().year, error=exc.message, status=exc.status
        )
    return _page(request, admin, session, year=shown)


@router.post("", response_class=HTMLResponse)
def change_day(
    request: Request,
    admin: BureauCsrfAdmin,
    session: SessionDep,
    day: Annotated[str, Form(max_length=20)] = "",
    kind: Annotated[str, Form(max_length=8)] = "",
    note: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """Add, correct (kind work or rest) or remove (kind unset) one day's override."""
    year = today_local().year
    try:
        when = parse_day(day, field="day")
        year = when.year
        if kind == "unset":
            remove_override(session, actor_id=admin.id, day=when)
        elif kind in ("work", "rest"):
            set_override(session, actor_id=admin.id, day=when, working=kind == "work", note=note)
        else:
            raise Invalid("请选择上班、休息或删除。", field="kind")
    except UserError as exc:
        session.rollback()
        return _page(request, admin, session, year=year, error=exc.message, status=exc.status)
    session.commit()
    done = "unset" if kind == "unset" else "set"
    return RedirectResponse(f"/admin/calendar?year={year}&done={done}", status_code=303)

"""/admin/stats: the figures of a period or campaign phase, charts, links to the queue, xlsx."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.accounts.access import visible_units
from app.accounts.deps import Admin, AdminUser
from app.accounts.pages import NavGroup, register_nav, render_admin
from app.core.deps import SessionDep
from app.core.errors import Forbidden, Invalid
from app.core.time import parse_day
from app.documents.tables import Cell, rows_xlsx
from app.models import AdminRole, Channel, Role, Status
from app.stats.charts import bar_chart, column_chart, heat_map
from app.stats.service import (
    CHECK_KEYS,
    Row,
    Summary,
    campaign_phases,
    check_label,
    choose_period,
    format_rate,
    summarize,
)
from app.stats.store import ItemStore
from app.workdays.service import DEFAULT_ANSWER_WORKING_DAYS

router = APIRouter(prefix="/admin/stats", include_in_schema=False)
register_nav("/admin/stats", "统计", group=NavGroup.handling, order=50)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIGURES = ("received", "answered", "closed", "open", "overdue")
FIGURE_LABELS = {
    "received": "收到",
    "answered": "已答复",
    "closed": "已办结",
    "open": "未答复",
    "overdue": "超期",
}
_ROLES = frozenset(r.value for r in Role)
_CHANNELS = frozenset(c.value for c in Channel)

# The queue parameters that select a row's items (the period is added by Links).
Scope = Callable[[Row], dict[str, str]]


@dataclass(frozen=True)
class Table:
    title: str
    name: str
    rows: list[Row]
    links: dict[str, dict[str, str]]  # row key -> figure -> queue link

    def link(self, row: Row) -> str:
        return self.links[row.key]["received"]


class Links:
    """Queue links for the figures of one period: each opens the queue filtered to exactly
    the items behind the figure (the queue's `state` and `check=none` count as we do)."""

    def __init__(self, summary: Summary, *, unit: str | None = None) -> None:
        assert summary.period is not None
        self.period = summary.period
        # A bureau admin looking at one unit: every link stays within it.
        self.base = {"unit": unit} if unit else {}

    def figure(self, scope: dict[str, str], figure: str) -> str:
        """The queue link of one figure of the items `scope` selects in the period."""
        start = max(date.fromisoformat(scope.get("from", "0001-01-01")), self.period.start)
        end = min(date.fromisoformat(scope.get("to", "9999-12-31")), self.period.end)
        params = {**self.base, **scope, "from": start.isoformat(), "to": end.isoformat()}
        if figure == "closed":
            params["status"] = Status.closed.value
        elif figure in ("answered", "open", "overdue"):
            params["state"] = figure
        if figure in ("open", "overdue"):
            params["sort"] = "old"
        return "/admin?" + urlencode(params)

    def table(self, title: str, name: str, rows: list[Row], scope: Scope) -> Table:
        links = {r.key: {f: self.figure(scope(r), f) for f in FIGURES} for r in rows}
        return Table(title, name, rows, links)


def check_scope(row: Row) -> dict[str, str]:
    """The queue filter of a by_check row (or heat map cell); 待归类 is check=none."""
    return {"check": row.key}


def _channel_scope(row: Row) -> dict[str, str]:
    return {"channel": row.key} if row.key in _CHANNELS else {}


def _role_scope(row: Row) -> dict[str, str]:
    return {"role": row.key} if row.key in _ROLES else {}


def _unit_scope(row: Row) -> dict[str, str]:
    return {"unit": row.key}


def _week_scope(row: Row) -> dict[str, str]:
    monday = date.fromisoformat(row.key)
    return {"from": monday.isoformat(), "to": (monday + timedelta(days=6)).isoformat()}


def _parse_request(request: Request) -> tuple[date | None, date | None, int | None]:
    p = request.query_params
    start = parse_day(p["from"], field="from", label="开始日期") if p.get("from") else None
    end = parse_day(p["to"], field="to", label="结束日期") if p.get("to") else None
    phase = p.get("phase") or None
    if phase is not None and not (phase.isdigit() and len(phase) < 10):
        raise Invalid("没有这个活动阶段。", field="phase")
    return start, end, None if phase is None else int(phase)


def item_store(request: Request) -> ItemStore:
    """The process's ItemStore (app.state.stats_store, filled at start-up)."""
    store: ItemStore = request.app.state.stats_store
    return store


def _summary(request: Request, admin: Admin, session: SessionDep) -> Summary:
    if admin.user.role == AdminRole.reviewer:
        raise Forbidden("统计只对学校管理员和教育局管理员开放。")
    start, end, phase = _parse_request(request)
    period = choose_period(
        session, bureau_id=admin.user.bureau_id, start=start, end=end, phase_id=phase
    )
    units = visible_units(session, user=admin.user)
    slug = request.query_params.get("unit")
    if slug:
        units = [u for u in units if u.slug == slug]
        if not units:
            raise Invalid("没有这个单位，或您无权查看它的统计。", field="unit")
    unit_ids = [u.id for u in units if u.id is not None]
    return summarize(
        session,
        unit_ids=unit_ids,
        period=period,
        bureau_items=admin.is_bureau,
        store=item_store(request),
    )


def _tables(summary: Summary, links: Links) -> list[Table]:
    return [
        links.table("按五查类别", "check", summary.by_check, check_scope),
        links.table("按来源渠道", "channel", summary.by_channel, _channel_scope),
        links.table("按提出人身份", "role", summary.by_role, _role_scope),
        links.table("按单位", "unit", summary.by_unit, _unit_scope),
        links.table("按周", "week", summary.weekly, _week_scope),
    ]


def _days(value: float | None) -> str:
    return "暂无" if value is None else f"{value:g} 个工作日"


@router.get("", response_class=HTMLResponse)
def stats_page(request: Request, admin: AdminUser, session: SessionDep) -> HTMLResponse:
    summary = _summary(request, admin, session)
    links = Links(summary, unit=request.query_params.get("unit"))
    tables = _tables(summary, links)
    charts = [bar_chart(t.title, t.rows, t.link) for t in tables[:4]]
    heat = None
    if admin.is_bureau and summary.by_unit:
        heat = heat_map(
            "单位 × 五查",
            summary.by_unit,
            summary.by_unit_check,
            [(k, check_label(k)) for k in CHECK_KEYS],
            lambda unit, cell: links.figure({"unit": unit.key, **check_scope(cell)}, "received"),
        )
    return render_admin(
        request,
        admin,
        "stats/admin.html",
        {
            "s": summary,
            "totals": {f: links.figure({}, f) for f in FIGURES},
            "figure_labels": FIGURE_LABELS,
            "figures": FIGURES,
            "tables": tables,
            "charts": charts,
            "trend": column_chart("每周收到与答复", summary.weekly, tables[4].link),
            "heat": heat,
            "phases": campaign_phases(session, bureau_id=admin.user.bureau_id),
            "phase": request.query_params.get("phase", ""),
            "units": visible_units(session, user=admin.user) if admin.is_bureau else [],
            "unit": request.query_params.get("unit", ""),
            "on_time": format_rate(summary.on_time_rate),
            "satisfaction": format_rate(summary.satisfaction_rate),
            "evaluation": format_rate(summary.evaluation_rate),
            "to_reply": _days(summary.median_days_to_reply),
            "to_close": _days(summary.median_days_to_close),
            "promise": DEFAULT_ANSWER_WORKING_DAYS,
            "query": request.url.query,
        },
    )


def stats_rows(summary: Summary) -> list[list[Cell]]:
    """The page's tables as one long sheet: group, item, then each figure."""
    groups = [
        ("合计", [summary.totals]),
        ("五查类别", summary.by_check),
        ("来源渠道", summary.by_channel),
        ("提出人身份", summary.by_role),
        ("单位", summary.by_unit),
        ("周（起始日）", summary.weekly),
    ]
    blank = [None] * (len(FIGURES) - 1)
    rows: list[list[Cell]] = [
        ["比率", "按时答复率", format_rate(summary.on_time_rate), *blank],
        ["比率", "答复用时中位数", _days(summary.median_days_to_reply), *blank],
        ["比率", "办结用时中位数", _days(summary.median_days_to_close), *blank],
        ["比率", "回访满意率", format_rate(summary.satisfaction_rate), *blank],
        ["比率", "群众评议满意率", format_rate(summary.evaluation_rate), *blank],
    ]
    rows += [
        [group, r.label, *(getattr(r, f) for f in FIGURES)]
        for group, members in groups
        for r in members
    ]
    units = {u.key: u.label for u in summary.by_unit}
    rows += [
        [f"单位×五查：{units[unit]}", cell.label, *(getattr(cell, f) for f in FIGURES)]
        for unit, cells in summary.by_unit_check.items()
        for cell in cells.values()
    ]
    return rows


@router.get(".xlsx")
def stats_xlsx(request: Request, admin: AdminUser, session: SessionDep) -> Response:
    summary = _summary(request, admin, session)
    assert summary.period is not None
    data = rows_xlsx(
        ["分组", "项目", *FIGURE_LABELS.values()], stats_rows(summary), sheet_title="统计"
    )
    name = f"stats-{summary.period.start}-{summary.period.end}.xlsx"
    return Response(
        data,
        media_type=XLSX,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )

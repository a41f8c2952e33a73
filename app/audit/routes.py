"""The audit log page: every admin action, filterable, for bureau admins only."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import col, select

from app.accounts.deps import BureauAdmin
from app.accounts.pages import NavGroup, register_nav, render_admin
from app.audit.service import ACTION_LABELS, AuditFilter, audit_actions, audit_page
from app.core.deps import SessionDep
from app.core.errors import Invalid
from app.core.time import local_midnight, parse_day
from app.models import AdminUser as AdminUserRow
from app.models import Unit

router = APIRouter(prefix="/admin", include_in_schema=False)
register_nav("/admin/audit", "审计日志", group=NavGroup.settings, order=70, bureau_only=True)


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request, admin: BureauAdmin, session: SessionDep) -> HTMLResponse:
    bureau_id = admin.user.bureau_id
    p = {k: v.strip() for k, v in request.query_params.items() if v.strip()}
    users = session.exec(
        select(AdminUserRow)
        .where(AdminUserRow.bureau_id == bureau_id)
        .order_by(col(AdminUserRow.username))
    ).all()
    units = session.exec(
        select(Unit).where(Unit.bureau_id == bureau_id).order_by(col(Unit.name))
    ).all()
    by_name = {u.username: u.id for u in users}
    by_slug = {u.slug: u.id for u in units}
    if "actor" in p and p["actor"] not in by_name:
        raise Invalid("没有这个用户。", field="actor")
    actions = audit_actions(session)
    if "action" in p and p["action"] not in actions:
        raise Invalid("没有这种操作。", field="action")
    if "unit" in p and p["unit"] not in by_slug:
        raise Invalid("没有这个单位。", field="unit")
    if "before" in p and not p["before"].isdigit():
        raise Invalid("翻页参数不正确。", field="before")
    since = parse_day(p["from"], field="from") if "from" in p else None
    until = parse_day(p["to"], field="to") if "to" in p else None
    filters = AuditFilter(
        actor_id=by_name.get(p.get("actor", "")),
        action=p.get("action"),
        unit_id=by_slug.get(p.get("unit", "")),
        since=local_midnight(since) if since else None,
        until=local_midnight(until + timedelta(days=1)) if until else None,
        before_id=int(p["before"]) if "before" in p else None,
    )
    rows, before = audit_page(session, bureau_id=bureau_id, filters=filters)
    kept = {k: v for k, v in p.items() if k != "before"}
    return render_admin(
        request,
        admin,
        "audit/audit.html",
        {
            "rows": rows,
            "users": users,
            "units": units,
            "user_names": {u.id: u.display_name or u.username for u in users},
            "unit_names": {u.id: u.name for u in units},
            "action_labels": {a: ACTION_LABELS.get(a, a) for a in actions},
            "p": p,
            "next_link": urlencode({**kept, "before": before}) if before else None,
        },
    )

"""The admin landing page: where opinions pile up, per check, status and unit."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.deps import SessionDep
from app.models import STATUS_LABELS
from app.services.access import visible_units
from app.services.overview import count_overview
from app.web.admin.deps import AdminUser
from app.web.admin.pages import register_nav, render_admin

router = APIRouter(prefix="/admin", include_in_schema=False)
register_nav("/admin", "意见", order=10)


@router.get("", response_class=HTMLResponse)
def home(request: Request, admin: AdminUser, session: SessionDep) -> HTMLResponse:
    units = visible_units(session, user=admin.user)
    overview = count_overview(session, unit_ids=[u.id for u in units if u.id is not None])
    return render_admin(
        request,
        admin,
        "admin/home.html",
        {
            "units": units,
            "overview": overview,
            "status_labels": STATUS_LABELS,
        },
    )

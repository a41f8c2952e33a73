"""公开统计: /u/{slug}/stats for a unit, /stats for the bureau; no login, nothing identifying."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import col, select

from app.campaign.service import get_unit
from app.core.deps import SessionDep
from app.core.errors import NotFound
from app.core.render import render
from app.models import Bureau
from app.stats.disclosure import LOW
from app.stats.public import PublicStats, public_stats
from app.stats.routes import item_store
from app.stats.service import format_rate

router = APIRouter(include_in_schema=False)


def _render(request: Request, stats: PublicStats, *, unit_slug: str | None) -> HTMLResponse:
    return render(
        request,
        "stats/public.html",
        {
            "p": stats,
            "unit_slug": unit_slug,
            "on_time": format_rate(stats.on_time_rate),
            "satisfaction": format_rate(stats.satisfaction_rate),
            "evaluation": format_rate(stats.evaluation_rate),
            "low": LOW,
        },
    )


@router.get("/u/{slug}/stats", response_class=HTMLResponse)
def unit_stats(request: Request, slug: str, session: SessionDep) -> HTMLResponse:
    unit = get_unit(session, slug=slug)
    stats = public_stats(
        session, bureau_id=unit.bureau_id, unit_slug=unit.slug, store=item_store(request)
    )
    return _render(request, stats, unit_slug=unit.slug)


@router.get("/stats", response_class=HTMLResponse)
def bureau_stats(request: Request, session: SessionDep) -> HTMLResponse:
    # One bureau per installation today; the first one if there are more.
    bureau_id = session.exec(select(Bureau.id).order_by(col(Bureau.id))).first()
    if bureau_id is None:
        raise NotFound("还没有设置教育局。")
    stats = public_stats(session, bureau_id=bureau_id, store=item_store(request))
    return _render(request, stats, unit_slug=None)

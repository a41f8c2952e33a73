"""评议 for admins: results, one-time evaluation codes, and opening channels by hand."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.accounts.access import visible_units
from app.accounts.deps import Admin, AdminUser, ManagerCsrfAdmin
from app.accounts.pages import NavGroup, register_nav, render_admin
from app.audit.service import record_audit
from app.campaign.deps import PDF_HEADERS, admin_unit
from app.campaign.evaluation import create_codes, evaluation_results
from app.campaign.printables import (
    evaluation_forms,
    print_context,
)
from app.campaign.service import (
    ALL_CHANNELS,
    EVALUATION,
    get_intake_state,
    list_overrides,
    set_override,
)
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import Invalid, UserError
from app.models import (
    CHANNEL_LABELS,
    RATING_LABELS,
)

router = APIRouter(prefix="/admin", include_in_schema=False)
register_nav("/admin/evaluation", "评议", group=NavGroup.campaign, order=50)

# What a unit admin may open or close by hand: each channel, and public evaluation.
OVERRIDE_LABELS = {
    **{channel.value: label for channel, label in CHANNEL_LABELS.items()},
    EVALUATION: "群众评议",
}


def _evaluation_page(
    request: Request,
    admin: Admin,
    session: Session,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    units = visible_units(session, user=admin.user)
    ids = [u.id for u in units if u.id is not None]
    states = {u.id: get_intake_state(session, slug=u.slug) for u in units}
    overrides = {u.id: list_overrides(session, unit_id=u.id) for u in units if u.id}
    return render_admin(
        request,
        admin,
        "campaign/admin/evaluation.html",
        {
            "units": units,
            "results": evaluation_results(session, unit_ids=ids),
            "rating_labels": RATING_LABELS,
            "states": states,
            "overrides": overrides,
            "override_labels": OVERRIDE_LABELS,
            "channels": [*ALL_CHANNELS.split(), EVALUATION],
            "error": error,
        },
        status=status,
    )


@router.get("/evaluation", response_class=HTMLResponse)
def evaluation_page(request: Request, admin: AdminUser, session: SessionDep) -> HTMLResponse:
    return _evaluation_page(request, admin, session)


@router.post("/evaluation/codes")
async def evaluation_codes(
    request: Request,
    admin: ManagerCsrfAdmin,
    session: SessionDep,
    settings: SettingsDep,
    unit: Annotated[str, Form(max_length=64)] = "",
    count: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    try:
        target = admin_unit(session, admin, unit)
        assert target.id is not None
        if not count.strip().isdigit():
            raise Invalid("请填写要生成的评议码数量。", field="count")
        context = print_context(session, slug=target.slug)
        codes = create_codes(
            session, secret=settings.secret_key, unit_id=target.id, count=int(count)
        )
        data = await run_in_threadpool(
            evaluation_forms, context, base_url=settings.base_url, codes=codes
        )
        record_audit(
            session,
            actor_id=admin.id,
            action="evaluation_codes_created",
            unit_id=target.id,
            detail={"count": len(codes)},
        )
        # The codes exist only in this PDF: commit once it is rendered.
        session.commit()
    except UserError as exc:
        session.rollback()
        return _evaluation_page(request, admin, session, error=exc.message, status=exc.status)
    return Response(
        data,
        media_type="application/pdf",
        headers={
            **PDF_HEADERS,
            "Content-Disposition": f"attachment; filename=eval-{target.slug}.pdf",
        },
    )


@router.post("/evaluation/override")
def evaluation_override(
    request: Request,
    admin: ManagerCsrfAdmin,
    session: SessionDep,
    unit: Annotated[str, Form(max_length=64)] = "",
    channel: Annotated[str, Form(max_length=16)] = "",
    state: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    try:
        target = admin_unit(session, admin, unit)
        assert target.id is not None
        choice = {"open": True, "closed": False, "auto": None}
        if state not in choice:
            raise Invalid("请选择开放、关闭或按阶段。", field="state")
        set_override(session, unit_id=target.id, channel=channel, is_open=choice[state])
        record_audit(
            session,
            actor_id=admin.id,
            action="channel_override",
            unit_id=target.id,
            detail={"channel": channel, "state": state},
        )
        session.commit()
    except UserError as exc:
        session.rollback()
        return _evaluation_page(request, admin, session, error=exc.message, status=exc.status)
    return RedirectResponse("/admin/evaluation#open", status_code=303)

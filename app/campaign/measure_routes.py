"""Admin pages for the rectification board: turn suggestions into measures, track progress."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from app.accounts.access import visible_unit_ids, visible_units
from app.accounts.deps import Admin, AdminUser, ManagerCsrfAdmin
from app.accounts.pages import NavGroup, register_nav, render_admin
from app.audit.service import record_audit
from app.campaign.deps import admin_unit
from app.campaign.measures import (
    MeasureInput,
    create_measure,
    excerpt,
    get_measure,
    linked_submission_ids,
    list_measures,
    update_measure,
    validate_measure,
)
from app.core.deps import SessionDep
from app.core.errors import Invalid, UserError
from app.models import CHECK_NAMES, MEASURE_STATUS_LABELS, Submission

router = APIRouter(prefix="/admin/measures", include_in_schema=False)
register_nav("/admin/measures", "整改措施", group=NavGroup.handling, order=40)

RECENT = 200

MeasureForm = dict[str, str]


class MeasureFields(BaseModel):
    """The measure form as posted (unit only when creating one)."""

    unit: str = Field(default="", max_length=64)
    title: str = ""
    description: str = ""
    owner: str = ""
    deadline: str = Field(default="", max_length=20)
    progress: str = Field(default="0", max_length=5)
    status: str = Field(default="todo", max_length=16)
    check: str = Field(default="", max_length=3)
    submission: list[str] = []

    def validated(self) -> MeasureInput:
        """The measure to store; Invalid with a Chinese message otherwise."""
        return validate_measure(**self.model_dump(exclude={"unit", "submission"}))

    def submission_ids(self) -> list[int]:
        """The suggestions ticked to link to the measure."""
        return _ids(self.submission)


PostedMeasure = Annotated[MeasureFields, Form()]


def _suggestions(session: Session, unit_ids: list[int]) -> list[tuple[int, int, str, int | None]]:
    rows = session.exec(
        select(Submission.id, Submission.unit_id, Submission.text, Submission.check)
        .where(col(Submission.unit_id).in_(unit_ids))
        .order_by(col(Submission.created_at).desc())
        .limit(RECENT)
    ).all()
    return [(sid or 0, uid, excerpt(text), check) for sid, uid, text, check in rows]


def _page(
    request: Request,
    admin: Admin,
    session: Session,
    *,
    error: str | None = None,
    form: MeasureForm | None = None,
    status: int = 200,
) -> HTMLResponse:
    ids = visible_unit_ids(session, user=admin.user)
    units = visible_units(session, user=admin.user)
    return render_admin(
        request,
        admin,
        "campaign/admin/measures.html",
        {
            "measures": list_measures(session, unit_ids=ids),
            "unit_names": {u.id: u.name for u in units},
            "units": units,
            "suggestions": _suggestions(session, ids),
            "status_labels": MEASURE_STATUS_LABELS,
            "checks": [(k, v) for k, v in CHECK_NAMES.items() if k],
            "error": error,
            "form": form or {},
        },
        status=status,
    )


def _ids(values: list[str]) -> list[int]:
    if not all(v.isdigit() for v in values):
        raise Invalid("所选意见编号不正确。", field="submission")
    return [int(v) for v in values]


@router.get("", response_class=HTMLResponse)
def measures_page(request: Request, admin: AdminUser, session: SessionDep) -> HTMLResponse:
    return _page(request, admin, session)


@router.post("", response_class=HTMLResponse)
def measure_create(
    request: Request, admin: ManagerCsrfAdmin, session: SessionDep, posted: PostedMeasure
) -> Response:
    form = posted.model_dump(exclude={"submission"})
    try:
        target = admin_unit(session, admin, posted.unit)
        assert target.id is not None
        data = posted.validated()
        measure = create_measure(
            session, unit_id=target.id, data=data, submission_ids=posted.submission_ids()
        )
        record_audit(
            session,
            actor_id=admin.id,
            action="measure_created",
            unit_id=target.id,
            detail={"measure_id": measure.id, "suggestions": len(posted.submission)},
        )
        session.commit()
    except UserError as exc:
        session.rollback()
        return _page(request, admin, session, error=exc.message, form=form, status=exc.status)
    return RedirectResponse("/admin/measures", status_code=303)


@router.get("/{measure_id}", response_class=HTMLResponse)
def measure_edit(
    request: Request, measure_id: int, admin: AdminUser, session: SessionDep
) -> HTMLResponse:
    return _edit_page(request, admin, session, measure_id)


def _edit_page(
    request: Request,
    admin: Admin,
    session: Session,
    measure_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    ids = visible_unit_ids(session, user=admin.user)
    measure = get_measure(session, measure_id=measure_id, unit_ids=ids)
    linked = set(linked_submission_ids(session, measure_id=measure_id))
    return render_admin(
        request,
        admin,
        "campaign/admin/measure_edit.html",
        {
            "m": measure,
            "linked": linked,
            "suggestions": _suggestions(session, [measure.unit_id]),
            "status_labels": MEASURE_STATUS_LABELS,
            "checks": [(k, v) for k, v in CHECK_NAMES.items() if k],
            "error": error,
        },
        status=status,
    )


@router.post("/{measure_id}", response_class=HTMLResponse)
def measure_update(
    request: Request,
    measure_id: int,
    admin: ManagerCsrfAdmin,
    session: SessionDep,
    posted: PostedMeasure,
) -> Response:
    try:
        data = posted.validated()
        measure = update_measure(
            session,
            measure_id=measure_id,
            unit_ids=visible_unit_ids(session, user=admin.user),
            data=data,
            add_submission_ids=posted.submission_ids(),
        )
        record_audit(
            session,
            actor_id=admin.id,
            action="measure_updated",
            unit_id=measure.unit_id,
            detail={"measure_id": measure_id, "progress": data.progress},
        )
        session.commit()
    except UserError as exc:
        session.rollback()
        return _edit_page(request, admin, session, measure_id, error=exc.message, status=exc.status)
    return RedirectResponse("/admin/measures", status_code=303)

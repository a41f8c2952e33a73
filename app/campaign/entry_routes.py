"""录入: office staff type in paper letters, box notes and meeting minutes."""

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
from app.campaign.deps import admin_unit
from app.campaign.offline import enter_letter, enter_meeting, split_minutes
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import Invalid, UserError
from app.core.forms import text_fields, uploaded_files
from app.core.time import parse_day
from app.intake.service import validate_submission
from app.intake.uploads import clean_files
from app.models import (
    MEETING_LABELS,
    MeetingKind,
    Role,
)

router = APIRouter(prefix="/admin", include_in_schema=False)
register_nav("/admin/entry", "录入", group=NavGroup.opinions, order=20)

def _entry_page(
    request: Request,
    admin: Admin,
    session: Session,
    *,
    message: str | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render_admin(
        request,
        admin,
        "campaign/admin/entry.html",
        {
            "units": visible_units(session, user=admin.user),
            "roles": [r.value for r in Role],
            "meeting_kinds": list(MEETING_LABELS.items()),
            "message": message,
            "error": error,
            "form": form or {},
        },
        status=status,
    )


@router.get("/entry", response_class=HTMLResponse)
def entry(request: Request, admin: AdminUser, session: SessionDep) -> HTMLResponse:
    done = request.query_params.get("done", "")
    count = request.query_params.get("n", "")
    message = None
    if done == "letter":
        message = "已录入1条信件意见，已进入待处理队列。"
    elif done == "meeting" and count.isdigit():
        message = f"已录入会议纪要，共{int(count)}条意见，已进入待处理队列。"
    return _entry_page(request, admin, session, message=message)


@router.post("/entry/letter", response_class=HTMLResponse)
async def entry_letter(
    request: Request, admin: ManagerCsrfAdmin, session: SessionDep, settings: SettingsDep
) -> Response:
    form = await request.form()
    fields = text_fields(form)
    try:
        unit = await run_in_threadpool(admin_unit, session, admin, fields.get("unit"))
        anonymous = fields.get("anonymous") == "1"
        data = validate_submission(
            text=fields.get("text"),
            role=fields.get("role"),
            anonymous=anonymous,
            name=fields.get("name"),
            contact=fields.get("contact"),
            max_chars=settings.max_text_chars,
        )
        uploads = uploaded_files(form, "scan")
        scans = await clean_files(
            uploads[: settings.max_files], anonymous=anonymous, max_bytes=settings.max_upload_bytes
        )
        received = parse_day(fields.get("received_on"), field="date", label="收到日期")

        def store() -> int:
            stored = enter_letter(
                session,
                tagger=request.app.state.tagger,
                secret=settings.secret_key,
                slug=unit.slug,
                data=data,
                received_on=received,
                scans=scans,
            )
            record_audit(
                session,
                actor_id=admin.id,
                action="letter_entered",
                unit_id=unit.id,
                submission_id=stored.id,
            )
            session.commit()
            return stored.id

        await run_in_threadpool(store)
    except UserError as exc:
        session.rollback()
        return await run_in_threadpool(
            _entry_page, request, admin, session, error=exc.message, form=fields, status=exc.status
        )
    finally:
        await form.close()
    return RedirectResponse("/admin/entry?done=letter", status_code=303)


@router.post("/entry/meeting", response_class=HTMLResponse)
def entry_meeting(
    request: Request,
    admin: ManagerCsrfAdmin,
    session: SessionDep,
    settings: SettingsDep,
    unit: Annotated[str, Form(max_length=64)] = "",
    held_on: Annotated[str, Form(max_length=20)] = "",
    kind: Annotated[str, Form(max_length=16)] = "",
    attendees: Annotated[str, Form(max_length=10)] = "",
    role: Annotated[str, Form(max_length=20)] = Role.other.value,
    item: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    lines: Annotated[str, Form()] = "",
) -> Response:
    fields = {"unit": unit, "held_on": held_on, "kind": kind, "attendees": attendees}
    fields |= {"role": role, "lines": lines}
    try:
        target = admin_unit(session, admin, unit)
        assert target.id is not None
        try:
            meeting_kind = MeetingKind(kind)
        except ValueError as exc:
            raise Invalid("请选择会议类型。", field="kind") from exc
        if not attendees.strip().isdigit():
            raise Invalid("请填写参会人数。", field="attendees")
        entry = enter_meeting(
            session,
            tagger=request.app.state.tagger,
            secret=settings.secret_key,
            slug=target.slug,
            unit_id=target.id,
            held_on=parse_day(held_on, field="date", label="会议日期"),
            kind=meeting_kind,
            attendees=int(attendees),
            suggestions=[*item, *split_minutes(lines)],
            role=role,
            max_chars=settings.max_text_chars,
            actor_id=admin.id,
        )
        record_audit(
            session,
            actor_id=admin.id,
            action="meeting_entered",
            unit_id=target.id,
            detail={"meeting_id": entry.meeting_id, "items": len(entry.stored)},
        )
        session.commit()
    except UserError as exc:
        session.rollback()
        return _entry_page(
            request, admin, session, error=exc.message, form=fields, status=exc.status
        )
    return RedirectResponse(f"/admin/entry?done=meeting&n={len(entry.stored)}", status_code=303)



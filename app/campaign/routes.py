"""Admin campaign pages: offline entry (录入), printables (宣传材料), evaluation (评议)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from app.accounts.access import visible_units
from app.accounts.deps import Admin, AdminUser, ManagerCsrfAdmin
from app.audit.service import record_audit
from app.campaign.evaluation import create_codes, evaluation_results
from app.campaign.offline import enter_letter, enter_meeting, split_minutes
from app.campaign.printables import (
    AUDIENCE_LABELS,
    evaluation_forms,
    form_url,
    letter_pdf,
    poster,
    print_context,
)
from app.campaign.service import (
    ALL_CHANNELS,
    EVALUATION,
    get_intake_state,
    list_overrides,
    set_override,
)
from app.core.admin_pages import register_nav, render_admin
from app.core.config import Settings
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import Invalid, NotFound, UserError
from app.core.time import parse_day
from app.documents.qr import qr_png, qr_svg
from app.intake.routes import clean_files
from app.intake.service import validate_submission
from app.models import (
    CHANNEL_LABELS,
    MEETING_LABELS,
    RATING_LABELS,
    MeetingKind,
    Role,
    Unit,
)

router = APIRouter(prefix="/admin", include_in_schema=False)
register_nav("/admin/entry", "录入", order=20)
register_nav("/admin/roster", "中层献策", order=30)
register_nav("/admin/measures", "整改措施", order=40)
register_nav("/admin/evaluation", "评议", order=50)
register_nav("/admin/print", "宣传材料", order=60)

PDF_HEADERS = {"Cache-Control": "no-store"}


def admin_unit(session: Session, admin: Admin, value: str | int | None) -> Unit:
    """A unit this admin may work on, chosen by id or slug; NotFound otherwise."""
    text = str(value or "").strip()
    for unit in visible_units(session, user=admin.user):
        if text in (str(unit.id), unit.slug):
            return unit
    raise NotFound("请选择您负责的单位。", field="unit")


def fields_of(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


# --- 录入: letters, box notes and meeting minutes ------------------------------------------


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
    fields = fields_of(form)
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
        uploads = [f for f in form.getlist("scan") if isinstance(f, UploadFile) and f.filename]
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


# --- 宣传材料: letter, poster and QR codes -------------------------------------------------


@router.get("/print", response_class=HTMLResponse)
def print_page(
    request: Request, admin: AdminUser, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    units = visible_units(session, user=admin.user)
    return render_admin(
        request,
        admin,
        "campaign/admin/print.html",
        {
            "units": units,
            "audiences": list(AUDIENCE_LABELS.items()),
            "form_url": lambda slug, a=None: form_url(
                base_url=settings.base_url, slug=slug, audience=a
            ),
        },
    )


def _pdf(data: bytes, name: str) -> Response:
    headers = {**PDF_HEADERS, "Content-Disposition": f"inline; filename={name}"}
    return Response(data, media_type="application/pdf", headers=headers)


@router.get("/print/letter.pdf")
async def print_letter(
    request: Request, admin: AdminUser, session: SessionDep, settings: SettingsDep
) -> Response:
    unit = admin_unit(session, admin, request.query_params.get("unit"))
    context = print_context(session, slug=unit.slug)
    # Rendering takes seconds: keep the event loop free.
    data = await run_in_threadpool(letter_pdf, context, base_url=settings.base_url)
    return _pdf(data, f"letter-{unit.slug}.pdf")


@router.get("/print/poster.pdf")
async def print_poster(
    request: Request, admin: AdminUser, session: SessionDep, settings: SettingsDep
) -> Response:
    unit = admin_unit(session, admin, request.query_params.get("unit"))
    context = print_context(session, slug=unit.slug)
    data = await run_in_threadpool(poster, context, base_url=settings.base_url)
    return _pdf(data, f"poster-{unit.slug}.pdf")


def _qr_target(request: Request, admin: Admin, session: Session, settings: Settings) -> str:
    unit = admin_unit(session, admin, request.query_params.get("unit"))
    audience = request.query_params.get("a") or None
    if audience is not None and audience not in AUDIENCE_LABELS:
        raise Invalid("没有这个宣传对象。", field="a")
    return form_url(base_url=settings.base_url, slug=unit.slug, audience=audience)


@router.get("/print/qr.png")
def print_qr_png(
    request: Request, admin: AdminUser, session: SessionDep, settings: SettingsDep
) -> Response:
    data = qr_png(_qr_target(request, admin, session, settings))
    return Response(data, media_type="image/png", headers=PDF_HEADERS)


@router.get("/print/qr.svg")
def print_qr_svg(
    request: Request, admin: AdminUser, session: SessionDep, settings: SettingsDep
) -> Response:
    data = qr_svg(_qr_target(request, admin, session, settings))
    return Response(data, media_type="image/svg+xml", headers=PDF_HEADERS)


# --- 评议: results, one-time codes, and opening channels by hand ---------------------------

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

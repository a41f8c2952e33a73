"""Public pages: the intake form, the receipt, and the status lookup."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import text as sql_text
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from app.campaign.service import IntakeState, get_intake_state
from app.core.config import Settings
from app.core.deps import LookupLimit, SessionDep, SettingsDep, limit_submissions
from app.core.errors import Archived, Invalid, NotFound, TooLarge, Unsupported
from app.core.forms import form_text, text_fields, uploaded_files
from app.core.render import render, render_slotted
from app.dialogue.service import load_sender_page
from app.intake import receipts
from app.intake.service import (
    NewSubmission,
    validate_idempotency_key,
    validate_recipient,
    validate_submission,
)
from app.intake.store import intake_state, store
from app.intake.uploads import clean_files
from app.models import REPLY_RATING_LABELS, Channel, Role, Unit

router = APIRouter()

# Audience codes for printed QR codes: they pre-select a role and identify no one.
AUDIENCES = {
    "parent": Role.parent,
    "retiree": Role.retiree,
    "superior": Role.superior,
    "staff": Role.staff,
    "community": Role.community,
}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request, session: SessionDep) -> HTMLResponse:
    units = session.exec(select(Unit).order_by(col(Unit.name))).all()
    return render(request, "intake/index.html", {"units": units}, private=False)


@router.get("/healthz", tags=["ops"])
def healthz(session: SessionDep) -> dict[str, str]:
    """Liveness and database reachability."""
    session.exec(sql_text("SELECT 1"))  # type: ignore[call-overload]
    return {"status": "ok"}


def _form_context(
    state: IntakeState,
    settings: Settings,
    *,
    role: str,
    key: str,
    form: dict[str, str],
    error: str | None = None,
    error_field: str | None = None,
) -> dict[str, Any]:
    return {
        "state": state,
        "open": Channel.web.value in state.open_channels,
        "key": key,
        "role": role,
        "max_chars": settings.max_text_chars,
        "max_files": settings.max_files,
        "max_mb": settings.max_upload_mb,
        "form": form,
        "error": error,
        "error_field": error_field,
    }


@router.get("/u/{slug}", response_class=HTMLResponse, include_in_schema=False)
def intake_form(
    request: Request, slug: str, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    state = get_intake_state(session, slug=slug)
    audience = AUDIENCES.get(request.query_params.get("a", ""))
    return render(
        request,
        "intake/form.html",
        _form_context(
            state,
            settings,
            role=audience.value if audience else "",
            key=secrets.token_urlsafe(18),
            form={"anonymous": "1"},
        ),
    )


async def submit_form(request: Request) -> HTMLResponse:
    """POST /u/{slug}: the busiest route, so a plain Starlette endpoint (see add_routes)."""
    slug: str = request.path_params["slug"]
    await limit_submissions(request)
    settings: Settings = request.app.state.settings
    try:
        form = await request.form(
            max_files=settings.max_files, max_fields=20, max_part_size=256 * 1024
        )
    except StarletteHTTPException as exc:
        message = f"最多上传 {settings.max_files} 个文件；表单内容不完整，请返回重试。"
        raise Invalid(message) from exc
    try:
        return await _submit(request, slug, settings, form)
    finally:
        # Uploaded files spool to temporary files; close them whatever happened.
        await form.close()


async def _submit(request: Request, slug: str, settings: Settings, form: FormData) -> HTMLResponse:
    fields = text_fields(form)
    anonymous = fields.get("anonymous") == "1"
    try:
        data = validate_submission(
            text=fields.get("text"),
            role=fields.get("role"),
            anonymous=anonymous,
            name=fields.get("name"),
            contact=fields.get("contact"),
            max_chars=settings.max_text_chars,
        )
        key = validate_idempotency_key(fields.get("key"))
        uploads = uploaded_files(form, "files")
        files = await clean_files(uploads, anonymous=anonymous, max_bytes=settings.max_upload_bytes)
        new = NewSubmission(
            slug=slug,
            channel=Channel.web,
            data=data,
            idempotency_key=key,
            files=files,
            to_bureau=validate_recipient(fields.get("to")),
        )
        stored = await store(request, new)
    except (Invalid, TooLarge, Unsupported) as exc:
        # Show the form again with what they wrote: a parent should never retype a long text.
        state = await intake_state(request, slug)
        context = _form_context(
            state,
            settings,
            role=fields.get("role", ""),
            key=fields.get("key") or secrets.token_urlsafe(18),
            form=fields,
            error=exc.message,
            error_field=exc.field,
        )
        return render(request, "intake/form.html", context, status=exc.status)
    return render_slotted(
        request,
        "intake/receipt.html",
        {"anonymous": data.anonymous},
        slot="receipt",
        value=receipts.format_receipt(stored.receipt),
    )


class _PlainRoute(Route):
    """A Starlette route that, like FastAPI's, tells the access log its path template."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self
        await super().handle(scope, receive, send)


def add_routes(app: FastAPI) -> None:
    """The public pages; the form POST goes first and skips FastAPI's parameter machinery,
    whose per-request cost (route scan, dependency solving) outweighed the work itself."""
    app.router.routes.append(
        _PlainRoute("/u/{slug}", submit_form, methods=["POST"], include_in_schema=False)
    )
    app.include_router(router)




@router.get("/r", response_class=HTMLResponse, include_in_schema=False)
def receipt_form(request: Request) -> HTMLResponse:
    return render(request, "intake/lookup.html", {"error": None, "value": ""})


@router.post("/r", response_class=HTMLResponse, include_in_schema=False, dependencies=[LookupLimit])
async def receipt_status(
    request: Request, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    form = await request.form(max_files=0, max_fields=5)
    value = form_text(form, "receipt")
    try:
        page = await run_in_threadpool(
            load_sender_page, session, secret=settings.secret_key, receipt=value
        )
    except (Invalid, NotFound, Archived) as exc:
        context = {"error": exc.message, "value": value[:40]}
        return render(request, "intake/lookup.html", context, status=exc.status)
    shown: dict[str, Any] = {
        "view": page.view,
        "thread": page.thread,
        "receipt": page.receipt,
        "rating_labels": REPLY_RATING_LABELS,
    }
    return render(request, "intake/status.html", shown)

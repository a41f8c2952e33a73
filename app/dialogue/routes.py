"""The sender's side of the dialogue (answers, files, ratings on the receipt page and from a
mailed rating link) and the admin's 追问 from the item page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.accounts.deps import CsrfAdmin
from app.core.config import Settings
from app.core.deps import LookupLimit, SessionDep, SettingsDep, SubmitLimit
from app.core.errors import Conflict, Invalid, NotFound, TooLarge, Unsupported, UserError
from app.core.forms import form_text, uploaded_files
from app.core.render import render
from app.dialogue.service import (
    add_sender_message,
    ask_question,
    find_rated_reply,
    load_sender_page,
    rate_by_link,
    rate_reply,
)
from app.intake.uploads import clean_files
from app.models import REPLY_RATING_LABELS

router = APIRouter(include_in_schema=False)

NOTICES = {
    "message": "已收到您的补充，办理人员会看到。",
    "rating": "感谢您的评价。",
}


def _settle(session: Session, error: UserError | None) -> None:
    # A refused post leaves nothing behind; an accepted one is committed before it is shown.
    if error is None:
        session.commit()
    else:
        session.rollback()


def _receipt_page(
    request: Request,
    session: Session,
    settings: Settings,
    receipt: str,
    *,
    notice: str | None = None,
    error: UserError | None = None,
) -> HTMLResponse:
    """The receipt page again after the sender posted to it (the code is never in a URL)."""
    _settle(session, error)
    try:
        page = load_sender_page(session, secret=settings.secret_key, receipt=receipt)
    except (Invalid, NotFound) as exc:
        context = {"error": exc.message, "value": receipt[:40]}
        return render(request, "intake/lookup.html", context, status=exc.status)
    shown: dict[str, Any] = {
        "view": page.view,
        "thread": page.thread,
        "receipt": page.receipt,
        "rating_labels": REPLY_RATING_LABELS,
        "notice": notice,
        "error": error.message if error else None,
    }
    return render(request, "intake/status.html", shown, status=error.status if error else 200)


@router.post("/r/message", response_class=HTMLResponse, dependencies=[LookupLimit, SubmitLimit])
async def post_message(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    try:
        form = await request.form(
            max_files=settings.max_files, max_fields=5, max_part_size=256 * 1024
        )
    except StarletteHTTPException as exc:
        raise Invalid(f"最多上传 {settings.max_files} 个文件；请返回重试。") from exc
    try:
        receipt = form_text(form, "receipt")
        try:
            # Anonymous or not, a file name could name someone: the neutral name always.
            files = await clean_files(
                uploaded_files(form, "files"), anonymous=True, max_bytes=settings.max_upload_bytes
            )
            await run_in_threadpool(
                add_sender_message,
                session,
                secret=settings.secret_key,
                receipt=receipt,
                body=form_text(form, "text"),
                files=files,
            )
        except (Invalid, NotFound, TooLarge, Unsupported) as exc:
            return await run_in_threadpool(
                _receipt_page, request, session, settings, receipt, error=exc
            )
        return await run_in_threadpool(
            _receipt_page, request, session, settings, receipt, notice=NOTICES["message"]
        )
    finally:
        await form.close()


@router.post("/r/rate", response_class=HTMLResponse, dependencies=[LookupLimit, SubmitLimit])
def post_rating(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    receipt: Annotated[str, Form(max_length=40)] = "",
    reply_id: Annotated[int, Form(ge=1, le=2**31 - 1)] = 0,
    rating: Annotated[str, Form(max_length=24)] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        rate_reply(
            session,
            secret=settings.secret_key,
            receipt=receipt,
            reply_id=reply_id,
            rating=rating,
            comment=comment,
        )
    except UserError as exc:
        return _receipt_page(request, session, settings, receipt, error=exc)
    return _receipt_page(request, session, settings, receipt, notice=NOTICES["rating"])


def _rate_page(
    request: Request,
    session: Session,
    settings: Settings,
    reply_id: int,
    token: str,
    *,
    notice: str | None = None,
    error: UserError | None = None,
) -> HTMLResponse:
    _settle(session, error)
    thread = find_rated_reply(session, secret=settings.secret_key, reply_id=reply_id, token=token)
    reply = next(e for e in thread.replies if e.id == reply_id)
    context = {
        "reply": reply,
        "rating_labels": REPLY_RATING_LABELS,
        "action": f"/r/rate/{reply_id}/{token}",
        "notice": notice,
        "error": error.message if error else None,
    }
    return render(request, "dialogue/rate.html", context, status=error.status if error else 200)


@router.get("/r/rate/{reply_id}/{token}", response_class=HTMLResponse)
def rating_link(
    request: Request, reply_id: int, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    return _rate_page(request, session, settings, reply_id, token)


@router.post("/r/rate/{reply_id}/{token}", response_class=HTMLResponse, dependencies=[SubmitLimit])
def rate_from_link(
    request: Request,
    reply_id: int,
    token: str,
    session: SessionDep,
    settings: SettingsDep,
    rating: Annotated[str, Form(max_length=24)] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        rate_by_link(
            session,
            secret=settings.secret_key,
            reply_id=reply_id,
            token=token,
            rating=rating,
            comment=comment,
        )
    except (Invalid, Conflict) as exc:
        return _rate_page(request, session, settings, reply_id, token, error=exc)
    return _rate_page(request, session, settings, reply_id, token, notice=NOTICES["rating"])


@router.post("/admin/dialogue/{item_id}/question")
def question(
    item_id: int,
    admin: CsrfAdmin,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    body: Annotated[str, Form(max_length=10000)] = "",
) -> Response:
    ask_question(
        session,
        user=admin.user,
        submission_id=item_id,
        body=body,
        from_addr=settings.mail_from if request.app.state.mail_sender is not None else None,
        base_url=settings.base_url,
    )
    session.commit()
    return RedirectResponse(f"/admin/items/{item_id}?done=question", status_code=303)

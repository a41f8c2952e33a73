"""One queue item: full text, files, re-tag, workflow, assignment, notes, replies, duplicates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.accounts.deps import Admin, AdminUser, CsrfAdmin
from app.audit.service import record_audit
from app.core.admin_pages import render_admin
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import Invalid, UserError
from app.mail.outbound import MailSender, MailSendError
from app.models import CHANNEL_LABELS, STATUS_LABELS, OutboxKind, Status, Submission, utcnow
from app.outbox.service import mark_ack_failed, mark_ack_sent, queue_mail, send_error, sender_hash
from app.review.queue import parse_evidence
from app.review.service import (
    TRANSITIONS,
    add_note,
    add_reply,
    assign_item,
    assignable_users,
    change_status,
    get_attachment,
    get_item,
    item_detail,
    mark_duplicate,
    may_act,
    may_assign,
    reply_address,
    reply_email,
    retag_item,
)

router = APIRouter(prefix="/admin/items", include_in_schema=False)

NOTICES = {
    "retag": "已重新归类。",
    "status": "状态已更新。",
    "assign": "已分配。",
    "note": "备注已保存。",
    "reply": "答复已保存，发件人可凭回执码查看。",
    "mailed": "答复已保存，并已发送到发件人的邮箱。",
    "mailretry": "答复已保存；邮件暂时没有发出去，系统会自动重试。",
    "mailfail": "答复已保存，但邮件没有发出去（发件人仍可凭回执码查看）。",
    "nomail": "答复已保存（未配置发信服务器，没有发邮件）。",
    "duplicate": "已标记为重复并合并。",
}
# A reply mail is sent by the request that saved it; the worker takes it over (retries) only
# after this long, well past the SMTP timeout.
REPLY_HOLD = timedelta(minutes=10)
# Types a browser could run or render as a page are always sent as opaque bytes.
_ACTIVE_TYPES = ("html", "xml", "svg", "javascript", "ecmascript")


def _item_page(
    request: Request,
    admin: Admin,
    session: Session,
    sub: Submission,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    detail = item_detail(session, submission=sub)
    current = Status(sub.status)
    return render_admin(
        request,
        admin,
        "review/item.html",
        {
            "d": detail,
            "s": sub,
            "evidence": parse_evidence(sub.check_evidence),
            "status_labels": STATUS_LABELS,
            "channel_labels": CHANNEL_LABELS,
            "next_statuses": TRANSITIONS[current],
            "can_act": may_act(admin.user, sub),
            "can_assign": may_assign(admin.user),
            "assignees": assignable_users(session, unit_ids=[sub.unit_id])
            if may_assign(admin.user)
            else [],
            "has_email": reply_address(sub) is not None,
            "notice": NOTICES.get(request.query_params.get("done", "")),
            "error": error,
        },
        status=status,
    )


@router.get("/{item_id}", response_class=HTMLResponse)
def item(request: Request, item_id: int, admin: AdminUser, session: SessionDep) -> HTMLResponse:
    sub = get_item(session, user=admin.user, submission_id=item_id)
    return _item_page(request, admin, session, sub)


@router.get("/{item_id}/files/{file_id}")
def item_file(item_id: int, file_id: int, admin: AdminUser, session: SessionDep) -> Response:
    found = get_attachment(session, user=admin.user, submission_id=item_id, attachment_id=file_id)
    media = found.content_type
    if any(word in media.lower() for word in _ACTIVE_TYPES):
        media = "application/octet-stream"
    return Response(
        found.data,
        media_type=media,
        headers={
            "Content-Disposition": 'attachment; filename="attachment-'
            f"{found.id}\"; filename*=UTF-8''{quote(found.filename)}",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _act(
    request: Request,
    admin: Admin,
    session: Session,
    item_id: int,
    done: str,
    action: Callable[[Submission], None],
) -> Response:
    """Run one item action; redirect back on success, show the page with the error if not."""
    sub = get_item(session, user=admin.user, submission_id=item_id)
    try:
        action(sub)
    except UserError as exc:
        session.rollback()
        sub = get_item(session, user=admin.user, submission_id=item_id)
        return _item_page(request, admin, session, sub, error=exc.message, status=exc.status)
    session.commit()
    return RedirectResponse(f"/admin/items/{item_id}?done={done}", status_code=303)


def _int_field(value: str, message: str, field: str) -> int:
    if not value.strip().isdigit():
        raise Invalid(message, field=field)
    return int(value.strip())


@router.post("/{item_id}/retag")
def retag(
    request: Request,
    item_id: int,
    admin: CsrfAdmin,
    session: SessionDep,
    check: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    def run(sub: Submission) -> None:
        value = _int_field(check, "请选择五查类别。", "check")
        retag_item(session, user=admin.user, submission=sub, check=value)

    return _act(request, admin, session, item_id, "retag", run)


@router.post("/{item_id}/status")
def status(
    request: Request,
    item_id: int,
    admin: CsrfAdmin,
    session: SessionDep,
    value: Annotated[str, Form(alias="status", max_length=16)] = "",
) -> Response:
    def run(sub: Submission) -> None:
        if value not in {s.value for s in Status}:
            raise Invalid("请选择办理状态。", field="status")
        change_status(session, user=admin.user, submission=sub, status=Status(value))

    return _act(request, admin, session, item_id, "status", run)


@router.post("/{item_id}/assign")
def assign(
    request: Request,
    item_id: int,
    admin: CsrfAdmin,
    session: SessionDep,
    assignee: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    def run(sub: Submission) -> None:
        target = _int_field(assignee, "请选择审核人。", "assignee") if assignee else None
        assign_item(session, user=admin.user, submission=sub, assignee_id=target)

    return _act(request, admin, session, item_id, "assign", run)


@router.post("/{item_id}/note")
def note(
    request: Request,
    item_id: int,
    admin: CsrfAdmin,
    session: SessionDep,
    body: Annotated[str, Form(max_length=10000)] = "",
) -> Response:
    def run(sub: Submission) -> None:
        add_note(session, user=admin.user, submission=sub, body=body)

    return _act(request, admin, session, item_id, "note", run)


@router.post("/{item_id}/duplicate")
def duplicate(
    request: Request,
    item_id: int,
    admin: CsrfAdmin,
    session: SessionDep,
    target: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    def run(sub: Submission) -> None:
        value = _int_field(target, "请填写原意见的编号。", "duplicate_of")
        mark_duplicate(session, user=admin.user, submission=sub, target_id=value)

    return _act(request, admin, session, item_id, "duplicate", run)


@dataclass(frozen=True)
class _Saved:
    reply_id: int
    message: EmailMessage | None
    outbox_id: int | None  # the queued mail, when there is one to send
    wanted: bool  # the sender left an email address


@router.post("/{item_id}/reply")
async def reply(
    request: Request,
    item_id: int,
    admin: CsrfAdmin,
    session: SessionDep,
    settings: SettingsDep,
    body: Annotated[str, Form(max_length=20000)] = "",
    public: Annotated[str, Form(max_length=2)] = "",
) -> Response:
    sender: MailSender | None = request.app.state.mail_sender

    def save() -> Response | _Saved:
        sub = get_item(session, user=admin.user, submission_id=item_id)
        try:
            saved = add_reply(
                session, user=admin.user, submission=sub, body=body, public=public == "1"
            )
        except UserError as exc:
            session.rollback()
            sub = get_item(session, user=admin.user, submission_id=item_id)
            return _item_page(request, admin, session, sub, error=exc.message, status=exc.status)
        to = reply_address(sub)
        message, outbox_id = None, None
        if to is not None and sender is not None and settings.mail_from and sub.id is not None:
            message = reply_email(
                submission=sub,
                unit_name=item_detail(session, submission=sub).unit.name,
                body=saved.body,
                from_addr=settings.mail_from,
                base_url=settings.base_url,
            )
            assert message is not None  # there is an address
            # Queued with the reply, so it is not lost if sending fails or we die meanwhile;
            # the worker holds off while this request sends it itself.
            outbox_id = queue_mail(
                session,
                kind=OutboxKind.reply,
                submission_id=sub.id,
                to_addr=to,
                message=message,
                sender_digest=sender_hash(secret=settings.secret_key, address=to),
                send_at=utcnow() + REPLY_HOLD,
            )
        session.commit()
        assert saved.id is not None
        return _Saved(saved.id, message, outbox_id, wanted=to is not None)

    outcome = await run_in_threadpool(save)
    if isinstance(outcome, Response):
        return outcome
    done = "reply"
    if outcome.wanted:
        failure: MailSendError | None = None
        if sender is not None and outcome.message is not None:
            try:
                await sender.send(outcome.message)
            except MailSendError as exc:
                failure = exc

        def log_mail() -> str:
            if outcome.outbox_id is None:
                result = "nomail"
            elif failure is None:
                mark_ack_sent(session, ack_id=outcome.outbox_id)
                result = "mailed"
            else:
                gave_up = mark_ack_failed(
                    session,
                    ack_id=outcome.outbox_id,
                    error=send_error(failure),
                    temporary=failure.temporary,
                )
                result = "mailfail" if gave_up else "mailretry"
            sub = get_item(session, user=admin.user, submission_id=item_id)
            record_audit(
                session,
                actor_id=admin.id,
                action="reply_email",
                unit_id=sub.unit_id,
                submission_id=sub.id,
                detail={"reply_id": outcome.reply_id, "sent": result == "mailed"},
            )
            session.commit()
            return result

        done = await run_in_threadpool(log_mail)
    return RedirectResponse(f"/admin/items/{item_id}?done={done}", status_code=303)

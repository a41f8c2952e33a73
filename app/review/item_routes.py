"""One queue item: full text, files, re-tag, workflow, assignment, notes, replies, duplicates."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.accounts.deps import Admin, AdminUser, CsrfAdmin
from app.accounts.pages import render_admin
from app.alerts.service import describe_flag
from app.concerns.service import describe_concerns
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import UserError
from app.core.time import today_local
from app.deadlines.views import item_deadline
from app.dialogue.service import item_thread, mark_read
from app.dispatch.views import item_dispatch
from app.groups.service import load_group
from app.models import CHANNEL_LABELS, STATUS_LABELS, Status
from app.review.queue import parse_evidence
from app.review.replies import reply_address, reply_and_send
from app.review.service import (
    TRANSITIONS,
    ItemAction,
    act_on_item,
    get_attachment,
    load_item,
    may_act,
    may_assign,
)
from app.signoff.views import item_signoff

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
    "question": "追问已发出，发件人凭回执码可以看到并回答。",
    "urgent_cleared": "已解除紧急标记。",
    "group_split": "已移出同类问题组。",
    "group_join": "已合并同类问题。",
    "group_reply": "已答复本组全部意见；实名留邮箱的发件人会各收到一封邮件。",
    "group_drafted": "本组的答复已保存为草稿，单位管理员审核通过后才会发给来信人。",
    "forgotten": "已删除发件人的姓名和联系方式，意见变为匿名。",
    "drafted": "答复已提交审核；管理员批准后，发件人才能看到。",
    "approved": "已批准答复，发件人可凭回执码查看；留了邮箱的会收到邮件。",
    "returned": "已退回答复，承办人修改后可重新提交。",
    "forwarded_masked": "已把遮盖后的内容转给学校；原文只有教育局能看到。",
    "handed_back": "已退回，单位管理员会重新分配。",
}
# Types a browser could run or render as a page are always sent as opaque bytes.
_ACTIVE_TYPES = ("html", "xml", "svg", "javascript", "ecmascript")


def _item_page(
    request: Request,
    admin: Admin,
    session: Session,
    item_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    detail = load_item(session, user=admin.user, submission_id=item_id)
    sub = detail.submission
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
            "next_statuses": TRANSITIONS[Status(sub.status)],
            "can_act": may_act(admin.user, sub),
            "can_assign": may_assign(admin.user),
            "assignees": detail.assignees,
            "has_email": reply_address(sub) is not None,
            "thread": item_thread(session, user=admin.user, submission_id=item_id),
            "dl": item_deadline(session, user=admin.user, submission=sub, today=today_local()),
            "group": load_group(session, user=admin.user, submission_id=item_id),
            "dp": item_dispatch(session, user=admin.user, submission=sub),
            "cp": describe_concerns(session, submission_id=item_id, text=sub.text),
            "so": item_signoff(
                session,
                user=admin.user,
                submission=sub,
                template_id=request.query_params.get("template", ""),
            ),
            "notice": NOTICES.get(request.query_params.get("done", "")),
            "error": error,
            **describe_flag(session, submission_id=item_id),
        },
        status=status,
    )


def _refused(
    request: Request, admin: Admin, session: Session, item_id: int, exc: UserError
) -> HTMLResponse:
    """The item page again, with why the action was refused; nothing of it is kept."""
    session.rollback()
    return _item_page(request, admin, session, item_id, error=exc.message, status=exc.status)


def _done(item_id: int, notice: str) -> RedirectResponse:
    return RedirectResponse(f"/admin/items/{item_id}?done={notice}", status_code=303)


@router.get("/{item_id}", response_class=HTMLResponse)
def item(request: Request, item_id: int, admin: AdminUser, session: SessionDep) -> HTMLResponse:
    # Whoever may act on the item has now seen the sender's new messages (the queue's mark).
    mark_read(session, user=admin.user, submission_id=item_id)
    session.commit()
    return _item_page(request, admin, session, item_id)


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
    try:
        outcome = await reply_and_send(
            request.app.state.engine,
            user=admin.user,
            submission_id=item_id,
            body=body,
            public=public == "1",
            sender=request.app.state.mail_sender,
            settings=settings,
        )
    except UserError as exc:
        return await run_in_threadpool(_refused, request, admin, session, item_id, exc)
    return _done(item_id, outcome.value)


class ActionForm(BaseModel):
    """The item page's action forms, each sending one of these fields."""

    check: str = Field("", max_length=4)
    status: str = Field("", max_length=16)
    assignee: str = Field("", max_length=12)
    body: str = Field("", max_length=10000)
    target: str = Field("", max_length=12)

    def value(self, action: ItemAction) -> str:
        """The field the form of this action sends."""
        return {
            ItemAction.retag: self.check,
            ItemAction.status: self.status,
            ItemAction.assign: self.assignee,
            ItemAction.note: self.body,
            ItemAction.duplicate: self.target,
        }[action]


# After /reply, which this pattern matches too.
@router.post("/{item_id}/{action}")
def act(
    request: Request,
    item_id: int,
    action: ItemAction,
    admin: CsrfAdmin,
    session: SessionDep,
    form: Annotated[ActionForm, Form()],
) -> Response:
    try:
        act_on_item(
            session, user=admin.user, submission_id=item_id, action=action, value=form.value(action)
        )
    except UserError as exc:
        return _refused(request, admin, session, item_id, exc)
    session.commit()
    return _done(item_id, action.value)

"""The item page's group actions: split a member out, join another group, reply to all."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.accounts.deps import Admin, CsrfAdmin
from app.accounts.pages import render_admin
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import Invalid, UserError
from app.groups.service import join_groups, reply_to_group, split_member

router = APIRouter(prefix="/admin/groups", include_in_schema=False)


def _refused(
    request: Request, admin: Admin, session: Session, item_id: int, exc: UserError
) -> HTMLResponse:
    session.rollback()
    return render_admin(
        request,
        admin,
        "groups/refused.html",
        {"item_id": item_id, "error": exc.message},
        status=exc.status,
    )


def _done(session: Session, item_id: int, notice: str) -> RedirectResponse:
    session.commit()
    return RedirectResponse(f"/admin/items/{item_id}?done={notice}", status_code=303)


@router.post("/{item_id}/split")
def split(
    request: Request,
    item_id: int,
    admin: CsrfAdmin,
    session: SessionDep,
    member: Annotated[int, Form()],
) -> Response:
    try:
        split_member(session, user=admin.user, submission_id=member)
    except UserError as exc:
        return _refused(request, admin, session, item_id, exc)
    return _done(session, item_id, "group_split")


@router.post("/{item_id}/join")
def join(
    request: Request,
    item_id: int,
    admin: CsrfAdmin,
    session: SessionDep,
    other: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    try:
        if not other.strip().isdigit():
            raise Invalid("请填写另一条意见的编号（数字）。", field="other")
        join_groups(session, user=admin.user, submission_id=item_id, other_id=int(other))
    except UserError as exc:
        return _refused(request, admin, session, item_id, exc)
    return _done(session, item_id, "group_join")


@router.post("/{item_id}/reply")
def reply(
    request: Request,
    item_id: int,
    admin: CsrfAdmin,
    session: SessionDep,
    settings: SettingsDep,
    body: Annotated[str, Form(max_length=20000)] = "",
    public: Annotated[str, Form(max_length=2)] = "",
    whole: Annotated[str, Form(max_length=2)] = "",
) -> Response:
    try:
        if whole != "1":
            raise Invalid("请勾选“对同类问题全部答复”，或在下方只答复这一条。", field="whole")
        drafted = reply_to_group(
            session,
            user=admin.user,
            submission_id=item_id,
            body=body,
            public=public == "1",
            from_addr=settings.mail_from if request.app.state.mail_sender else None,
            base_url=settings.base_url,
            secret=settings.secret_key,
        )
    except UserError as exc:
        return _refused(request, admin, session, item_id, exc)
    return _done(session, item_id, "group_drafted" if drafted else "group_reply")

"""Bureau items: 上报教体局 on the item page, 遮盖后转给学校 (propose, adjust, confirm)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.accounts.deps import AdminUser, CsrfAdmin
from app.accounts.pages import render_admin
from app.bureau.service import ForwardProposal, forward_masked_item, hand_up_item, propose_forward
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import UserError
from app.core.render import render_error
from app.core.time import today_local
from app.dispatch.service import Mailing

router = APIRouter(prefix="/admin/items", include_in_schema=False)


@router.post("/{item_id}/bureau/hand-up")
def hand_up(
    request: Request,
    item_id: int,
    admin: CsrfAdmin,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        hand_up_item(
            session, user=admin.user, submission_id=item_id, reason=reason, today=today_local()
        )
    except UserError as exc:
        session.rollback()
        return render_error(request, exc.message, exc.status)
    session.commit()
    # The item has left this admin's view: back to the queue.
    return RedirectResponse("/admin?done=handed_up", status_code=303)


@router.get("/{item_id}/bureau/forward", response_class=HTMLResponse)
def forward_form(
    request: Request, item_id: int, admin: AdminUser, session: SessionDep
) -> HTMLResponse:
    proposal = propose_forward(session, user=admin.user, submission_id=item_id)
    return render_admin(
        request,
        admin,
        "bureau/forward.html",
        {
            "item_id": item_id,
            "p": proposal,
            "error": None,
            "instruction": proposal.instruction,
            "due_days": proposal.due_days,
        },
    )


@router.post("/{item_id}/bureau/forward")
def forward(
    request: Request,
    item_id: int,
    admin: CsrfAdmin,
    session: SessionDep,
    settings: SettingsDep,
    masked_text: Annotated[str, Form(max_length=40000)] = "",
    instruction: Annotated[str, Form(max_length=4000)] = "",
    due_days: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    try:
        forward_masked_item(
            session,
            user=admin.user,
            submission_id=item_id,
            masked_text=masked_text,
            max_chars=settings.max_text_chars,
            instruction=instruction,
            due_days=due_days,
            today=today_local(),
            mailing=Mailing(from_addr=settings.mail_from, base_url=settings.base_url),
        )
    except UserError as exc:
        session.rollback()
        # The form again with what the admin edited, so no adjustment is lost.
        original = propose_forward(session, user=admin.user, submission_id=item_id).original
        proposal = ForwardProposal(original=original, proposed=masked_text, masks=0)
        context = {
            "item_id": item_id,
            "p": proposal,
            "error": exc.message,
            "instruction": instruction,
            "due_days": due_days,
        }
        return render_admin(request, admin, "bureau/forward.html", context, status=exc.status)
    session.commit()
    return RedirectResponse(f"/admin/items/{item_id}?done=forwarded_masked", status_code=303)

"""转办 and 退回 on the item page: assign with an instruction, return to the bureau, return
an assignment."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.accounts.deps import CsrfAdmin
from app.core.config import Settings
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import UserError
from app.core.render import render_error
from app.dispatch.service import (
    Mailing,
    assign_with_instruction,
    return_assignment,
    return_to_bureau,
)

router = APIRouter(prefix="/admin/items", include_in_schema=False)

Text = Annotated[str, Form(max_length=4000)]


def _mailing(settings: Settings) -> Mailing:
    return Mailing(from_addr=settings.mail_from, base_url=settings.base_url)


def _run(request: Request, session: Session, step: Callable[[], None], done: str) -> Response:
    """Take the step and go on to `done`; refused, nothing is kept and the error page says why."""
    try:
        step()
    except UserError as exc:
        session.rollback()
        return render_error(request, exc.message, exc.status)
    session.commit()
    return RedirectResponse(done, status_code=303)


@router.post("/{item_id}/dispatch/assign")
def assign(
    request: Request,
    item_id: int,
    admin: CsrfAdmin,
    session: SessionDep,
    settings: SettingsDep,
    assignee: Annotated[str, Form(max_length=12)] = "",
    instruction: Text = "",
) -> Response:
    step = partial(
        assign_with_instruction,
        session,
        user=admin.user,
        submission_id=item_id,
        assignee=assignee,
        instruction=instruction,
        mailing=_mailing(settings),
    )
    return _run(request, session, step, f"/admin/items/{item_id}?done=assign")


# 退回: the school to the bureau (its copy leaves its view: back to the queue), or the
# handler to the unit's admins.
_RETURNS: dict[str, tuple[Callable[..., None], str]] = {
    "return": (return_to_bureau, "/admin?done=returned"),
    "hand-back": (return_assignment, "/admin/items/{item_id}?done=handed_back"),
}


@router.post("/{item_id}/dispatch/{way}")
def give_back(
    request: Request,
    item_id: int,
    way: str,
    admin: CsrfAdmin,
    session: SessionDep,
    settings: SettingsDep,
    reason: Text = "",
) -> Response:
    if way not in _RETURNS:
        return render_error(request, "没有这个操作。", 404)
    service, done = _RETURNS[way]
    step = partial(
        service,
        session,
        user=admin.user,
        submission_id=item_id,
        reason=reason,
        mailing=_mailing(settings),
    )
    return _run(request, session, step, done.format(item_id=item_id))

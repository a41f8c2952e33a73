"""The privacy notice, a named sender's rights by receipt code, and the same for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.accounts.deps import CsrfAdmin
from app.core.deps import LookupLimit, SessionDep, SettingsDep
from app.core.errors import UserError
from app.core.render import render
from app.privacy.service import (
    describe_notice,
    export_sender_data,
    export_sender_data_for_admin,
    forget_sender,
    forget_sender_for_admin,
)

router = APIRouter(include_in_schema=False)

_RECEIPT = Annotated[str, Form(max_length=40)]


def _json_file(data: bytes, name: str) -> Response:
    return Response(
        data,
        media_type="application/json; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/privacy", response_class=HTMLResponse)
def notice(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    context = {"notice": describe_notice(session, settings=settings)}
    return render(request, "privacy/notice.html", context, private=False)


@router.post("/r/data", dependencies=[LookupLimit])
def sender_data(
    request: Request, session: SessionDep, settings: SettingsDep, receipt: _RECEIPT = ""
) -> Response:
    try:
        data = export_sender_data(session, secret=settings.secret_key, receipt=receipt)
    except UserError as exc:
        context = {"error": exc.message, "value": receipt}
        return render(request, "intake/lookup.html", context, status=exc.status)
    return _json_file(data, "yijian-my-data.json")


@router.post("/r/forget", response_class=HTMLResponse, dependencies=[LookupLimit])
def sender_forget(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    receipt: _RECEIPT = "",
    confirm: Annotated[str, Form(max_length=2)] = "",
) -> HTMLResponse:
    if confirm != "1":
        context = {"error": "请勾选确认后再提交。", "value": receipt}
        return render(request, "intake/lookup.html", context, status=422)
    try:
        forget_sender(session, secret=settings.secret_key, receipt=receipt)
    except UserError as exc:
        context = {"error": exc.message, "value": receipt}
        return render(request, "intake/lookup.html", context, status=exc.status)
    session.commit()
    return render(request, "privacy/forgotten.html")


@router.post("/admin/privacy/items/{item_id}/data")
def admin_sender_data(item_id: int, admin: CsrfAdmin, session: SessionDep) -> Response:
    data = export_sender_data_for_admin(session, user=admin.user, submission_id=item_id)
    session.commit()
    return _json_file(data, f"yijian-item-{item_id}-sender.json")


@router.post("/admin/privacy/items/{item_id}/forget")
def admin_sender_forget(
    item_id: int,
    admin: CsrfAdmin,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    forget_sender_for_admin(session, user=admin.user, submission_id=item_id, reason=reason)
    session.commit()
    return RedirectResponse(f"/admin/items/{item_id}?done=forgotten", status_code=303)

"""Admin page for email intake: mailboxes, their last poll, and mail that was not ingested."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.accounts.access import visible_units
from app.accounts.deps import Admin, BureauAdmin, BureauCsrfAdmin
from app.audit.service import record_audit
from app.core.admin_pages import register_nav, render_admin
from app.core.deps import SessionDep
from app.core.errors import Invalid, NotFound, UserError
from app.inbox import service as inbox
from app.mail.security import SECURITIES
from app.models import INBOUND_STATUS_LABELS, MailboxConfig

router = APIRouter(prefix="/admin/inbox", include_in_schema=False)
register_nav("/admin/inbox", "邮箱", order=60, bureau_only=True)

Text = Annotated[str, Form(max_length=255)]


def _spec(
    name: str,
    host: str,
    port: str,
    security: str,
    username: str,
    password: str,
    folder: str,
    unit: str,
    anonymous: str,
    enabled: str,
) -> inbox.MailboxSpec:
    if not port.strip().isdigit():
        raise Invalid("端口应为数字（SSL 一般是 993）。", field="port")
    return inbox.MailboxSpec(
        name=name.strip(),
        host=host.strip(),
        port=int(port),
        security=security,
        username=username.strip(),
        password=password,
        folder=folder.strip() or "INBOX",
        unit_slug=unit or None,
        anonymous=anonymous == "1",
        enabled=enabled == "1",
    )


def _own_mailbox(session: SessionDep, admin: Admin, mailbox_id: int) -> MailboxConfig:
    box = session.get(MailboxConfig, mailbox_id)
    if box is None or box.bureau_id != admin.user.bureau_id:
        raise NotFound("没有这个邮箱。")
    return box


def _page(
    request: Request,
    admin: Admin,
    session: SessionDep,
    *,
    editing: MailboxConfig | None = None,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    units = visible_units(session, user=admin.user)
    return render_admin(
        request,
        admin,
        "inbox/inbox.html",
        {
            "mailboxes": inbox.list_mailboxes(session, bureau_id=admin.user.bureau_id),
            "unit_names": {u.id: u.name for u in units},
            "units": units,
            "skipped": inbox.list_unprocessed(session, bureau_id=admin.user.bureau_id),
            "status_labels": INBOUND_STATUS_LABELS,
            "securities": SECURITIES,
            "editing": editing,
            "form": form or {},
            "error": error,
        },
        status=status,
    )


@router.get("", response_class=HTMLResponse)
def inbox_page(request: Request, admin: BureauAdmin, session: SessionDep) -> HTMLResponse:
    return _page(request, admin, session)


@router.get("/{mailbox_id}", response_class=HTMLResponse)
def edit_page(
    request: Request, mailbox_id: int, admin: BureauAdmin, session: SessionDep
) -> HTMLResponse:
    return _page(request, admin, session, editing=_own_mailbox(session, admin, mailbox_id))


@router.post("", response_class=HTMLResponse)
def add(
    request: Request,
    admin: BureauCsrfAdmin,
    session: SessionDep,
    name: Text = "",
    host: Text = "",
    port: Text = "993",
    security: Text = "ssl",
    username: Text = "",
    password: Text = "",
    folder: Text = "INBOX",
    unit: Text = "",
    anonymous: Text = "",
) -> Response:
    form = {
        "name": name,
        "host": host,
        "port": port,
        "security": security,
        "username": username,
        "folder": folder,
        "unit": unit,
        "anonymous": anonymous,
    }
    try:
        spec = _spec(name, host, port, security, username, password, folder, unit, anonymous, "1")
        box = inbox.add_mailbox(session, spec=spec, bureau_id=admin.user.bureau_id)
    except UserError as exc:
        session.rollback()
        return _page(request, admin, session, form=form, error=exc.message, status=exc.status)
    record_audit(
        session,
        actor_id=admin.id,
        action="mailbox_added",
        unit_id=box.unit_id,
        detail={"name": box.name, "host": box.host},
    )
    session.commit()
    return RedirectResponse("/admin/inbox", status_code=303)


@router.post("/{mailbox_id}", response_class=HTMLResponse)
def edit(
    request: Request,
    mailbox_id: int,
    admin: BureauCsrfAdmin,
    session: SessionDep,
    name: Text = "",
    host: Text = "",
    port: Text = "993",
    security: Text = "ssl",
    username: Text = "",
    password: Text = "",
    folder: Text = "INBOX",
    unit: Text = "",
    anonymous: Text = "",
    enabled: Text = "",
) -> Response:
    box = _own_mailbox(session, admin, mailbox_id)
    try:
        spec = _spec(
            name, host, port, security, username, password, folder, unit, anonymous, enabled
        )
        inbox.update_mailbox(session, mailbox_id=mailbox_id, spec=spec)
    except UserError as exc:
        session.rollback()
        return _page(request, admin, session, editing=box, error=exc.message, status=exc.status)
    record_audit(
        session,
        actor_id=admin.id,
        action="mailbox_updated",
        unit_id=box.unit_id,
        detail={"name": box.name, "enabled": box.enabled},
    )
    session.commit()
    return RedirectResponse("/admin/inbox", status_code=303)

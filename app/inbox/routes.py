"""Admin page for email intake: mailboxes, their last poll, and mail that was not ingested."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from app.accounts.access import visible_units
from app.accounts.deps import Admin, BureauAdmin, BureauCsrfAdmin
from app.accounts.pages import NavGroup, register_nav, render_admin
from app.audit.service import record_audit
from app.core.deps import SessionDep
from app.core.errors import Invalid, NotFound, UserError
from app.inbox import mailboxes
from app.mail.security import SECURITIES
from app.models import INBOUND_STATUS_LABELS, MailboxConfig

router = APIRouter(prefix="/admin/inbox", include_in_schema=False)
register_nav("/admin/inbox", "邮箱", group=NavGroup.settings, order=60, bureau_only=True)


class MailboxForm(BaseModel):
    """The mailbox form as posted; a missing checkbox is an empty string."""

    name: str = Field(default="", max_length=255)
    host: str = Field(default="", max_length=255)
    port: str = Field(default="993", max_length=255)
    security: str = Field(default="ssl", max_length=255)
    username: str = Field(default="", max_length=255)
    password: str = Field(default="", max_length=255)
    folder: str = Field(default="INBOX", max_length=255)
    unit: str = Field(default="", max_length=255)
    anonymous: str = Field(default="", max_length=255)
    enabled: str = Field(default="", max_length=255)

    def spec(self) -> mailboxes.MailboxSpec:
        """The settings to store; Invalid (in Chinese) for a port that is not a number."""
        if not self.port.strip().isdigit():
            raise Invalid("端口应为数字（SSL 一般是 993）。", field="port")
        return mailboxes.MailboxSpec(
            name=self.name.strip(),
            host=self.host.strip(),
            port=int(self.port),
            security=self.security,
            username=self.username.strip(),
            password=self.password,
            folder=self.folder.strip() or "INBOX",
            unit_slug=self.unit or None,
            anonymous=self.anonymous == "1",
            enabled=self.enabled == "1",
        )

    def shown(self) -> dict[str, str]:
        """What the page shows again after an error: everything but the password."""
        return self.model_dump(exclude={"password", "enabled"})


MailboxFields = Annotated[MailboxForm, Form()]


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
            "mailboxes": mailboxes.list_mailboxes(session, bureau_id=admin.user.bureau_id),
            "unit_names": {u.id: u.name for u in units},
            "units": units,
            "skipped": mailboxes.list_unprocessed(session, bureau_id=admin.user.bureau_id),
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
    request: Request, admin: BureauCsrfAdmin, session: SessionDep, form: MailboxFields
) -> Response:
    try:
        # A new mailbox starts polling at once.
        spec = form.model_copy(update={"enabled": "1"}).spec()
        box = mailboxes.add_mailbox(session, spec=spec, bureau_id=admin.user.bureau_id)
    except UserError as exc:
        session.rollback()
        return _page(
            request, admin, session, form=form.shown(), error=exc.message, status=exc.status
        )
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
    form: MailboxFields,
) -> Response:
    box = _own_mailbox(session, admin, mailbox_id)
    try:
        mailboxes.update_mailbox(session, mailbox_id=mailbox_id, spec=form.spec())
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

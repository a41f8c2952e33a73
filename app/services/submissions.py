"""Storing suggestions from any channel, and looking them up by receipt."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.models import (
    STATUS_LABELS,
    Attachment,
    Channel,
    Kind,
    Reply,
    Role,
    Status,
    Submission,
    Unit,
    utcnow,
)
from app.services import receipts
from app.services.campaigns import IntakeState, get_intake_state
from app.services.errors import Conflict, Invalid, NotFound
from app.services.uploads import CleanFile

MAX_NAME = 50
MAX_CONTACT = 100
ROLES = tuple(r.value for r in Role)
# C0 controls other than tab and newline: NUL breaks PostgreSQL text, the rest are noise.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")


@dataclass(frozen=True)
class SubmissionInput:
    text: str
    role: str
    anonymous: bool
    name: str | None = None
    contact: str | None = None


@dataclass(frozen=True)
class Stored:
    id: int
    receipt: str
    replayed: bool
    text: str


def clean_text(value: str) -> str:
    """Normalise line ends and drop control characters."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()


def validate_submission(
    *,
    text: str | None,
    role: str | None,
    anonymous: bool,
    name: str | None,
    contact: str | None,
    max_chars: int,
) -> SubmissionInput:
    """Check a suggestion as a person typed it; raise Invalid with a Chinese message."""
    body = clean_text(text or "")
    if not body:
        raise Invalid("请填写意见或建议的内容。", field="text")
    if len(body) > max_chars:
        raise Invalid(
            f"内容不能超过 {max_chars} 字（现在 {len(body)} 字），请精简或分几次提交。",
            field="text",
        )
    who = (role or Role.other.value).strip()
    if who not in ROLES:
        raise Invalid("请选择您的身份。", field="role")
    if anonymous:
        return SubmissionInput(text=body, role=who, anonymous=True)
    real_name = clean_text(name or "") or None
    real_contact = clean_text(contact or "") or None
    if real_name is None and real_contact is None:
        raise Invalid("实名提交时请至少留下姓名或联系方式；不想留，请选择匿名。", field="name")
    if real_name and len(real_name) > MAX_NAME:
        raise Invalid(f"姓名不能超过 {MAX_NAME} 字。", field="name")
    if real_contact and len(real_contact) > MAX_CONTACT:
        raise Invalid(f"联系方式不能超过 {MAX_CONTACT} 字。", field="contact")
    return SubmissionInput(
        text=body, role=who, anonymous=False, name=real_name, contact=real_contact
    )


def validate_idempotency_key(value: str | None) -> str | None:
    """Accept an opaque client key of 8-100 safe characters."""
    if value is None or value == "":
        return None
    if not _KEY.match(value):
        raise Invalid("请求编号格式不正确。", field="idempotency_key")
    return value


@dataclass
class NewSubmission:
    slug: str
    channel: Channel
    data: SubmissionInput
    idempotency_key: str | None = None
    files: Sequence[CleanFile] = field(default_factory=tuple)
    kind: Kind = Kind.opinion
    created_at: datetime | None = None
    check_open: bool = True


_SUBMISSION = Submission.__table__  # type: ignore[attr-defined]
_ATTACHMENT = Attachment.__table__  # type: ignore[attr-defined]


def store_submission(
    session: Session,
    *,
    secret: str,
    new: NewSubmission,
    state: IntakeState | None = None,
    today: date | None = None,
) -> Stored:
    """Insert a suggestion with its files; a repeated idempotency key returns the first one.

    A concurrent insert of the same key (another process) raises IntegrityError; running
    this again then finds and replays the first one.
    """
    if state is None:
        state = get_intake_state(session, slug=new.slug, today=today)
    if new.check_open:
        state.require_open(new.channel)
    key_hash = None
    if new.idempotency_key is not None:
        receipt = receipts.derive_receipt(
            secret=secret,
            unit_id=state.unit_id,
            idempotency_key=new.idempotency_key,
            text=new.data.text,
        )
        key_hash = receipts.hash_idempotency_key(
            secret=secret, unit_id=state.unit_id, key=new.idempotency_key
        )
        earlier = _replay(
            session, secret=secret, key_hash=key_hash, receipt=receipt, text=new.data.text
        )
        if earlier is not None:
            return earlier
    else:
        receipt = receipts.new_receipt()
    now = new.created_at or utcnow()
    # Core statements on the table: the ORM unit of work costs more than the insert itself.
    result = cast(
        "CursorResult[Any]",
        session.execute(
            _SUBMISSION.insert().values(
                unit_id=state.unit_id,
                campaign_id=state.campaign_id,
                channel=new.channel.value,
                kind=new.kind.value,
                role=new.data.role,
                anonymous=new.data.anonymous,
                name=None if new.data.anonymous else new.data.name,
                contact=None if new.data.anonymous else new.data.contact,
                text=new.data.text,
                status=Status.new.value,
                receipt_hash=receipts.hash_receipt(secret=secret, receipt=receipt),
                idempotency_hash=key_hash,
                created_at=now,
                updated_at=now,
            )
        ),
    )
    primary_key = result.inserted_primary_key
    assert primary_key is not None
    submission_id = int(primary_key[0])
    if new.files:
        session.execute(
            _ATTACHMENT.insert(),
            [
                {
                    "submission_id": submission_id,
                    "filename": f.filename,
                    "content_type": f.content_type,
                    "size": len(f.data),
                    "sha256": f.sha256,
                    "data": f.data,
                    "created_at": now,
                }
                for f in new.files
            ],
        )
    return Stored(id=submission_id, receipt=receipt, replayed=False, text=new.data.text)


def _replay(
    session: Session, *, secret: str, key_hash: str, receipt: str, text: str
) -> Stored | None:
    row = session.execute(
        sa_select(_SUBMISSION.c.id, _SUBMISSION.c.receipt_hash).where(
            _SUBMISSION.c.idempotency_hash == key_hash
        )
    ).first()
    if row is None:
        return None
    submission_id, stored_hash = row
    if stored_hash != receipts.hash_receipt(secret=secret, receipt=receipt):
        raise Conflict(
            "这个请求编号已用于另一条内容，请刷新页面后重新提交。", field="idempotency_key"
        )
    return Stored(id=int(submission_id), receipt=receipt, replayed=True, text=text)


@dataclass(frozen=True)
class ReplyView:
    body: str
    created_at: datetime


@dataclass(frozen=True)
class ReceiptView:
    unit_name: str
    status: Status
    status_label: str
    created_at: datetime
    check: int | None
    replies: list[ReplyView]


def lookup_receipt(session: Session, *, secret: str, receipt: str) -> ReceiptView:
    """What the holder of a receipt may see: status and the replies to them."""
    digest = receipts.hash_receipt(secret=secret, receipt=receipts.parse_receipt(receipt))
    row = session.exec(
        select(Submission, Unit.name)
        .join(Unit, col(Unit.id) == Submission.unit_id)
        .where(Submission.receipt_hash == digest)
    ).first()
    if row is None:
        raise NotFound("没有找到这个回执码对应的意见，请核对后重新输入。")
    sub, unit_name = row
    replies = session.exec(
        select(Reply).where(Reply.submission_id == sub.id).order_by(col(Reply.created_at))
    ).all()
    return ReceiptView(
        unit_name=unit_name,
        status=Status(sub.status),
        status_label=STATUS_LABELS[Status(sub.status)],
        created_at=sub.created_at,
        check=sub.check,
        replies=[ReplyView(r.body, r.created_at) for r in replies],
    )

"""Submissions (items) and what hangs off them: attachments, replies and internal notes."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, Text, false
from sqlmodel import Field, SQLModel

from app.core.crypto import EncryptedBytes, EncryptedText
from app.models.base import UTCDateTime, utcnow


class Channel(StrEnum):
    web = "web"
    email = "email"
    letter = "letter"
    meeting = "meeting"


CHANNEL_LABELS: dict[Channel, str] = {
    Channel.web: "网页",
    Channel.email: "邮件",
    Channel.letter: "信件",
    Channel.meeting: "座谈会",
}


class Role(StrEnum):
    parent = "家长"
    retiree = "离退休干部"
    superior = "上级领导"
    staff = "教职工"
    community = "群众代表"
    other = "其他"


class Status(StrEnum):
    new = "new"
    classified = "classified"
    forwarded = "forwarded"
    replied = "replied"
    closed = "closed"
    invalid = "invalid"
    duplicate = "duplicate"


# The statuses that still wait for someone to act; replied/closed/invalid/duplicate do not.
OPEN_STATUSES = (Status.new.value, Status.classified.value, Status.forwarded.value)

STATUS_LABELS: dict[Status, str] = {
    Status.new: "新收",
    Status.classified: "已分类",
    Status.forwarded: "已转办",
    Status.replied: "已答复",
    Status.closed: "已办结",
    Status.invalid: "无效",
    Status.duplicate: "重复",
}


class Kind(StrEnum):
    opinion = "opinion"
    idea = "idea"


CHECK_NAMES: dict[int, str] = {
    0: "未归类",
    1: "思想解放",
    2: "发展思路",
    3: "工作作风",
    4: "工作纪律",
    5: "服务社会",
}
# check is None: the tagger has not run or an admin has not confirmed it yet.
UNTAGGED_LABEL = "待归类"


class Submission(SQLModel, table=True):
    __table_args__ = (
        # The review queue pages by (created_at, id) under a unit, check or status filter;
        # (unit_id, check, status) covers the counts at the top of the queue.
        Index("ix_submission_unit_created", "unit_id", "created_at", "id"),
        Index("ix_submission_check_created", "check", "created_at", "id"),
        Index("ix_submission_status_created", "status", "created_at", "id"),
        Index("ix_submission_unit_check_status", "unit_id", "check", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    # unit_id, check and status are looked up through the composite indexes above.
    unit_id: int = Field(foreign_key="unit.id")
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id")
    channel: Channel = Field(sa_type=String(16), index=True)
    kind: Kind = Field(default=Kind.opinion, sa_type=String(16))
    role: str = Field(max_length=20)
    anonymous: bool = True
    # Encrypted at rest (app/core/crypto.py); their lengths are checked on input.
    name: str | None = Field(default=None, sa_type=EncryptedText)
    contact: str | None = Field(default=None, sa_type=EncryptedText)
    text: str
    check: int | None = None
    check_score: float | None = None
    check_evidence: str | None = None  # JSON list of the phrases that decided the tag
    tagger: str | None = Field(default=None, max_length=64)
    status: Status = Field(default=Status.new, sa_type=String(16))
    receipt_hash: str = Field(max_length=64, unique=True)
    idempotency_hash: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow, index=True)
    updated_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    # The earliest reply's time, kept by a database trigger on reply inserts (migration 0015)
    # whatever writes them, so the stats page counts answers without joining every reply.
    first_reply_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Review queue: the reviewer an item is forwarded to, and the item it duplicates.
    assignee_id: int | None = Field(default=None, foreign_key="admin_user.id", index=True)
    duplicate_of: int | None = Field(default=None, foreign_key="submission.id")
    # 承诺答复日期: received day plus the unit's answer time in working days (app/deadlines).
    due_on: date | None = Field(default=None, index=True)
    # The one extension an item may get (app.models.deadlines.ExtensionStatus).
    extension_status: str | None = Field(default=None, max_length=16)
    extension_due_on: date | None = None
    extension_reason: str | None = Field(default=None, max_length=500)
    # Sent straight to the bureau (局长信箱), or handed up by the unit: the bureau's alone;
    # unit_id stays for context. The unit sees it again only as the masked copy the bureau
    # forwards (masked_text); the original text is never changed.
    to_bureau: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    masked_text: str | None = Field(default=None, sa_type=Text)


class Attachment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    data: bytes = Field(sa_column=Column(EncryptedBytes, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class Reply(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="admin_user.id")
    body: str
    is_public: bool = False
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class InternalNote(SQLModel, table=True):
    """A note admins leave on an item for each other; never shown to the sender."""

    __tablename__ = "internal_note"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="admin_user.id")
    body: str
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)

"""Tables. Created only by Alembic migrations (migrations/versions)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite keeps no offset, so both databases agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Channel(StrEnum):
    web = "web"
    email = "email"
    letter = "letter"
    meeting = "meeting"


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


class Kind(StrEnum):
    opinion = "opinion"
    idea = "idea"


class PhaseKind(StrEnum):
    mobilize = "mobilize"  # 宣传发动·学习讨论
    solicit = "solicit"  # 查找差距·征求意见
    rectify = "rectify"  # 整改提高·完善机制


class AdminRole(StrEnum):
    bureau_admin = "bureau_admin"
    unit_admin = "unit_admin"
    reviewer = "reviewer"


class Bureau(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class Unit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    bureau_id: int = Field(foreign_key="bureau.id", index=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class Campaign(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    bureau_id: int = Field(foreign_key="bureau.id", index=True)
    title: str = Field(max_length=200)
    intro: str = ""
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class CampaignPhase(SQLModel, table=True):
    __tablename__ = "campaign_phase"
    __table_args__ = (UniqueConstraint("campaign_id", "kind"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    kind: PhaseKind = Field(sa_type=String(16))
    starts_on: date
    ends_on: date
    # Space-separated channel names (web email letter meeting) open for intake in this phase.
    channels: str = ""
    evaluation_open: bool = False


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
    name: str | None = Field(default=None, max_length=100)
    contact: str | None = Field(default=None, max_length=200)
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
    # Review queue: the reviewer an item is forwarded to, and the item it duplicates.
    assignee_id: int | None = Field(default=None, foreign_key="admin_user.id", index=True)
    duplicate_of: int | None = Field(default=None, foreign_key="submission.id")


class Attachment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class Reply(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="admin_user.id")
    body: str
    is_public: bool = False
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class AdminUser(SQLModel, table=True):
    __tablename__ = "admin_user"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=255)
    role: AdminRole = Field(sa_type=String(16))
    bureau_id: int = Field(foreign_key="bureau.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    display_name: str = Field(default="", max_length=100)
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failed_logins: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AdminSession(SQLModel, table=True):
    """A server-side login session; the cookie holds a random token, the table its hash."""

    __tablename__ = "admin_session"
    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="admin_user.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    last_seen_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="admin_user.id", index=True)
    action: str = Field(max_length=64, index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    detail: str = ""


CHECK_NAMES: dict[int, str] = {
    0: "未归类",
    1: "思想解放",
    2: "发展思路",
    3: "工作作风",
    4: "工作纪律",
    5: "服务社会",
}

STATUS_LABELS: dict[Status, str] = {
    Status.new: "新收",
    Status.classified: "已分类",
    Status.forwarded: "已转办",
    Status.replied: "已答复",
    Status.closed: "已办结",
    Status.invalid: "无效",
    Status.duplicate: "重复",
}

CHANNEL_LABELS: dict[Channel, str] = {
    Channel.web: "网页",
    Channel.email: "邮件",
    Channel.letter: "信件",
    Channel.meeting: "座谈会",
}

PHASE_LABELS: dict[PhaseKind, str] = {
    PhaseKind.mobilize: "宣传发动·学习讨论",
    PhaseKind.solicit: "查找差距·征求意见",
    PhaseKind.rectify: "整改提高·完善机制",
}


# --- Tagging: admin corrections, kept as training data -------------------------------------


class TagCorrection(SQLModel, table=True):
    __tablename__ = "tag_correction"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    text: str  # a snapshot: the training example stays even if the item is edited
    old_check: int | None = None
    new_check: int
    actor_id: int | None = Field(default=None, foreign_key="admin_user.id")
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


# --- Email inbox (issue 5): mailboxes, every fetched message, acknowledgements, follow-ups ---


class InboundStatus(StrEnum):
    ingested = "ingested"
    automated = "automated"
    quarantined = "quarantined"
    too_large = "too_large"
    followup = "followup"
    duplicate = "duplicate"
    closed = "closed"


class AckStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class OutboxKind(StrEnum):
    ack = "ack"  # the receipt for an inbound mail
    reply = "reply"  # an admin's answer to a named sender's address


class MailboxConfig(SQLModel, table=True):
    """An IMAP mailbox polled for suggestions. The password is an app password (授权码)
    stored as given: the database must be protected like the secret key."""

    __tablename__ = "mailbox"
    id: int | None = Field(default=None, primary_key=True)
    bureau_id: int = Field(foreign_key="bureau.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    name: str = Field(max_length=64, unique=True)
    host: str = Field(max_length=255)
    port: int
    security: str = Field(max_length=16)
    username: str = Field(max_length=254)
    password: str = Field(max_length=255)
    folder: str = Field(default="INBOX", max_length=200)
    anonymous: bool = False
    enabled: bool = True
    # IMAP UIDs and UIDVALIDITY are unsigned 32-bit: too big for a PostgreSQL integer.
    last_uidvalidity: int | None = Field(default=None, sa_type=BigInteger)
    last_uid: int = Field(default=0, sa_type=BigInteger)
    last_polled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class InboundMessage(SQLModel, table=True):
    __tablename__ = "inbound_message"
    __table_args__ = (UniqueConstraint("mailbox_id", "uidvalidity", "uid"),)
    id: int | None = Field(default=None, primary_key=True)
    mailbox_id: int = Field(foreign_key="mailbox.id", index=True)
    uidvalidity: int = Field(sa_type=BigInteger)
    uid: int = Field(sa_type=BigInteger)
    # Keyed hash of the Message-ID (or of the raw bytes); NULL on rows recording a duplicate.
    dedup_key: str | None = Field(default=None, max_length=64, unique=True)
    status: InboundStatus = Field(sa_type=String(16), index=True)
    reason: str = Field(default="", max_length=500)
    subject: str | None = Field(default=None, max_length=300)
    submission_id: int | None = Field(default=None, foreign_key="submission.id", index=True)
    size: int = 0
    raw: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    sender_hash: str | None = Field(default=None, max_length=64, index=True)
    # \Seen is set on the server only after the commit; False means "flag still owed".
    seen: bool = False
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow, index=True)


class AckOutbox(SQLModel, table=True):
    """A mail to send (see OutboxKind), retried by the worker until it went out or failed for
    good; the address and message are wiped once it is done."""

    __tablename__ = "ack_outbox"
    id: int | None = Field(default=None, primary_key=True)
    kind: OutboxKind = Field(default=OutboxKind.ack, sa_type=String(16))
    submission_id: int = Field(foreign_key="submission.id", index=True)
    to_addr: str | None = Field(default=None, max_length=254)
    message: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    message_id: str = Field(max_length=255, index=True)
    sender_hash: str = Field(max_length=64, index=True)
    status: AckStatus = Field(default=AckStatus.pending, sa_type=String(16), index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow, index=True)


class SubmissionFollowup(SQLModel, table=True):
    __tablename__ = "submission_followup"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    channel: Channel = Field(sa_type=String(16))
    text: str
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


INBOUND_STATUS_LABELS: dict[InboundStatus, str] = {
    InboundStatus.ingested: "已收录",
    InboundStatus.automated: "自动邮件（未收录）",
    InboundStatus.quarantined: "无法处理（已隔离）",
    InboundStatus.too_large: "邮件过大（未收录）",
    InboundStatus.followup: "补充内容",
    InboundStatus.duplicate: "重复邮件",
    InboundStatus.closed: "征集未开放（未收录）",
}


# --- Digest to the bureau office (issue 6) ------------------------------------------------


class DigestKind(StrEnum):
    day = "day"
    week = "week"


class DigestStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"  # next_attempt_at set: will retry; None: given up
    skipped = "skipped"  # nothing new and send_when_empty is off


class DigestSetting(SQLModel, table=True):
    __tablename__ = "digest_setting"
    id: int | None = Field(default=None, primary_key=True)
    bureau_id: int = Field(foreign_key="bureau.id", unique=True)
    recipients: str = ""  # comma-separated addresses
    daily_time: str | None = Field(default=None, max_length=5)  # 'HH:MM', Shanghai time
    weekly_weekday: int | None = None  # 0 = Monday ... 6 = Sunday
    send_when_empty: bool = False
    overdue_workdays: int = 5
    enabled: bool = True
    updated_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class Digest(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("bureau_id", "period_kind", "period_key"),)
    id: int | None = Field(default=None, primary_key=True)
    bureau_id: int = Field(foreign_key="bureau.id", index=True)
    period_kind: DigestKind = Field(sa_type=String(8))
    period_key: str = Field(max_length=10)  # '2026-11-26' or '2026-W48'
    period_start: datetime = Field(sa_type=UTCDateTime)
    period_end: datetime = Field(sa_type=UTCDateTime)
    status: DigestStatus = Field(default=DigestStatus.pending, sa_type=String(16), index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    message_id: str = Field(max_length=255)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    totals: str = ""  # JSON summary of the figures as sent, for the admin page


DIGEST_STATUS_LABELS: dict[DigestStatus, str] = {
    DigestStatus.pending: "待发送",
    DigestStatus.sending: "发送中",
    DigestStatus.sent: "已发送",
    DigestStatus.failed: "发送失败",
    DigestStatus.skipped: "无新内容，未发送",
}


# --- Campaign workflows: roster, offline channels, measures, evaluation, overrides ---------


class MeetingKind(StrEnum):
    forum = "forum"  # 座谈会
    life = "life"  # 民主生活会
    other = "other"  # 其他


class MeasureStatus(StrEnum):
    todo = "todo"  # 未开始
    doing = "doing"  # 进行中
    done = "done"  # 已完成


class Rating(StrEnum):
    satisfied = "satisfied"  # 满意
    basic = "basic"  # 基本满意
    unsatisfied = "unsatisfied"  # 不满意


MEETING_LABELS: dict[MeetingKind, str] = {
    MeetingKind.forum: "座谈会",
    MeetingKind.life: "民主生活会",
    MeetingKind.other: "其他",
}

MEASURE_STATUS_LABELS: dict[MeasureStatus, str] = {
    MeasureStatus.todo: "未开始",
    MeasureStatus.doing: "进行中",
    MeasureStatus.done: "已完成",
}

RATING_LABELS: dict[Rating, str] = {
    Rating.satisfied: "满意",
    Rating.basic: "基本满意",
    Rating.unsatisfied: "不满意",
}


class RosterPerson(SQLModel, table=True):
    """A mid-level staff member asked for ideas; their personal link is derived, not stored."""

    __tablename__ = "roster_person"
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    name: str = Field(max_length=50)
    post: str = Field(default="", max_length=100)
    email: str | None = Field(default=None, max_length=254)
    # The link token is HMAC(secret, nonce): a database dump alone cannot rebuild links.
    token_nonce: str = Field(max_length=32)
    token_hash: str = Field(max_length=64, unique=True)
    last_reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class RosterImport(SQLModel, table=True):
    """A previewed roster upload waiting for the admin's confirmation."""

    __tablename__ = "roster_import"
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="admin_user.id")
    rows: str  # JSON list of [name, post, email]
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class RosterSubmission(SQLModel, table=True):
    """Which roster person sent which idea (for the compliance page)."""

    __tablename__ = "roster_submission"
    submission_id: int = Field(foreign_key="submission.id", primary_key=True)
    person_id: int = Field(foreign_key="roster_person.id", index=True)


class Meeting(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    held_on: date
    kind: MeetingKind = Field(sa_type=String(16))
    attendees: int
    actor_id: int | None = Field(default=None, foreign_key="admin_user.id")
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class MeetingSubmission(SQLModel, table=True):
    __tablename__ = "meeting_submission"
    submission_id: int = Field(foreign_key="submission.id", primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)


class Measure(SQLModel, table=True):
    """A rectification measure (整改措施) answering one or more suggestions."""

    __table_args__ = (CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),)
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    title: str = Field(max_length=200)
    description: str = ""
    owner: str = Field(default="", max_length=100)
    deadline: date | None = None
    progress: int = 0
    status: MeasureStatus = Field(default=MeasureStatus.todo, sa_type=String(16))
    check: int | None = None
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    updated_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class MeasureSubmission(SQLModel, table=True):
    __tablename__ = "measure_submission"
    measure_id: int = Field(foreign_key="measure.id", primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", primary_key=True, index=True)


class EvaluationCode(SQLModel, table=True):
    """A one-time evaluation code; only its HMAC is kept."""

    __tablename__ = "evaluation_code"
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Evaluation(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("code_id", "measure_id"),)
    id: int | None = Field(default=None, primary_key=True)
    code_id: int = Field(foreign_key="evaluation_code.id", index=True)
    measure_id: int = Field(foreign_key="measure.id", index=True)
    rating: Rating = Field(sa_type=String(16))
    comment: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow, index=True)


class ChannelOverride(SQLModel, table=True):
    """An admin's hand override of what the campaign phases open for one unit."""

    __tablename__ = "channel_override"
    unit_id: int = Field(foreign_key="unit.id", primary_key=True)
    channel: str = Field(max_length=16, primary_key=True)  # a Channel value or "evaluation"
    open: bool
    updated_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


# --- Review queue: internal notes on items ---------------------------------------------------


class InternalNote(SQLModel, table=True):
    """A note admins leave on an item for each other; never shown to the sender."""

    __tablename__ = "internal_note"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="admin_user.id")
    body: str
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)

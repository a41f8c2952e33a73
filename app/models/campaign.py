"""Campaigns and their workflows: phases, roster, meetings, measures, evaluation, overrides."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, String, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from app.core.crypto import EncryptedText
from app.models.base import UTCDateTime, utcnow


class PhaseKind(StrEnum):
    mobilize = "mobilize"  # 宣传发动·学习讨论
    solicit = "solicit"  # 查找差距·征求意见
    rectify = "rectify"  # 整改提高·完善机制


PHASE_LABELS: dict[PhaseKind, str] = {
    PhaseKind.mobilize: "宣传发动·学习讨论",
    PhaseKind.solicit: "查找差距·征求意见",
    PhaseKind.rectify: "整改提高·完善机制",
}


class MeetingKind(StrEnum):
    forum = "forum"  # 座谈会
    life = "life"  # 民主生活会
    other = "other"  # 其他


MEETING_LABELS: dict[MeetingKind, str] = {
    MeetingKind.forum: "座谈会",
    MeetingKind.life: "民主生活会",
    MeetingKind.other: "其他",
}


class MeasureStatus(StrEnum):
    todo = "todo"  # 未开始
    doing = "doing"  # 进行中
    done = "done"  # 已完成


MEASURE_STATUS_LABELS: dict[MeasureStatus, str] = {
    MeasureStatus.todo: "未开始",
    MeasureStatus.doing: "进行中",
    MeasureStatus.done: "已完成",
}


class Rating(StrEnum):
    satisfied = "satisfied"  # 满意
    basic = "basic"  # 基本满意
    unsatisfied = "unsatisfied"  # 不满意


RATING_LABELS: dict[Rating, str] = {
    Rating.satisfied: "满意",
    Rating.basic: "基本满意",
    Rating.unsatisfied: "不满意",
}


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


class RosterPerson(SQLModel, table=True):
    """A mid-level staff member asked for ideas; their personal link is derived, not stored."""

    __tablename__ = "roster_person"
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    name: str = Field(max_length=50)
    post: str = Field(default="", max_length=100)
    email: str | None = Field(default=None, sa_type=EncryptedText)
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
    rows: str = Field(sa_type=EncryptedText)  # JSON list of [name, post, email]
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
    """A one-time evaluation code; only its HMAC is kept, and only whether it was used.

    Codes are made (and numbered) in print order, so a sheet handed out in order is a person:
    neither the time of use nor the evaluations it gave are kept with the code.
    """

    __tablename__ = "evaluation_code"
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    used: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class Evaluation(SQLModel, table=True):
    """One rating of one measure; which code gave it is deliberately not kept."""

    id: int | None = Field(default=None, primary_key=True)
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

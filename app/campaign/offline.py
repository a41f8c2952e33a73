"""Offline channels: paper letters, box notes and meeting minutes typed in by office staff."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlmodel import Session

from app.core.errors import Invalid
from app.core.time import TZ, today_local
from app.intake.service import (
    NewSubmission,
    Stored,
    SubmissionInput,
    clean_text,
    store_submission,
    validate_submission,
)
from app.intake.uploads import CleanFile
from app.models import Channel, Meeting, MeetingKind, MeetingSubmission
from app.tagging import Tagger

MAX_MEETING_ITEMS = 100
MAX_ATTENDEES = 10_000


def received_at(day: date) -> datetime:
    """A received date as the start of that day in China (paper has no time of day)."""
    return datetime.combine(day, time(0), tzinfo=TZ)


def _check_day(day: date, what: str) -> None:
    if day > today_local():
        raise Invalid(f"{what}不能晚于今天。", field="date")


def enter_letter(
    session: Session,
    *,
    secret: str,
    slug: str,
    data: SubmissionInput,
    received_on: date,
    scans: Sequence[CleanFile] = (),
    tagger: Tagger | None = None,
) -> Stored:
    """Store a paper letter or a box note (channel letter) with the date it was received.

    The channel must have been open on that day: a letter posted in time but typed in
    later still counts.
    """
    _check_day(received_on, "收到日期")
    new = NewSubmission(
        slug=slug,
        channel=Channel.letter,
        data=data,
        files=scans,
        created_at=received_at(received_on),
    )
    return store_submission(session, secret=secret, new=new, today=received_on, tagger=tagger)


def split_minutes(text: str) -> list[str]:
    """Suggestions from minutes typed one per line (blank lines and list markers dropped)."""
    items = []
    for line in clean_text(text).split("\n"):
        item = line.strip().lstrip("-*·•").strip()
        if item:
            items.append(item)
    return items


@dataclass(frozen=True)
class MeetingEntry:
    meeting_id: int
    stored: list[Stored]


def enter_meeting(
    session: Session,
    *,
    secret: str,
    slug: str,
    unit_id: int,
    held_on: date,
    kind: MeetingKind,
    attendees: int,
    suggestions: Sequence[str],
    role: str,
    max_chars: int,
    actor_id: int | None = None,
    tagger: Tagger | None = None,
) -> MeetingEntry:
    """Store meeting minutes: the meeting, and each suggestion as an anonymous item."""
    _check_day(held_on, "会议日期")
    if not 1 <= attendees <= MAX_ATTENDEES:
        raise Invalid(f"参会人数应在 1 到 {MAX_ATTENDEES} 之间。", field="attendees")
    items = [s for s in (clean_text(x) for x in suggestions) if s]
    if not items:
        raise Invalid("请至少填写一条意见建议。", field="suggestions")
    if len(items) > MAX_MEETING_ITEMS:
        raise Invalid(f"一次最多录入 {MAX_MEETING_ITEMS} 条，请分几次录入。", field="suggestions")
    # Validate every item before storing any: never a half-entered meeting.
    inputs = []
    for number, item in enumerate(items, start=1):
        try:
            inputs.append(
                validate_submission(
                    text=item,
                    role=role,
                    anonymous=True,
                    name=None,
                    contact=None,
                    max_chars=max_chars,
                )
            )
        except Invalid as exc:
            raise Invalid(f"第{number}条：{exc.message}", field=exc.field) from exc
    meeting = Meeting(
        unit_id=unit_id, held_on=held_on, kind=kind, attendees=attendees, actor_id=actor_id
    )
    session.add(meeting)
    session.flush()
    assert meeting.id is not None
    stored = []
    for data in inputs:
        new = NewSubmission(
            slug=slug, channel=Channel.meeting, data=data, created_at=received_at(held_on)
        )
        one = store_submission(session, secret=secret, new=new, today=held_on, tagger=tagger)
        session.add(MeetingSubmission(submission_id=one.id, meeting_id=meeting.id))
        stored.append(one)
    session.flush()
    return MeetingEntry(meeting_id=meeting.id, stored=stored)

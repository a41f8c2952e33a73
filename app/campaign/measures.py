"""The rectification board: measures (整改措施) answering suggestions, and their progress."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from app.core.errors import Invalid, NotFound
from app.core.time import parse_day
from app.intake.service import clean_text
from app.models import (
    CHECK_NAMES,
    MEASURE_STATUS_LABELS,
    Measure,
    MeasureStatus,
    MeasureSubmission,
    Submission,
    utcnow,
)

MAX_TITLE = 200
MAX_OWNER = 100
MAX_DESCRIPTION = 5000
EXCERPT = 80


@dataclass(frozen=True)
class MeasureInput:
    title: str
    description: str
    owner: str
    deadline: date | None
    progress: int
    status: MeasureStatus
    check: int | None


def validate_measure(
    *,
    title: str | None,
    description: str | None,
    owner: str | None,
    deadline: str | None,
    progress: str | int | None,
    status: str | None,
    check: str | int | None,
) -> MeasureInput:
    """Check a measure as an admin typed it; raise Invalid with a Chinese message."""
    name = clean_text(title or "")
    if not name:
        raise Invalid("请填写措施名称。", field="title")
    if len(name) > MAX_TITLE:
        raise Invalid(f"措施名称不能超过 {MAX_TITLE} 字。", field="title")
    body = clean_text(description or "")
    if len(body) > MAX_DESCRIPTION:
        raise Invalid(f"措施内容不能超过 {MAX_DESCRIPTION} 字。", field="description")
    who = clean_text(owner or "")
    if len(who) > MAX_OWNER:
        raise Invalid(f"责任人不能超过 {MAX_OWNER} 字。", field="owner")
    due = None
    if deadline:
        due = parse_day(deadline, field="deadline", label="完成时限")
    try:
        percent = int(progress or 0)
    except ValueError as exc:
        raise Invalid("进度应是 0 到 100 的整数。", field="progress") from exc
    if not 0 <= percent <= 100:
        raise Invalid("进度应是 0 到 100 的整数。", field="progress")
    try:
        state = MeasureStatus(status or MeasureStatus.todo)
    except ValueError as exc:
        raise Invalid("请选择措施状态。", field="status") from exc
    five = None
    if check not in (None, "", 0, "0"):
        try:
            five = int(check)
        except ValueError as exc:
            raise Invalid("请选择对应的“五查”项目。", field="check") from exc
        if five not in CHECK_NAMES or five == 0:
            raise Invalid("请选择对应的“五查”项目。", field="check")
    return MeasureInput(name, body, who, due, percent, state, five)


def _linkable(session: Session, *, unit_id: int, submission_ids: Sequence[int]) -> list[int]:
    ids = sorted(set(submission_ids))
    if not ids:
        return []
    found = session.exec(
        select(Submission.id).where(col(Submission.id).in_(ids), Submission.unit_id == unit_id)
    ).all()
    if len(found) != len(ids):
        raise Invalid("所选意见不存在或不属于本单位。", field="submission_ids")
    return ids


def create_measure(
    session: Session, *, unit_id: int, data: MeasureInput, submission_ids: Sequence[int] = ()
) -> Measure:
    """Turn one or many suggestions of a unit into a measure."""
    ids = _linkable(session, unit_id=unit_id, submission_ids=submission_ids)
    measure = Measure(unit_id=unit_id, **_fields(data))
    session.add(measure)
    session.flush()
    assert measure.id is not None
    for sid in ids:
        session.add(MeasureSubmission(measure_id=measure.id, submission_id=sid))
    session.flush()
    return measure


def _fields(data: MeasureInput) -> dict[str, Any]:
    return asdict(data)


def get_measure(session: Session, *, measure_id: int, unit_ids: Sequence[int]) -> Measure:
    """A measure of one of these units, or NotFound."""
    measure = session.get(Measure, measure_id)
    if measure is None or measure.unit_id not in unit_ids:
        raise NotFound("没有找到这项整改措施。")
    return measure


def update_measure(
    session: Session,
    *,
    measure_id: int,
    unit_ids: Sequence[int],
    data: MeasureInput,
    add_submission_ids: Sequence[int] = (),
) -> Measure:
    """Edit a measure (progress, status …) and link more suggestions to it."""
    measure = get_measure(session, measure_id=measure_id, unit_ids=unit_ids)
    for name, value in _fields(data).items():
        setattr(measure, name, value)
    measure.updated_at = utcnow()
    session.add(measure)
    linked = set(linked_submission_ids(session, measure_id=measure_id))
    for sid in _linkable(session, unit_id=measure.unit_id, submission_ids=add_submission_ids):
        if sid not in linked:
            session.add(MeasureSubmission(measure_id=measure_id, submission_id=sid))
    session.flush()
    return measure


def linked_submission_ids(session: Session, *, measure_id: int) -> list[int]:
    """Ids of the suggestions a measure answers."""
    return list(
        session.exec(
            select(MeasureSubmission.submission_id).where(
                MeasureSubmission.measure_id == measure_id
            )
        ).all()
    )


def list_measures(session: Session, *, unit_ids: Sequence[int]) -> list[Measure]:
    """Measures of these units, newest first."""
    return list(
        session.exec(
            select(Measure)
            .where(col(Measure.unit_id).in_(list(unit_ids)))
            .order_by(col(Measure.created_at).desc(), col(Measure.id).desc())
        ).all()
    )


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """The start of a suggestion, on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class BoardItem:
    id: int
    title: str
    description: str
    owner: str
    deadline: date | None
    progress: int
    status_label: str
    check_name: str | None
    updated_at: datetime
    excerpts: list[str]


def board(session: Session, *, unit_id: int) -> list[BoardItem]:
    """The public board: measures with the excerpts of what they answer, and nothing else.

    Only the suggestion text is read: names, contacts, roles and dates never reach the page.
    """
    measures = list_measures(session, unit_ids=[unit_id])
    texts: dict[int, list[str]] = {m.id: [] for m in measures if m.id is not None}
    if texts:
        rows = session.exec(
            select(MeasureSubmission.measure_id, Submission.text)
            .join(Submission, col(Submission.id) == MeasureSubmission.submission_id)
            .where(col(MeasureSubmission.measure_id).in_(list(texts)))
            .order_by(col(Submission.id))
        ).all()
        for measure_id, text in rows:
            texts[measure_id].append(excerpt(text))
    items = []
    for m in measures:
        assert m.id is not None
        items.append(
            BoardItem(
                id=m.id,
                title=m.title,
                description=m.description,
                owner=m.owner,
                deadline=m.deadline,
                progress=m.progress,
                status_label=MEASURE_STATUS_LABELS[MeasureStatus(m.status)],
                check_name=CHECK_NAMES.get(m.check) if m.check else None,
                updated_at=m.updated_at,
                excerpts=texts[m.id],
            )
        )
    return items

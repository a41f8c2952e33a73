"""An item's concerns: stored at intake, reordered by an admin's correction, filled in for
older items, looked up by the queue and shown on the item page."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlmodel import Session, col

from app.models import CHECK_NAMES, Submission, SubmissionConcern
from app.tagging import Suggestion, Tagger

PRIMARY_LABEL = "主要"
SECONDARY_LABEL = "兼涉"
_TABLE = SubmissionConcern.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ConcernView:
    check: int
    rank: int
    share: float | None
    sentences: list[str]

    @property
    def name(self) -> str:
        return CHECK_NAMES.get(self.check, str(self.check))

    @property
    def label(self) -> str:
        return PRIMARY_LABEL if self.rank == 0 else SECONDARY_LABEL


@dataclass(frozen=True)
class Segment:
    """A piece of the letter's text; check is set where a concern's sentence stands."""

    text: str
    check: int | None = None


def concern_rows(*, suggestion: Suggestion) -> list[dict[str, object]]:
    """A suggestion's concerns as rows in rank order, without their item's id."""
    return [
        {
            "check": c.check,
            "rank": rank,
            "share": c.share,
            "sentences": json.dumps(c.sentences, ensure_ascii=False),
        }
        for rank, c in enumerate(suggestion.concerns)
    ]


def add_concerns(session: Session, *, rows: Sequence[Mapping[str, object]]) -> None:
    """Insert concern rows (each with its submission_id) in one statement."""
    if rows:
        session.execute(_TABLE.insert(), list(rows))


def _sentences(raw: str | None) -> list[str]:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def promote_check(session: Session, *, submission_ids: Sequence[int], check: int) -> None:
    """Make an admin's check the primary concern of these items; the others stay secondary.

    The old primary stays only where the tagger quoted sentences for it: a primary without
    any was the whole letter's reading, which the admin has just overruled. Items stored
    before concerns were kept (no rows) keep showing their single check. A fixed number of
    statements however many items (the queue's bulk re-tag).
    """
    # No autoflush: the bulk re-tag writes its pending rows in bulk after this.
    with session.no_autoflush:
        rows = session.execute(
            select(_TABLE)
            .where(_TABLE.c.submission_id.in_(submission_ids))
            .order_by(_TABLE.c.submission_id, _TABLE.c.rank)
        ).all()
    by_item: dict[int, list[Any]] = {}
    for row in rows:
        by_item.setdefault(row.submission_id, []).append(row)
    fresh: list[dict[str, object]] = []
    for sid, ranked in by_item.items():
        lead = next((r for r in ranked if r.check == check), None)
        others = [r for r in ranked if r.check != check and (r.rank > 0 or _sentences(r.sentences))]
        fresh.append(
            {"submission_id": sid, "check": check, "rank": 0, "share": None, "sentences": "[]"}
            if lead is None
            else {**lead._asdict(), "rank": 0}
        )
        fresh.extend({**r._asdict(), "rank": rank} for rank, r in enumerate(others, start=1))
    if by_item:
        session.execute(_TABLE.delete().where(_TABLE.c.submission_id.in_(list(by_item))))
    add_concerns(session, rows=fresh)


def list_concerns(session: Session, *, submission_id: int) -> list[ConcernView]:
    """The item's concerns, primary first (empty for items stored before they were kept)."""
    rows = session.scalars(
        select(SubmissionConcern)
        .where(col(SubmissionConcern.submission_id) == submission_id)
        .order_by(col(SubmissionConcern.rank))
    ).all()
    return [ConcernView(r.check, r.rank, r.share, _sentences(r.sentences)) for r in rows]


def secondary_checks(session: Session, *, submission_ids: Sequence[int]) -> dict[int, list[int]]:
    """Item id -> its secondary checks in rank order, for the items that have any."""
    found: dict[int, list[int]] = {}
    rows = session.execute(
        select(col(SubmissionConcern.submission_id), col(SubmissionConcern.check))
        .where(
            col(SubmissionConcern.submission_id).in_(submission_ids),
            col(SubmissionConcern.rank) > 0,
        )
        .order_by(col(SubmissionConcern.submission_id), col(SubmissionConcern.rank))
    ).all()
    for sid, check in rows:
        found.setdefault(sid, []).append(check)
    return found


def speaks_also_to(check: int) -> ColumnElement[bool]:
    """The condition for items whose primary check is another but that also speak to
    `check` (兼涉)."""
    # A probe of the primary key per row in the queue's order: the first page of
    # also=4 took 11 ms at 200,000 items on SQLite, against 110-146 ms for an IN over
    # the (check, submission_id) index, which gathers every item of that check first.
    also = exists().where(
        col(SubmissionConcern.submission_id) == col(Submission.id),
        col(SubmissionConcern.check) == check,
    )
    other_primary = or_(col(Submission.check).is_(None), col(Submission.check) != check)
    return and_(other_primary, also)


def highlight(*, text: str, concerns: Sequence[ConcernView]) -> list[Segment]:
    """The text cut into pieces, each concern's sentences marked with its check where they
    stand in it (the first free place; the higher-ranked concern wins an overlap)."""
    spans: list[tuple[int, int, int]] = []
    for concern in concerns:
        for sentence in concern.sentences:
            start = text.find(sentence) if sentence else -1
            while start >= 0 and any(s < start + len(sentence) and start < e for s, e, _ in spans):
                start = text.find(sentence, start + 1)
            if start >= 0:
                spans.append((start, start + len(sentence), concern.check))
    segments: list[Segment] = []
    at = 0
    for start, end, check in sorted(spans):
        if start > at:
            segments.append(Segment(text[at:start]))
        segments.append(Segment(text[start:end], check))
        at = end
    if at < len(text) or not segments:
        segments.append(Segment(text[at:]))
    return segments


def _missing() -> ColumnElement[bool]:
    """Tagged items stored without concerns (before they were kept)."""
    stored = exists().where(col(SubmissionConcern.submission_id) == col(Submission.id))
    return and_(col(Submission.check).is_not(None), ~stored)


def count_missing_concerns(session: Session) -> int:
    """How many tagged items have no concerns yet."""
    query = select(func.count()).select_from(Submission).where(_missing())
    return int(session.execute(query).scalar_one())


def backfill_concerns(
    session: Session, *, tagger: Tagger, after_id: int = 0, batch: int = 500
) -> list[int]:
    """Fill in the concerns of the next `batch` tagged items without any (ids above
    after_id), keeping each item's current check primary; the ids done, in order."""
    found = session.execute(
        select(col(Submission.id), col(Submission.text), col(Submission.check))
        .where(col(Submission.id) > after_id, _missing())
        .order_by(col(Submission.id))
        .limit(batch)
    ).all()
    if not found:
        return []
    suggestions = tagger.suggest_many([text for _, text, _ in found])
    add_concerns(
        session,
        rows=[
            {"submission_id": sid, **row}
            for (sid, _, _), s in zip(found, suggestions, strict=True)
            for row in concern_rows(suggestion=s)
        ],
    )
    overruled: dict[int, list[int]] = {}
    for (sid, _, check), s in zip(found, suggestions, strict=True):
        if check is not None and check != s.check:
            overruled.setdefault(check, []).append(sid)
    for check, ids in overruled.items():
        promote_check(session, submission_ids=ids, check=check)
    return [int(sid) for sid, _, _ in found]


@dataclass(frozen=True)
class ConcernPanel:
    concerns: list[ConcernView]  # primary first; empty for items stored before
    segments: list[Segment]  # the text as shown, its concerns' sentences marked

    @property
    def several(self) -> bool:
        return len(self.concerns) > 1


def describe_concerns(session: Session, *, submission_id: int, text: str) -> ConcernPanel:
    """What the item page shows of an item's concerns, over the text this admin may read
    (a masked copy marks only the sentences that stand in it unchanged)."""
    concerns = list_concerns(session, submission_id=submission_id)
    return ConcernPanel(concerns, highlight(text=text, concerns=concerns))

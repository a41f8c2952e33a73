"""Public replies: what a unit's page of answered opinions shows, and nothing that names anyone.

A reply ticked 公开 still goes to its sender (the receipt page shows every reply); it also
appears here under an excerpt of the opinion, cut as the public board cuts them, with the
sender's own name and contact masked where the text repeats them. No name, contact, role,
channel or time of the opinion is shown, and a reply only by its day: a minute next to an
excerpt could point at the person seen writing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.campaign.measures import excerpt
from app.campaign.service import get_unit
from app.core.errors import Invalid
from app.core.time import TZ
from app.models import Reply, Submission

EXCERPT_CHARS = 120  # "…" included
ANSWERS_PER_PAGE = 20
MAX_PAGE = 1000
MASK = "×××"


@dataclass(frozen=True)
class PublicReply:
    day: date  # local day only, never the time
    body: str


@dataclass(frozen=True)
class PublicAnswer:
    excerpt: str  # at most EXCERPT_CHARS characters of the opinion, on one line
    replies: list[PublicReply]


@dataclass(frozen=True)
class AnswersPage:
    unit_name: str
    unit_slug: str
    answers: list[PublicAnswer]
    page: int
    more: bool


def public_excerpt(text: str, *, name: str | None, contact: str | None) -> str:
    """The start of an opinion fit for the public page: its sender's own name and contact masked."""
    for own in (name, contact):
        if own and own.strip():
            text = text.replace(own.strip(), MASK)
    return excerpt(text, EXCERPT_CHARS)


def parse_page(value: str | None) -> int:
    """The page number from the URL: 1 when absent, Invalid unless 1 to MAX_PAGE."""
    if not value:
        return 1
    if not (value.isascii() and value.isdigit() and len(value) <= 4) or not (
        1 <= int(value) <= MAX_PAGE
    ):
        raise Invalid("页码不正确，请从第一页浏览。", field="page")
    return int(value)


def list_public_answers(session: Session, *, slug: str, page: int = 1) -> AnswersPage:
    """One page of a unit's opinions with public replies, latest reply first (NotFound)."""
    unit = get_unit(session, slug=slug)
    latest = func.max(col(Reply.created_at))
    found = session.execute(
        select(
            col(Submission.id),
            col(Submission.text),
            col(Submission.name),
            col(Submission.contact),
        )
        .join(Reply, col(Reply.submission_id) == col(Submission.id))
        .where(col(Submission.unit_id) == unit.id, col(Reply.is_public))
        .group_by(
            col(Submission.id),
            col(Submission.text),
            col(Submission.name),
            col(Submission.contact),
        )
        .order_by(latest.desc(), col(Submission.id).desc())
        .limit(ANSWERS_PER_PAGE + 1)
        .offset((page - 1) * ANSWERS_PER_PAGE)
    ).all()
    shown = found[:ANSWERS_PER_PAGE]
    replies: dict[int, list[PublicReply]] = {sid: [] for sid, *_ in shown}
    rows = session.execute(
        select(col(Reply.submission_id), col(Reply.created_at), col(Reply.body))
        .where(col(Reply.is_public), col(Reply.submission_id).in_(list(replies)))
        .order_by(col(Reply.created_at), col(Reply.id))
    ).all()
    for sid, at, body in rows:
        replies[sid].append(PublicReply(at.astimezone(TZ).date(), body))
    return AnswersPage(
        unit_name=unit.name,
        unit_slug=unit.slug,
        answers=[
            PublicAnswer(public_excerpt(text, name=name, contact=contact), replies[sid])
            for sid, text, name, contact in shown
        ],
        page=page,
        more=len(found) > ANSWERS_PER_PAGE,
    )

"""JSON API v1 for the holder of a receipt: status and exchange, messages, 回访 ratings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from app.core.deps import LookupLimit, SessionDep, SettingsDep, SubmitLimit
from app.dialogue.service import (
    MAX_COMMENT,
    MAX_MESSAGE,
    add_sender_message,
    load_sender_page,
    rate_reply,
)
from app.intake.api import ERRORS, RECEIPT_PATTERN, VISIBLE, ErrorOut
from app.models import ReplyRating, Status

# A receipt past its retention period answers 410 (archived, app/retention).
RECEIPT_ERRORS: dict[int | str, dict[str, object]] = ERRORS | {410: {"model": ErrorOut}}
router = APIRouter(prefix="/api/v1", tags=["v1"])

Receipt = Annotated[str, Path(pattern=RECEIPT_PATTERN, description="16 digits; spaces, dashes")]


class ReplyOut(BaseModel):
    id: int
    body: str
    created_at: datetime
    rating: Literal["satisfied", "basically_satisfied", "unsatisfied"] | None = Field(
        description="The sender's 回访 rating of this reply; null until rated (once per reply)."
    )


class QuestionOut(BaseModel):
    id: int
    body: str
    created_at: datetime


class StatusOut(BaseModel):
    unit: str
    status: Status
    status_label: str
    created_at: datetime
    check: int | None
    due_on: date | None = Field(description="The promised answer date (承诺答复日期).")
    replies: list[ReplyOut]
    questions: list[QuestionOut] = Field(description="The office's questions (追问) to the sender.")


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_MESSAGE, pattern=VISIBLE)


class MessageOut(BaseModel):
    id: int
    created_at: datetime = Field(description="To the minute.")


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reply_id: int = Field(ge=1, le=2**31 - 1)
    rating: Literal["satisfied", "basically_satisfied", "unsatisfied"]
    comment: str | None = Field(default=None, max_length=MAX_COMMENT)


class RatingOut(BaseModel):
    reply_id: int
    rating: Literal["satisfied", "basically_satisfied", "unsatisfied"]
    reopened: bool = Field(description="True when 不满意 put the item back in the queue (重办).")


@router.get(
    "/receipts/{receipt}",
    response_model=StatusOut,
    responses=RECEIPT_ERRORS,
    dependencies=[LookupLimit],
)
def get_receipt(receipt: Receipt, session: SessionDep, settings: SettingsDep) -> StatusOut:
    """Status, replies and questions for a receipt code (spaces or dashes allowed)."""
    page = load_sender_page(session, secret=settings.secret_key, receipt=receipt)
    view = page.view
    return StatusOut(
        unit=view.unit_name,
        status=view.status,
        status_label=view.status_label,
        created_at=view.created_at,
        check=view.check,
        due_on=view.due_on,
        replies=[
            ReplyOut(id=e.id, body=e.body, created_at=e.created_at, rating=e.rating)
            for e in page.thread.replies
        ],
        questions=[
            QuestionOut(id=e.id, body=e.body, created_at=e.created_at)
            for e in page.thread.questions
        ],
    )


@router.post(
    "/receipts/{receipt}/messages",
    status_code=201,
    response_model=MessageOut,
    responses=RECEIPT_ERRORS,
    dependencies=[LookupLimit, SubmitLimit],
)
def post_message(
    receipt: Receipt, body: MessageIn, session: SessionDep, settings: SettingsDep
) -> MessageOut:
    """Answer a question or add information; kept without any trace of the sender."""
    message = add_sender_message(
        session, secret=settings.secret_key, receipt=receipt, body=body.text, files=[]
    )
    session.commit()
    assert message.id is not None
    return MessageOut(id=message.id, created_at=message.created_at)


@router.post(
    "/receipts/{receipt}/ratings",
    status_code=201,
    response_model=RatingOut,
    responses=RECEIPT_ERRORS,
    dependencies=[LookupLimit, SubmitLimit],
)
def post_rating(
    receipt: Receipt, body: RatingIn, session: SessionDep, settings: SettingsDep
) -> RatingOut:
    """回访: rate one reply once (409 the second time); unsatisfied reopens the item."""
    row = rate_reply(
        session,
        secret=settings.secret_key,
        receipt=receipt,
        reply_id=body.reply_id,
        rating=body.rating,
        comment=body.comment,
    )
    rating = ReplyRating(row.rating)
    session.commit()
    return RatingOut(
        reply_id=body.reply_id,
        rating=rating.value,
        reopened=rating == ReplyRating.unsatisfied,
    )

"""追问 and the sender's answers, the queue's marks, and 回访 ratings of replies.

A sender's message or rating keeps no author, no address and its time only to the minute;
the receipt code itself is never stored (only Submission.receipt_hash).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import case, func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.accounts.access import is_masked_for
from app.audit.service import record_audit
from app.bureau.masking import mask_text
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.time import to_minute, today_local
from app.deadlines.events import record_event
from app.dialogue.links import token_matches
from app.intake import receipts
from app.intake.service import ReceiptView, clean_text, lookup_receipt
from app.intake.uploads import CleanFile
from app.models import (
    REPLY_RATING_LABELS,
    AdminUser,
    Attachment,
    DialogueMessage,
    DialogueState,
    EventKind,
    OutboxKind,
    Reply,
    ReplyRating,
    ReplyRatingRow,
    Status,
    Submission,
    SubmissionFollowup,
    Unit,
    utcnow,
)
from app.outbox.service import queue_mail
from app.retention.service import check_receipt_active
from app.review.replies import reply_address, unit_email
from app.review.service import get_item, may_act
from app.workdays.service import add_working_days

MAX_QUESTION = 2000
MAX_MESSAGE = 5000
MAX_COMMENT = 500
SATISFIED = (ReplyRating.satisfied.value, ReplyRating.basically_satisfied.value)


@dataclass(frozen=True)
class Entry:
    """One step of the exchange, in time order: a question, a sender message or a reply."""

    kind: str  # "question", "answer" (the sender, on the page or by mail) or "reply"
    id: int
    body: str
    created_at: datetime
    channel: str = "web"
    files: int = 0
    author_id: int | None = None
    rating: ReplyRating | None = None
    rating_label: str | None = None
    comment: str | None = None
    public: bool = False  # a reply also shown on the unit's public answers page


@dataclass(frozen=True)
class Thread:
    submission_id: int
    status: Status
    entries: list[Entry]
    unread: bool
    reopened: int

    @property
    def questions(self) -> list[Entry]:
        return [e for e in self.entries if e.kind == "question"]

    @property
    def replies(self) -> list[Entry]:
        return [e for e in self.entries if e.kind == "reply"]


def find_submission(session: Session, *, secret: str, receipt: str) -> Submission:
    """The item a receipt code belongs to; Invalid for a malformed code, NotFound for others."""
    digest = receipts.hash_receipt(secret=secret, receipt=receipts.parse_receipt(receipt))
    sub = session.exec(select(Submission).where(Submission.receipt_hash == digest)).first()
    if sub is None:
        raise NotFound("没有找到这个回执码对应的意见，请核对后重新输入。")
    check_receipt_active(session, submission=sub)
    return sub


def _state(session: Session, submission_id: int) -> DialogueState | None:
    return session.get(DialogueState, submission_id)


def _mark(session: Session, *, submission_id: int, unread: bool | None, reopen: bool) -> None:
    # An upsert: two sender messages to one item may arrive at once.
    values = {"submission_id": submission_id, "unread": bool(unread), "reopened": int(reopen)}
    changes: dict[str, object] = {}
    if unread is not None:
        changes["unread"] = unread
    if reopen:
        changes["reopened"] = DialogueState.__table__.c.reopened + 1  # type: ignore[attr-defined]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(DialogueState).values(**values)
    session.execute(
        stmt.on_conflict_do_update(index_elements=["submission_id"], set_=changes)
        if changes
        else stmt.on_conflict_do_nothing()
    )


def mark_unread(session: Session, *, submission_id: int) -> None:
    """Mark an item as having a sender message no admin has read (the queue shows it)."""
    _mark(session, submission_id=submission_id, unread=True, reopen=False)


def mark_read(session: Session, *, user: AdminUser, submission_id: int) -> None:
    """An admin who may act on the item has seen the sender's messages."""
    sub = get_item(session, user=user, submission_id=submission_id)
    if may_act(user, sub):
        session.execute(
            update(DialogueState)
            .where(col(DialogueState.submission_id) == submission_id)
            .where(col(DialogueState.unread))
            .values(unread=False)
        )


def _check_text(body: str, *, limit: int, empty: str, field: str) -> str:
    text = clean_text(body)
    if not text:
        raise Invalid(empty, field=field)
    if len(text) > limit:
        raise Invalid(f"内容不能超过 {limit} 字。", field=field)
    return text


def question_email(
    *, to: str, unit_name: str, question: str, from_addr: str, base_url: str
) -> EmailMessage:
    """The question as an email to a named sender; replying to it answers it."""
    text = (
        "您好：\n\n"
        f"{unit_name}在办理您提出的意见时，想向您了解：\n\n{question}\n\n"
        "直接回复本邮件即可作答；也可凭回执码在 "
        f"{base_url.rstrip('/')}/r 查看并回答。\n\n{unit_name}\n"
    )
    return unit_email(
        to=to,
        unit_name=unit_name,
        from_addr=from_addr,
        subject=f"{unit_name}想向您了解情况",
        text=text,
    )


def ask_question(
    session: Session,
    *,
    user: AdminUser,
    submission_id: int,
    body: str,
    from_addr: str | None,
    base_url: str,
) -> DialogueMessage:
    """Ask the sender a question (追问); a named sender with an email address gets it by mail
    through the outbox, and a reply to that mail comes back as their answer."""
    sub = get_item(session, user=user, submission_id=submission_id)
    if not may_act(user, sub):
        raise Forbidden("这条意见没有分配给您，您只能查看。")
    text = _check_text(body, limit=MAX_QUESTION, empty="请填写要问发件人的问题。", field="question")
    question = DialogueMessage(
        submission_id=submission_id, from_sender=False, author_id=user.id, body=text
    )
    session.add(question)
    session.flush()
    to = reply_address(sub)
    if to is not None and from_addr:
        unit = session.get(Unit, sub.unit_id)
        assert unit is not None
        message = question_email(
            to=to, unit_name=unit.name, question=text, from_addr=from_addr, base_url=base_url
        )
        queue_mail(
            session,
            kind=OutboxKind.question,
            submission_id=submission_id,
            to_addr=to,
            message=message,
            send_at=utcnow(),
        )
    record_audit(
        session,
        actor_id=user.id,
        action="question",
        unit_id=sub.unit_id,
        submission_id=submission_id,
        detail={"message_id": question.id, "mailed": to is not None and bool(from_addr)},
    )
    return question


def add_sender_message(
    session: Session, *, secret: str, receipt: str, body: str, files: Sequence[CleanFile]
) -> DialogueMessage:
    """The sender answers or adds information (and cleaned files) with their receipt code."""
    sub = find_submission(session, secret=secret, receipt=receipt)
    assert sub.id is not None
    text = clean_text(body)
    if not text and not files:
        raise Invalid("请填写要补充的内容，或选择照片、PDF 文件。", field="text")
    if len(text) > MAX_MESSAGE:
        raise Invalid(f"内容不能超过 {MAX_MESSAGE} 字。", field="text")
    # Minute precision like the submission itself: a precise time could be matched to logs.
    now = to_minute(utcnow())
    for f in files:
        session.add(
            Attachment(
                submission_id=sub.id,
                filename=f.filename,
                content_type=f.content_type,
                size=len(f.data),
                sha256=f.sha256,
                data=f.data,
                created_at=now,
            )
        )
    message = DialogueMessage(
        submission_id=sub.id, from_sender=True, body=text, files=len(files), created_at=now
    )
    session.add(message)
    session.flush()
    mark_unread(session, submission_id=sub.id)
    return message


def reopen_item(session: Session, *, submission: Submission) -> None:
    """重办: an unsatisfied rating puts the item back in the queue, open, marked, due anew."""
    assert submission.id is not None
    submission.status = Status.forwarded if submission.assignee_id else Status.new
    unit = session.get(Unit, submission.unit_id)
    assert unit is not None
    submission.due_on = add_working_days(today_local(), unit.answer_days)
    record_event(
        session,
        submission_id=submission.id,
        kind=EventKind.reopened,
        actor_id=None,
        note="来信人不满意，重办",
    )
    # The sender caused this: no time finer than the minute (so no audit row, whose time is
    # exact), as for everything else a sender does.
    submission.updated_at = to_minute(utcnow())
    session.add(submission)
    _mark(session, submission_id=submission.id, unread=None, reopen=True)


def _rate(
    session: Session, *, sub: Submission, reply_id: int, rating: str, comment: str | None
) -> ReplyRatingRow:
    reply = session.get(Reply, reply_id)
    if reply is None or reply.submission_id != sub.id:
        raise NotFound("没有找到这条答复。", field="reply_id")
    if rating not in {r.value for r in ReplyRating}:
        raise Invalid("请选择满意、基本满意或不满意。", field="rating")
    note = clean_text(comment or "") or None
    if note is not None and len(note) > MAX_COMMENT:
        raise Invalid(f"意见不能超过 {MAX_COMMENT} 字。", field="comment")
    assert sub.id is not None
    row = ReplyRatingRow(
        reply_id=reply_id,
        submission_id=sub.id,
        rating=ReplyRating(rating),
        comment=note,
        created_at=to_minute(utcnow()),
    )
    try:
        # A savepoint: a rating sent twice at once meets the unique reply_id, not a 500.
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise Conflict("这条答复已经评价过了。", field="reply_id") from exc
    if row.rating == ReplyRating.unsatisfied:
        reopen_item(session, submission=sub)
    return row


def rate_reply(
    session: Session,
    *,
    secret: str,
    receipt: str,
    reply_id: int,
    rating: str,
    comment: str | None,
) -> ReplyRatingRow:
    """回访: the sender rates one reply once; 不满意 reopens the item."""
    sub = find_submission(session, secret=secret, receipt=receipt)
    return _rate(session, sub=sub, reply_id=reply_id, rating=rating, comment=comment)


def find_rated_reply(session: Session, *, secret: str, reply_id: int, token: str) -> Thread:
    """The thread of the item whose reply a mailed rating link names; NotFound otherwise."""
    reply = session.get(Reply, reply_id)
    if reply is None or not token_matches(secret=secret, reply_id=reply_id, token=token):
        raise NotFound("这个评价链接无效。")
    return load_thread(session, submission_id=reply.submission_id)


def rate_by_link(
    session: Session, *, secret: str, reply_id: int, token: str, rating: str, comment: str | None
) -> ReplyRatingRow:
    """回访 from the link mailed with a reply to a named sender."""
    thread = find_rated_reply(session, secret=secret, reply_id=reply_id, token=token)
    sub = session.get(Submission, thread.submission_id)
    assert sub is not None
    return _rate(session, sub=sub, reply_id=reply_id, rating=rating, comment=comment)


def load_thread(session: Session, *, submission_id: int) -> Thread:
    """The whole exchange on one item, oldest first (callers check who may see it)."""
    sub = session.get(Submission, submission_id)
    if sub is None:
        raise NotFound("没有找到这条意见。")
    ratings = {
        r.reply_id: r
        for r in session.exec(
            select(ReplyRatingRow).where(ReplyRatingRow.submission_id == submission_id)
        ).all()
    }
    entries: list[Entry] = []
    for m in session.exec(
        select(DialogueMessage)
        .where(DialogueMessage.submission_id == submission_id)
        .order_by(col(DialogueMessage.id))
    ).all():
        assert m.id is not None
        kind = "answer" if m.from_sender else "question"
        entries.append(
            Entry(kind, m.id, m.body, m.created_at, files=m.files, author_id=m.author_id)
        )
    for f in session.exec(
        select(SubmissionFollowup)
        .where(SubmissionFollowup.submission_id == submission_id)
        .order_by(col(SubmissionFollowup.id))
    ).all():
        assert f.id is not None
        entries.append(Entry("answer", f.id, f.text, f.created_at, channel="email"))
    for r in session.exec(
        select(Reply).where(Reply.submission_id == submission_id).order_by(col(Reply.id))
    ).all():
        assert r.id is not None
        rated = ratings.get(r.id)
        entries.append(
            Entry(
                "reply",
                r.id,
                r.body,
                r.created_at,
                author_id=r.author_id,
                public=r.is_public,
                rating=None if rated is None else ReplyRating(rated.rating),
                rating_label=None
                if rated is None
                else REPLY_RATING_LABELS[ReplyRating(rated.rating)],
                comment=None if rated is None else rated.comment,
            )
        )
    # Sender messages keep only the minute: compare every time at that precision. The sort
    # is stable, so within a minute questions and answers stay in their (id) order and
    # replies come after them.
    entries.sort(key=lambda e: to_minute(e.created_at))
    state = _state(session, submission_id)
    return Thread(
        submission_id=submission_id,
        status=Status(sub.status),
        entries=entries,
        unread=bool(state and state.unread),
        reopened=state.reopened if state else 0,
    )


def receipt_thread(session: Session, *, secret: str, receipt: str) -> Thread:
    """The exchange the holder of a receipt code sees."""
    sub = find_submission(session, secret=secret, receipt=receipt)
    assert sub.id is not None
    return load_thread(session, submission_id=sub.id)


@dataclass(frozen=True)
class SenderPage:
    """What the receipt page shows: the status, the exchange, and the code for its forms."""

    view: ReceiptView
    thread: Thread
    receipt: str  # the 16 digits, posted again by the page's own forms


def load_sender_page(session: Session, *, secret: str, receipt: str) -> SenderPage:
    """The receipt page of a code; Invalid for a malformed code, NotFound for an unknown one."""
    view = lookup_receipt(session, secret=secret, receipt=receipt)
    thread = receipt_thread(session, secret=secret, receipt=receipt)
    return SenderPage(view=view, thread=thread, receipt=receipts.parse_receipt(receipt))


def item_thread(session: Session, *, user: AdminUser, submission_id: int) -> Thread:
    """The exchange on an item this admin may see; a school reading the bureau's masked copy
    of an item reads the sender's messages masked too, without their files."""
    sub = get_item(session, user=user, submission_id=submission_id)
    thread = load_thread(session, submission_id=submission_id)
    if not is_masked_for(sub, user=user):
        return thread
    entries = [
        replace(e, body=mask_text(e.body), files=0) if e.kind == "answer" else e
        for e in thread.entries
    ]
    return replace(thread, entries=entries)


def reply_satisfaction(
    session: Session, *, unit_ids: Sequence[int], start: datetime, end: datetime
) -> tuple[int, int]:
    """满意率 of the units' replies rated in [start, end): (满意 + 基本满意, all ratings)."""
    satisfied = func.sum(case((col(ReplyRatingRow.rating).in_(SATISFIED), 1), else_=0))
    row = session.exec(
        select(func.count(), satisfied)
        .select_from(ReplyRatingRow)
        .join(Submission, col(Submission.id) == col(ReplyRatingRow.submission_id))
        .where(col(Submission.unit_id).in_(list(unit_ids)))
        .where(col(ReplyRatingRow.created_at) >= start, col(ReplyRatingRow.created_at) < end)
    ).one()
    total, good = row
    return int(good or 0), int(total or 0)

"""Replies by email: queued with the reply, sent by the request at once, retried by the worker.

reply_and_send owns its transactions, since the mail goes out between two commits; the
other functions here never commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from enum import StrEnum
from functools import partial

from sqlalchemy import Engine
from sqlmodel import Session

from app.audit.service import record_audit
from app.core.config import Settings
from app.core.db import run_committed
from app.dialogue.links import rating_url
from app.mail.address import is_email_address
from app.mail.compose import build_message
from app.mail.outbound import MailSender, MailSendError
from app.models import AdminUser, OutboxKind, Submission, Unit, utcnow
from app.outbox.service import mark_mail_failed, mark_mail_sent, queue_mail, send_error
from app.review.service import add_reply, get_item
from app.signoff.service import draft_reply, needs_signoff

# The worker takes a reply mail over (retries) only after this long, well past the SMTP
# timeout, so the request that saved it sends it alone.
REPLY_HOLD = timedelta(minutes=10)


class ReplyOutcome(StrEnum):
    """What became of a reply's mail (the item page's notice names)."""

    saved = "reply"  # the sender left no address
    mailed = "mailed"
    retry = "mailretry"  # refused for now: the worker sends it later
    failed = "mailfail"  # refused for good
    nomail = "nomail"  # an address, but no mail server configured
    drafted = "drafted"  # waits for an admin's sign-off: nothing shown or sent yet


@dataclass(frozen=True)
class SavedReply:
    reply_id: int
    submission_id: int
    unit_id: int
    wanted: bool  # the sender left an email address
    outbox_id: int | None  # the queued mail, when there is one to send
    message: EmailMessage | None
    drafted: bool = False


def reply_address(submission: Submission) -> str | None:
    """The sender's email address, when a named sender left one as their contact."""
    if submission.anonymous or not submission.contact:
        return None
    value = submission.contact.strip()
    return value if is_email_address(value) else None


def reply_email(
    *, to: str, unit_name: str, body: str, from_addr: str, base_url: str, rating_url: str
) -> EmailMessage:
    """The reply as an email to a named sender's address."""
    text = (
        "您好：\n\n"
        f"感谢您向{unit_name}提出的意见和建议。答复如下：\n\n"
        f"{body}\n\n"
        f"凭回执码可在 {base_url.rstrip('/')}/r 查看处理进度和全部答复。\n\n"
        f"对这条答复满意吗？请点此评价（满意 / 基本满意 / 不满意）：\n{rating_url}\n\n"
        f"{unit_name}\n"
    )
    return unit_email(
        to=to,
        unit_name=unit_name,
        from_addr=from_addr,
        subject=f"{unit_name}对您意见的答复",
        text=text,
    )


def unit_email(*, to: str, unit_name: str, from_addr: str, subject: str, text: str) -> EmailMessage:
    """A mail from a unit's mailbox to a named sender, marked automatic against autoreplies."""
    return build_message(
        from_addr=from_addr,
        from_name=f"{unit_name}意见箱",
        to_addrs=[to],
        subject=subject,
        text=text,
        message_id_domain=from_addr.rpartition("@")[2] or "localhost",
        headers={"Auto-Submitted": "auto-generated"},
    )


def reply_to_item(
    session: Session,
    *,
    user: AdminUser,
    submission_id: int,
    body: str,
    public: bool,
    from_addr: str | None,
    base_url: str,
    secret: str,
) -> SavedReply:
    """Save a reply and, for a named sender with an address, queue its mail with it
    (from_addr None: no mail server, nothing queued)."""
    sub = get_item(session, user=user, submission_id=submission_id)
    if needs_signoff(session, user=user, submission=sub):
        draft = draft_reply(session, user=user, submission=sub, body=body, public=public)
        assert draft.id is not None
        return SavedReply(draft.id, draft.submission_id, sub.unit_id, False, None, None, True)
    saved = add_reply(session, user=user, submission=sub, body=body, public=public)
    assert sub.id is not None and saved.id is not None
    to = reply_address(sub)
    message, outbox_id = None, None
    if to is not None and from_addr:
        unit = session.get(Unit, sub.unit_id)
        assert unit is not None
        message = reply_email(
            to=to,
            unit_name=unit.name,
            body=saved.body,
            from_addr=from_addr,
            base_url=base_url,
            rating_url=rating_url(base_url=base_url, secret=secret, reply_id=saved.id),
        )
        # Queued in the reply's transaction, so it is not lost if sending fails or we die
        # meanwhile; the worker holds off while the request sends it itself.
        outbox_id = queue_mail(
            session,
            kind=OutboxKind.reply,
            submission_id=sub.id,
            to_addr=to,
            message=message,
            send_at=utcnow() + REPLY_HOLD,
        )
    return SavedReply(saved.id, sub.id, sub.unit_id, to is not None, outbox_id, message)


def record_reply_mail(
    session: Session, *, user: AdminUser, saved: SavedReply, failure: MailSendError | None
) -> ReplyOutcome:
    """Mark a reply's queued mail sent or failed (for now or for good) and audit it."""
    if saved.outbox_id is None:
        outcome = ReplyOutcome.nomail
    elif failure is None:
        mark_mail_sent(session, mail_id=saved.outbox_id)
        outcome = ReplyOutcome.mailed
    else:
        gave_up = mark_mail_failed(
            session,
            mail_id=saved.outbox_id,
            error=send_error(failure),
            temporary=failure.temporary,
        )
        outcome = ReplyOutcome.failed if gave_up else ReplyOutcome.retry
    record_audit(
        session,
        actor_id=user.id,
        action="reply_email",
        unit_id=saved.unit_id,
        submission_id=saved.submission_id,
        detail={"reply_id": saved.reply_id, "sent": outcome == ReplyOutcome.mailed},
    )
    return outcome


async def reply_and_send(
    engine: Engine,
    *,
    user: AdminUser,
    submission_id: int,
    body: str,
    public: bool,
    sender: MailSender | None,
    settings: Settings,
) -> ReplyOutcome:
    """Save a reply with its mail queued (one commit), send the mail at once, and record
    how that went (a second commit); a UserError leaves nothing saved."""
    save = partial(
        reply_to_item,
        user=user,
        submission_id=submission_id,
        body=body,
        public=public,
        from_addr=settings.mail_from if sender is not None else None,
        base_url=settings.base_url,
        secret=settings.secret_key,
    )
    return await save_and_send(engine, user=user, save=save, sender=sender)


async def save_and_send(
    engine: Engine,
    *,
    user: AdminUser,
    save: Callable[[Session], SavedReply],
    sender: MailSender | None,
) -> ReplyOutcome:
    """Run one saving of a reply (its mail queued) in its own commit, send the mail at once
    and record how that went (a second commit)."""
    saved = await run_committed(engine, save)
    if saved.drafted:
        return ReplyOutcome.drafted
    if not saved.wanted:
        return ReplyOutcome.saved
    failure: MailSendError | None = None
    if sender is not None and saved.message is not None:
        try:
            await sender.send(saved.message)
        except MailSendError as exc:
            failure = exc
    return await run_committed(
        engine, partial(record_reply_mail, user=user, saved=saved, failure=failure)
    )

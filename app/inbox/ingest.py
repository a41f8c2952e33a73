"""One fetched message made a submission, a follow-up or a recorded skip, and its acknowledgement.

The poller (app/inbox/jobs.py) fetches and commits; everything here runs inside its transaction.
Addresses are never logged, and an anonymous sender's address is kept only in the
acknowledgement outbox until that one message is sent.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.errors import Closed, Invalid, TooLarge, Unsupported
from app.intake import receipts
from app.intake.service import (
    MAX_NAME,
    NewSubmission,
    Stored,
    clean_text,
    store_submission,
    validate_submission,
)
from app.intake.uploads import CleanFile, clean_upload
from app.mail.compose import build_ack
from app.mail.parse import MalformedMail, ParsedMail, parse_message, strip_anonymous_marker
from app.models import (
    Channel,
    InboundMessage,
    InboundStatus,
    MailboxConfig,
    OutboxKind,
    OutboxMail,
    Role,
    Submission,
    SubmissionFollowup,
    Unit,
    utcnow,
)
from app.outbox.service import queue_mail, sender_hash
from app.tagging import Tagger

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
ACK_INTERVAL = timedelta(hours=1)
_SUBJECT_TAG = re.compile(r"^\s*(?:【([^】]{1,100})】|\[([^\]]{1,100})\]|［([^］]{1,100})］)\s*")

@dataclass(frozen=True)
class Ingested:
    status: InboundStatus
    submission_id: int | None
    acked: bool
    replayed: bool = False
    """True when this UID had been recorded before (a re-run after a crash)."""




def ingest_message(
    session: Session,
    *,
    settings: Settings,
    mailbox: MailboxConfig,
    uidvalidity: int,
    uid: int,
    raw: bytes,
    ack: bool,
    tagger: Tagger | None = None,
) -> Ingested:
    """Record one fetched message and store what it carries, all or nothing.

    Never raises for anything about the message itself: what cannot be ingested is
    recorded with a reason, so one bad message never stops the poller.
    """
    assert mailbox.id is not None
    earlier = _recorded(session, mailbox_id=mailbox.id, uidvalidity=uidvalidity, uid=uid)
    if earlier is not None:
        return earlier
    try:
        with session.begin_nested():
            return _ingest(
                session,
                settings=settings,
                mailbox=mailbox,
                uidvalidity=uidvalidity,
                uid=uid,
                raw=raw,
                ack=ack,
                tagger=tagger,
            )
    except IntegrityError:
        # Another poller recorded this UID or this Message-ID between our check and insert.
        earlier = _recorded(session, mailbox_id=mailbox.id, uidvalidity=uidvalidity, uid=uid)
        if earlier is not None:
            return earlier
        status, reason = InboundStatus.duplicate, "message-id"
    except SQLAlchemyError:
        raise  # the database itself failed: the tick rolls back and nothing is flagged
    except Exception as exc:
        # A bug meeting odd input: quarantine the message, keep polling, keep the trace.
        log.exception("ingesting UID %s of mailbox %s failed", uid, mailbox.name)
        status, reason = InboundStatus.quarantined, f"error:{type(exc).__name__}"
    with session.begin_nested():
        _record(
            session,
            mailbox=mailbox,
            uidvalidity=uidvalidity,
            uid=uid,
            raw=None if mailbox.anonymous else raw,
            size=len(raw),
            status=status,
            reason=reason,
        )
    return Ingested(status, None, False)


def _recorded(session: Session, *, mailbox_id: int, uidvalidity: int, uid: int) -> Ingested | None:
    row = session.exec(
        select(InboundMessage.status, InboundMessage.submission_id).where(
            InboundMessage.mailbox_id == mailbox_id,
            InboundMessage.uidvalidity == uidvalidity,
            InboundMessage.uid == uid,
        )
    ).first()
    if row is None:
        return None
    return Ingested(InboundStatus(row[0]), row[1], False, replayed=True)


def _record(
    session: Session,
    *,
    mailbox: MailboxConfig,
    uidvalidity: int,
    uid: int,
    size: int,
    status: InboundStatus,
    reason: str = "",
    raw: bytes | None = None,
    dedup: str | None = None,
    mail: ParsedMail | None = None,
    sender: str | None = None,
    anonymous: bool = True,
    submission_id: int | None = None,
) -> None:
    assert mailbox.id is not None
    session.add(
        InboundMessage(
            mailbox_id=mailbox.id,
            uidvalidity=uidvalidity,
            uid=uid,
            dedup_key=dedup,
            status=status,
            reason=reason[:500],
            subject=None if mail is None or anonymous else mail.subject[:300],
            submission_id=submission_id,
            size=size,
            raw=raw,
            sender_hash=sender,
            received_at=_plausible(mail.date) if mail is not None else None,
        )
    )
    session.flush()


def _plausible(when: datetime | None) -> datetime | None:
    # A Date header is whatever the sender wrote; only a sane one is worth keeping.
    if when is None or not 1990 <= when.year <= 2200:
        return None
    return when


def _ingest(
    session: Session,
    *,
    settings: Settings,
    mailbox: MailboxConfig,
    uidvalidity: int,
    uid: int,
    raw: bytes,
    ack: bool,
    tagger: Tagger | None,
) -> Ingested:
    where: dict[str, Any] = {
        "mailbox": mailbox,
        "uidvalidity": uidvalidity,
        "uid": uid,
        "size": len(raw),
    }
    if len(raw) > MAX_MESSAGE_BYTES:
        _record(session, **where, status=InboundStatus.too_large, reason=f"too-large:{len(raw)}")
        return Ingested(InboundStatus.too_large, None, False)
    try:
        mail = parse_message(raw)
    except MalformedMail as exc:
        _record(
            session,
            **where,
            status=InboundStatus.quarantined,
            reason=f"malformed:{exc.reason}",
            raw=None if mailbox.anonymous else raw,
        )
        return Ingested(InboundStatus.quarantined, None, False)

    secret = settings.secret_key
    dedup = receipts.keyed_hash(secret=secret, purpose="mail-id", value=mail.dedup_key)
    sender = sender_hash(secret=secret, address=mail.from_addr) if mail.from_addr else None
    where.update(mail=mail, sender=sender)
    seen_before = session.exec(
        select(InboundMessage.id).where(InboundMessage.dedup_key == dedup)
    ).first()
    if seen_before is not None:
        # The same mail in another mailbox (a Cc) or after the server renumbered its UIDs.
        _record(session, **where, status=InboundStatus.duplicate, reason="message-id")
        return Ingested(InboundStatus.duplicate, None, False)
    where["dedup"] = dedup
    if mail.automated:
        _record(
            session,
            **where,
            status=InboundStatus.automated,
            reason=mail.automated,
            anonymous=mailbox.anonymous,
        )
        return Ingested(InboundStatus.automated, None, False)

    target = _followup_target(session, secret=secret, mail=mail)
    if target is not None:
        text = clean_text(mail.text)
        if len(text) > settings.max_text_chars:
            _record(session, **where, status=InboundStatus.quarantined, reason="invalid:text")
            return Ingested(InboundStatus.quarantined, None, False)
        session.add(SubmissionFollowup(submission_id=target, channel=Channel.email, text=text))
        _record(session, **where, status=InboundStatus.followup, submission_id=target)
        return Ingested(InboundStatus.followup, target, False)

    unit, subject = _route(session, mailbox=mailbox, mail=mail)
    marked, subject = strip_anonymous_marker(subject)
    subject = subject.strip()
    anonymous = mailbox.anonymous or mail.anonymous or mail.from_addr is None or marked
    keep_raw = None if anonymous else raw
    where["anonymous"] = anonymous
    if unit is None:
        _record(session, **where, status=InboundStatus.quarantined, reason="no-unit", raw=keep_raw)
        return Ingested(InboundStatus.quarantined, None, False)

    body = mail.text.strip()
    text = body if not subject or body.startswith(subject) else f"{subject}\n\n{body}".strip()
    files, dropped = _attachments(mail, anonymous=anonymous, settings=settings)
    name = clean_text(mail.from_name)[:MAX_NAME] or None
    try:
        data = validate_submission(
            text=text,
            role=Role.other.value,
            anonymous=anonymous,
            name=name,
            contact=mail.from_addr,
            max_chars=settings.max_text_chars,
        )
        stored = store_submission(
            session,
            secret=secret,
            new=NewSubmission(slug=unit.slug, channel=Channel.email, data=data, files=files),
            tagger=tagger,
        )
    except Invalid as exc:
        reason = f"invalid:{exc.field or ''}"
        _record(session, **where, status=InboundStatus.quarantined, reason=reason, raw=keep_raw)
        return Ingested(InboundStatus.quarantined, None, False)
    except Closed:
        _record(
            session, **where, status=InboundStatus.closed, reason="channel-closed", raw=keep_raw
        )
        return Ingested(InboundStatus.closed, None, False)
    acked = ack and _queue_ack(
        session, settings=settings, mailbox=mailbox, mail=mail, stored=stored, unit=unit
    )
    _record(
        session,
        **where,
        status=InboundStatus.ingested,
        reason="; ".join(dropped),
        raw=keep_raw,
        submission_id=stored.id,
    )
    return Ingested(InboundStatus.ingested, stored.id, acked)


def _followup_target(session: Session, *, secret: str, mail: ParsedMail) -> int | None:
    """The submission a reply to our acknowledgement belongs to, if it is one."""
    ids = [i for i in (mail.in_reply_to, *mail.references) if i]
    if ids:
        found = session.exec(
            select(OutboxMail.submission_id).where(col(OutboxMail.message_id).in_(ids))
        ).first()
        if found is not None:
            return found
    if mail.receipt_code:
        digest = receipts.hash_receipt(secret=secret, receipt=mail.receipt_code)
        return session.exec(select(Submission.id).where(Submission.receipt_hash == digest)).first()
    return None


def _route(
    session: Session, *, mailbox: MailboxConfig, mail: ParsedMail
) -> tuple[Unit | None, str]:
    """The unit a message is for, and its subject without a unit tag.

    In order: a plus-address naming a unit (yijian+demo@...), a unit's published address,
    a subject tag 【demo】 or [学校名], the mailbox's default unit.
    """
    units = session.exec(select(Unit).where(Unit.bureau_id == mailbox.bureau_id)).all()
    by_slug = {u.slug: u for u in units}
    by_email = {u.email.lower(): u for u in units if u.email}
    for address in mail.recipients:
        local = address.partition("@")[0]
        if "+" in local and local.split("+", 1)[1] in by_slug:
            return by_slug[local.split("+", 1)[1]], mail.subject
        if address in by_email:
            return by_email[address], mail.subject
    match = _SUBJECT_TAG.match(mail.subject)
    if match:
        tag = next(g for g in match.groups() if g).strip()
        unit = by_slug.get(tag.lower()) or next((u for u in units if u.name == tag), None)
        if unit is not None:
            return unit, mail.subject[match.end() :]
    if mailbox.unit_id is not None:
        return session.get(Unit, mailbox.unit_id), mail.subject
    return None, mail.subject


def _attachments(
    mail: ParsedMail, *, anonymous: bool, settings: Settings
) -> tuple[list[CleanFile], list[str]]:
    """Attachments kept under the web form's limits, and why the others were dropped."""
    files: list[CleanFile] = []
    dropped: list[str] = []
    for attachment in mail.attachments:
        if len(files) >= settings.max_files:
            dropped.append("dropped:too-many")
            continue
        try:
            files.append(
                clean_upload(
                    filename=attachment.filename,
                    data=attachment.data,
                    index=len(files) + 1,
                    anonymous=anonymous,
                    max_bytes=settings.max_upload_bytes,
                )
            )
        except TooLarge:
            dropped.append("dropped:too-large")
        except Unsupported:
            dropped.append(f"dropped:{attachment.content_type}")
    return files, dropped


def _queue_ack(
    session: Session,
    *,
    settings: Settings,
    mailbox: MailboxConfig,
    mail: ParsedMail,
    stored: Stored,
    unit: Unit,
) -> bool:
    """Queue the acknowledgement in this transaction; False when it must not be sent."""
    if mail.from_addr is None:
        return False
    ours = {a.lower() for a in (settings.mail_from, mailbox.username) if a}
    if mail.from_addr in ours:
        return False  # our own mail coming back: answering it would loop
    digest = sender_hash(secret=settings.secret_key, address=mail.from_addr)
    now = utcnow()
    recent = session.exec(
        select(OutboxMail.id).where(
            OutboxMail.kind == OutboxKind.ack,
            OutboxMail.sender_hash == digest,
            col(OutboxMail.created_at) >= now - ACK_INTERVAL,
        )
    ).first()
    if recent is not None:
        return False  # at most one per sender per hour: a flood must not make us a spammer
    from_addr = settings.mail_from or mailbox.username
    message = build_ack(
        to_addr=mail.from_addr,
        in_reply_to=mail.message_id,
        references=mail.references,
        subject=mail.subject,
        # Dashes: header folding may break a subject at spaces.
        receipt_code=receipts.format_receipt(stored.receipt, sep="-"),
        status_url=settings.base_url.rstrip("/") + "/r",
        unit_name=unit.name,
        from_addr=from_addr,
        message_id_domain=from_addr.rpartition("@")[2] or "localhost",
    )
    queue_mail(
        session,
        kind=OutboxKind.ack,
        submission_id=stored.id,
        to_addr=mail.from_addr,
        message=message,
        sender_digest=digest,
        send_at=now,
    )
    return True




# --- acknowledgements --------------------------------------------------------------------













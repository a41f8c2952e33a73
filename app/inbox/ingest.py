"""One prepared message made a submission, a follow-up or a recorded skip, and its acknowledgement.

The poller (app/inbox/jobs.py) fetches, prepares (app/inbox/prepare.py: parsing and cleaning,
outside any transaction) and commits; everything here runs inside its transaction and is
database work only. Addresses are never logged. An anonymous sender's address is kept only in
the acknowledgement outbox until that one message is sent; no durable row keeps a hash of it,
their Date header or the exact size of their mail.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.errors import Archived, Closed, Invalid
from app.dialogue.service import mark_unread
from app.inbox.prepare import SUBJECT_TAG, Prepared
from app.intake import receipts
from app.intake.service import (
    MAX_NAME,
    NewSubmission,
    Stored,
    clean_text,
    store_submission,
    validate_submission,
)
from app.mail.compose import build_ack
from app.mail.imap import Fetched
from app.mail.parse import ParsedMail, strip_anonymous_marker
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
from app.retention.service import check_receipt_active
from app.tagging import Tagger

log = logging.getLogger(__name__)

ACK_SECONDS = 3600.0
BUREAU_TAG = re.compile(
    r"^\s*(?:【(?:局长信箱|教体局)】|\[(?:局长信箱|教体局)\]|［(?:局长信箱|教体局)］)\s*"
)
# Sizes of anonymous mail are kept to this granularity: the exact size of a message is a
# fingerprint the mailbox provider (and the sender's "sent" folder) can match.
SIZE_STEP = 64 * 1024


class AckGuard:
    """Senders acknowledged in the last hour, by keyed hash, in this process's memory only:
    no durable row may link an anonymous mail to its sender. A restart forgets it, so at
    worst a sender gets one more acknowledgement. Reservations made in a transaction count at
    once and last only if it commits (see `batch`)."""

    def __init__(self, *, seconds: float = ACK_SECONDS) -> None:
        self.seconds = seconds
        self._until: dict[str, float] = {}
        self._pending: set[str] = set()
        self._lock = threading.Lock()

    def reserve(self, digest: str) -> bool:
        """True (and noted) when this sender may be acknowledged now."""
        now = time.monotonic()
        with self._lock:
            if digest in self._pending or self._until.get(digest, 0.0) > now:
                return False
            self._pending.add(digest)
            return True

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Keep the reservations made inside only if the block (its commit) succeeds."""
        try:
            yield
        except BaseException:
            with self._lock:
                self._pending.clear()
            raise
        now = time.monotonic()
        with self._lock:
            self._until = {d: t for d, t in self._until.items() if t > now}
            self._until.update(dict.fromkeys(self._pending, now + self.seconds))
            self._pending.clear()


@dataclass(frozen=True)
class Ingested:
    status: InboundStatus
    submission_id: int | None
    acked: bool
    replayed: bool = False
    """True when this UID had been recorded before (a re-run after a crash)."""


@dataclass(frozen=True)
class _Where:
    """What every row recording one message carries."""

    mailbox: MailboxConfig
    uidvalidity: int
    uid: int
    size: int
    anonymous: bool = True
    mail: ParsedMail | None = None
    dedup: str | None = None
    raw: bytes | None = None


def ingest_message(
    session: Session,
    *,
    settings: Settings,
    mailbox: MailboxConfig,
    uidvalidity: int,
    fetched: Fetched,
    prepared: Prepared,
    acks: AckGuard | None,
    tagger: Tagger | None = None,
) -> Ingested:
    """Record one fetched and prepared message and store what it carries, all or nothing.

    Never raises for anything about the message itself: what cannot be ingested is
    recorded with a reason, so one bad message never stops the poller. `acks` None: send
    no acknowledgement.
    """
    assert mailbox.id is not None
    uid = fetched.uid
    earlier = _recorded(session, mailbox_id=mailbox.id, uidvalidity=uidvalidity, uid=uid)
    if earlier is not None:
        return earlier
    where = _Where(
        mailbox,
        uidvalidity,
        uid,
        fetched.size,
        anonymous=prepared.anonymous or mailbox.anonymous,
    )
    try:
        with session.begin_nested():
            return _ingest(
                session,
                settings=settings,
                where=where,
                fetched=fetched,
                prepared=prepared,
                acks=acks,
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
        # A bug meeting odd input: quarantine the message, keep polling, keep the trace, but
        # not the exception's text, which may quote the message (its subject, its sender).
        log.error(
            "ingesting UID %s of mailbox %s failed: %s\n%s",
            uid,
            mailbox.name,
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        status, reason = InboundStatus.quarantined, f"error:{type(exc).__name__}"
    with session.begin_nested():
        _record(session, where, status=status, reason=reason)
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
    where: _Where,
    *,
    status: InboundStatus,
    reason: str = "",
    submission_id: int | None = None,
) -> None:
    """The row recording one message. The raw message (which names the sender), its subject,
    Date and exact size are kept only for mail known to come from a named sender."""
    assert where.mailbox.id is not None
    named = not where.anonymous and where.mail is not None
    size = where.size if named else -(-where.size // SIZE_STEP) * SIZE_STEP
    session.add(
        InboundMessage(
            mailbox_id=where.mailbox.id,
            uidvalidity=where.uidvalidity,
            uid=where.uid,
            dedup_key=where.dedup,
            status=status,
            reason=reason[:500],
            subject=where.mail.subject[:300] if named and where.mail else None,
            submission_id=submission_id,
            size=size,
            raw=where.raw if named else None,
            received_at=_plausible(where.mail.date) if named and where.mail else None,
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
    where: _Where,
    fetched: Fetched,
    prepared: Prepared,
    acks: AckGuard | None,
    tagger: Tagger | None,
) -> Ingested:
    mail = prepared.mail
    if mail is None:
        assert prepared.failure is not None
        status, reason = prepared.failure
        _record(session, where, status=status, reason=reason)
        return Ingested(status, None, False)

    secret = settings.secret_key
    dedup = receipts.keyed_hash(secret=secret, purpose="mail-id", value=mail.dedup_key)
    where = replace(where, mail=mail)
    seen_before = session.exec(
        select(InboundMessage.id).where(InboundMessage.dedup_key == dedup)
    ).first()
    if seen_before is not None:
        # The same mail in another mailbox (a Cc) or after the server renumbered its UIDs.
        _record(session, where, status=InboundStatus.duplicate, reason="message-id")
        return Ingested(InboundStatus.duplicate, None, False)
    where = replace(where, dedup=dedup)
    if mail.automated:
        _record(session, where, status=InboundStatus.automated, reason=mail.automated)
        return Ingested(InboundStatus.automated, None, False)

    target = _followup_target(session, secret=secret, mail=mail)
    if target is not None:
        text = clean_text(mail.text)
        if len(text) > settings.max_text_chars:
            _record(session, where, status=InboundStatus.quarantined, reason="invalid:text")
            return Ingested(InboundStatus.quarantined, None, False)
        session.add(SubmissionFollowup(submission_id=target, channel=Channel.email, text=text))
        mark_unread(session, submission_id=target)
        _record(session, where, status=InboundStatus.followup, submission_id=target)
        return Ingested(InboundStatus.followup, target, False)

    # The bureau tag may come before the unit tag, or after it and the 【匿名】 marker.
    to_bureau, first = strip_bureau_marker(mail.subject)
    unit, subject = _route(session, mailbox=where.mailbox, mail=replace(mail, subject=first))
    marked, subject = strip_anonymous_marker(subject)
    later, subject = strip_bureau_marker(subject)
    to_bureau = to_bureau or later
    subject = subject.strip()
    anonymous = where.anonymous or marked
    # From here on the raw message is kept (for named mail only, see _record) for an admin
    # to look into what was stored or refused.
    where = replace(where, anonymous=anonymous, raw=fetched.raw)
    if unit is None:
        _record(session, where, status=InboundStatus.quarantined, reason="no-unit")
        return Ingested(InboundStatus.quarantined, None, False)

    body = mail.text.strip()
    text = body if not subject or body.startswith(subject) else f"{subject}\n\n{body}".strip()
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
        new = NewSubmission(
            slug=unit.slug,
            channel=Channel.email,
            data=data,
            files=list(prepared.files),
            to_bureau=to_bureau,
        )
        stored = store_submission(session, secret=secret, new=new, tagger=tagger)
    except Invalid as exc:
        reason = f"invalid:{exc.field or ''}"
        _record(session, where, status=InboundStatus.quarantined, reason=reason)
        return Ingested(InboundStatus.quarantined, None, False)
    except Closed:
        _record(session, where, status=InboundStatus.closed, reason="channel-closed")
        return Ingested(InboundStatus.closed, None, False)
    acked = acks is not None and _queue_ack(
        session,
        settings=settings,
        mailbox=where.mailbox,
        mail=mail,
        stored=stored,
        unit=unit,
        acks=acks,
    )
    _record(
        session,
        where,
        status=InboundStatus.ingested,
        reason="; ".join(prepared.dropped),
        submission_id=stored.id,
    )
    return Ingested(InboundStatus.ingested, stored.id, acked)


def strip_bureau_marker(subject: str) -> tuple[bool, str]:
    """Whether a subject starts with the bureau tag (【局长信箱】, 【教体局】, also in [ ] or
    ［ ］): the mail goes straight to the bureau. Returns the subject without it."""
    stripped = BUREAU_TAG.sub("", subject, count=1)
    return stripped != subject, stripped


def _followup_target(session: Session, *, secret: str, mail: ParsedMail) -> int | None:
    """The submission a reply to our acknowledgement belongs to, if it is one and not archived
    (a letter about an archived case starts a new one: the old one keeps no identity)."""
    found = None
    ids = [i for i in (mail.in_reply_to, *mail.references) if i]
    if ids:
        found = session.exec(
            select(OutboxMail.submission_id).where(col(OutboxMail.message_id).in_(ids))
        ).first()
    if found is None and mail.receipt_code:
        digest = receipts.hash_receipt(secret=secret, receipt=mail.receipt_code)
        found = session.exec(select(Submission.id).where(Submission.receipt_hash == digest)).first()
    target = session.get(Submission, found) if found is not None else None
    if target is None:
        return None
    try:
        check_receipt_active(session, submission=target)
    except Archived:
        return None
    return found


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
    match = SUBJECT_TAG.match(mail.subject)
    if match:
        tag = next(g for g in match.groups() if g).strip()
        unit = by_slug.get(tag.lower()) or next((u for u in units if u.name == tag), None)
        if unit is not None:
            return unit, mail.subject[match.end() :]
    if mailbox.unit_id is not None:
        return session.get(Unit, mailbox.unit_id), mail.subject
    return None, mail.subject


def _queue_ack(
    session: Session,
    *,
    settings: Settings,
    mailbox: MailboxConfig,
    mail: ParsedMail,
    stored: Stored,
    unit: Unit,
    acks: AckGuard,
) -> bool:
    """Queue the acknowledgement in this transaction; False when it must not be sent."""
    if mail.from_addr is None:
        return False
    ours = {a.lower() for a in (settings.mail_from, mailbox.username) if a}
    if mail.from_addr in ours:
        return False  # our own mail coming back: answering it would loop
    if not acks.reserve(sender_hash(secret=settings.secret_key, address=mail.from_addr)):
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
        send_at=utcnow(),
    )
    return True

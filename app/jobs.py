"""Worker jobs, one tick each, committing at the tick's boundaries: the inbox poller and
the digest to the bureau office. Each is a plain function so tests and the CLI can run one tick.

Test hook: YIJIAN_TEST_CRASH_AT=before_commit|after_commit makes the inbox poller kill its own
process (SIGKILL) at that point of the first batch, so tests can prove a crash loses and
duplicates nothing; digest_after_claim|digest_after_send kill the digest sender after its
claim is committed / after SMTP accepted the mail but before it is recorded as sent.
Nothing else reads it; never set it in production.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Engine
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import make_engine, session_scope
from app.core.errors import Unavailable, UserError
from app.digest.service import (
    Period,
    build_digest,
    claim_digest_now,
    claim_next_digest,
    digest_xlsx,
    enqueue_digest,
    enqueue_due_digests,
    ensure_default_setting,
    get_setting,
    mail_domain,
    mark_failed,
    mark_sent,
    mark_skipped,
    parse_recipients,
    period_of,
    render_digest,
    xlsx_filename,
)
from app.inbox import service as inbox
from app.mail.compose import build_message
from app.mail.imap import Mailbox, MailboxError, Security, connect
from app.mail.outbound import MailSender, MailSendError
from app.models import Bureau, Digest, DigestStatus, MailboxConfig
from app.tagging import ReloadingTagger, Tagger

log = logging.getLogger(__name__)

# Messages per transaction: one fsync per batch instead of one per message.
FETCH_BATCH = 50
CRASH_ENV = "YIJIAN_TEST_CRASH_AT"


@dataclass
class PollResult:
    mailboxes: int = 0
    fetched: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    acks_sent: int = 0
    acks_failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items())) or "无新邮件"
        return (
            f"邮箱 {self.mailboxes} 个，取回 {self.fetched} 封（{counts}），"
            f"回执和答复邮件发送 {self.acks_sent} 封，失败 {self.acks_failed} 封，"
            f"错误 {len(self.errors)} 个"
        )


def make_tagger(settings: Settings) -> Tagger:
    """The configured tagger, following retrained models in the data folder."""
    return ReloadingTagger(settings.tagger, model_dir=settings.data_dir / "models")


def _crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def poll_mailboxes(
    engine: Engine, settings: Settings, sender: MailSender | None, tagger: Tagger | None = None
) -> PollResult:
    """One pass over every enabled mailbox, then send the acknowledgements that are due."""
    result = PollResult()
    with session_scope(engine) as session:
        inbox.upsert_env_mailbox(session, settings=settings)
        logins = inbox.enabled_logins(session)
    for login in logins:
        result.mailboxes += 1
        error: str | None = None
        try:
            _poll_one(engine, settings, login, ack=sender is not None, result=result, tagger=tagger)
        except MailboxError as exc:
            error = str(exc)
            result.errors.append(f"{login.name}: {error}")
            log.warning("mailbox %s: %s", login.name, error)
        with session_scope(engine) as session:
            inbox.finish_poll(session, mailbox_id=login.id, error=error)
    if sender is not None:
        send_due_acks(engine, sender, result)
    return result


def _poll_one(
    engine: Engine,
    settings: Settings,
    login: inbox.MailboxLogin,
    *,
    ack: bool,
    result: PollResult,
    tagger: Tagger | None,
) -> None:
    security = cast(Security, login.security)
    with connect(login.host, login.port, security, login.username, login.password) as imap:
        validity = imap.select(login.folder)
        with session_scope(engine) as session:
            last_uid, owed = inbox.start_pass(session, mailbox_id=login.id, uidvalidity=validity)
        # Stored by an earlier pass that died before flagging them.
        _flag_seen(engine, imap, login.id, validity, owed)
        uids = imap.uids_after(last_uid)
        for start in range(0, len(uids), FETCH_BATCH):
            chunk = uids[start : start + FETCH_BATCH]
            fetched = list(imap.fetch(chunk, batch_size=FETCH_BATCH))
            result.fetched += len(fetched)
            with session_scope(engine) as session:
                mailbox = session.get(MailboxConfig, login.id)
                assert mailbox is not None
                for uid, raw in fetched:
                    outcome = inbox.ingest_message(
                        session,
                        tagger=tagger,
                        settings=settings,
                        mailbox=mailbox,
                        uidvalidity=validity,
                        uid=uid,
                        raw=raw,
                        ack=ack,
                    )
                    # A replay is a UID recorded by an earlier, interrupted pass.
                    result.statuses["replayed" if outcome.replayed else outcome.status.value] += 1
                inbox.advance_mailbox(session, mailbox_id=login.id, last_uid=chunk[-1])
                _crash_point("before_commit")
            _crash_point("after_commit")
            # Only now, with the messages safely stored, may the server call them read.
            _flag_seen(engine, imap, login.id, validity, [uid for uid, _raw in fetched])


def _flag_seen(
    engine: Engine, imap: Mailbox, mailbox_id: int, validity: int, uids: list[int]
) -> None:
    if not uids:
        return
    imap.mark_seen(uids)
    with session_scope(engine) as session:
        inbox.mark_recorded_seen(session, mailbox_id=mailbox_id, uidvalidity=validity, uids=uids)


def send_due_acks(engine: Engine, sender: MailSender, result: PollResult | None = None) -> None:
    """Send queued mails (acknowledgements, replies), each marked in its own commit right
    after it went out.

    A crash between sending and marking sends that one mail again: at least once.
    """
    result = result or PollResult()
    while True:
        with session_scope(engine) as session:
            due = inbox.due_acks(session)
        if not due:
            return
        # Each one sent or failed leaves the due set (a failure is retried later), so this ends.
        asyncio.run(_send(engine, sender, due, result))


async def _send(
    engine: Engine, sender: MailSender, due: list[inbox.PendingAck], result: PollResult
) -> None:
    for pending in due:
        try:
            await sender.send(pending.message)
        except MailSendError as exc:
            error = inbox.send_error(exc)
            log.warning("queued mail %s not sent: %s", pending.id, error)
            result.acks_failed += 1
            with session_scope(engine) as session:
                inbox.mark_ack_failed(
                    session, ack_id=pending.id, error=error, temporary=exc.temporary
                )
            continue
        with session_scope(engine) as session:
            inbox.mark_ack_sent(session, ack_id=pending.id)
        result.acks_sent += 1


MAX_DIGESTS_PER_TICK = 50
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class DigestOutcome:
    digest_id: int
    bureau_id: int
    period_key: str
    status: DigestStatus
    error: str | None = None


@dataclass(frozen=True)
class _Claimed:
    id: int
    bureau_id: int
    period: Period
    message_id: str


@contextmanager
def claim_engine(engine: Engine) -> Iterator[Engine]:
    """The engine for outbox writes: on SQLite one whose transactions BEGIN IMMEDIATE, so
    two workers claiming at once queue on the write lock instead of both reading 'pending'."""
    if engine.dialect.name != "sqlite":
        yield engine
        return
    claimer = make_engine(engine.url.render_as_string(hide_password=False), immediate=True)
    try:
        yield claimer
    finally:
        claimer.dispose()


def _claimed(row: Digest) -> _Claimed:
    assert row.id is not None
    return _Claimed(row.id, row.bureau_id, period_of(row), row.message_id)


def send_due_digests(
    engine: Engine, settings: Settings, sender: MailSender, now: datetime
) -> list[DigestOutcome]:
    """One tick: create the digests that are due, then claim and send each sendable one."""
    domain = mail_domain(mail_from=settings.mail_from, base_url=settings.base_url)
    outcomes = []
    with claim_engine(engine) as writes:
        with session_scope(writes) as session:
            ensure_default_setting(session, recipients=settings.digest_to)
            enqueue_due_digests(session, now=now, domain=domain)
        for _ in range(MAX_DIGESTS_PER_TICK):
            with session_scope(writes) as session:
                row = claim_next_digest(session, now=now)
                claimed = None if row is None else _claimed(row)
            if claimed is None:
                break
            outcomes.append(
                _deliver(engine, writes, settings, sender, claimed, now=now, force=False)
            )
    return outcomes


def send_digest_now(
    engine: Engine,
    settings: Settings,
    sender: MailSender,
    *,
    bureau_id: int,
    period: Period,
    now: datetime,
) -> DigestOutcome:
    """Send one bureau's digest for `period` at once (even when empty); never a second time.

    Raises Conflict when that period was already sent or is being sent right now.
    """
    domain = mail_domain(mail_from=settings.mail_from, base_url=settings.base_url)
    with claim_engine(engine) as writes:
        with session_scope(writes) as session:
            ensure_default_setting(session, recipients=settings.digest_to)
            row = enqueue_digest(
                session, bureau_id=bureau_id, period=period, domain=domain, now=now
            )
            assert row.id is not None
            claimed = _claimed(claim_digest_now(session, digest_id=row.id, now=now))
        return _deliver(engine, writes, settings, sender, claimed, now=now, force=True)


def _deliver(
    engine: Engine,
    writes: Engine,
    settings: Settings,
    sender: MailSender,
    claimed: _Claimed,
    *,
    now: datetime,
    force: bool,
) -> DigestOutcome:
    """Build and send one claimed digest, then record the result. Never raises."""

    def outcome(status: DigestStatus, error: str | None = None) -> DigestOutcome:
        return DigestOutcome(claimed.id, claimed.bureau_id, claimed.period.key, status, error)

    _crash_point("digest_after_claim")
    try:
        # Reads on the ordinary engine: on SQLite the long build must not hold the write lock.
        with Session(engine) as session:
            setting = get_setting(session, bureau_id=claimed.bureau_id)
            content = build_digest(
                session,
                bureau_id=claimed.bureau_id,
                period=claimed.period,
                overdue_workdays=setting.overdue_workdays if setting else 5,
            )
            totals = content.summary()
            if content.is_empty and not force and not (setting and setting.send_when_empty):
                with session_scope(writes) as w:
                    mark_skipped(w, digest_id=claimed.id, totals=totals)
                return outcome(DigestStatus.skipped)
            recipients = parse_recipients(setting.recipients if setting else "")
            if not recipients:
                raise Unavailable("没有设置摘要收件人（YIJIAN_DIGEST_TO 或管理页面）。")
            if not settings.mail_from:
                raise Unavailable("没有设置发件地址（YIJIAN_MAIL_FROM）。")
            subject, text, html = render_digest(content, base_url=settings.base_url)
            xlsx = digest_xlsx(session, content=content)
            bureau = session.get(Bureau, claimed.bureau_id)
        msg = build_message(
            from_addr=settings.mail_from,
            from_name=f"{bureau.name if bureau else ''}意见箱",
            to_addrs=recipients,
            subject=subject,
            text=text,
            html_body=html,
            attachments=[(xlsx_filename(claimed.period), XLSX_TYPE, xlsx)],
            message_id_domain=mail_domain(mail_from=settings.mail_from, base_url=settings.base_url),
            headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
        )
        # Same Message-ID on every attempt: a resend after a crash is recognisably one mail.
        msg.replace_header("Message-ID", claimed.message_id)
        asyncio.run(sender.send(msg))
        _crash_point("digest_after_send")
    except MailSendError as exc:
        return _failed(writes, claimed, now, str(exc), temporary=exc.temporary)
    except UserError as exc:
        return _failed(writes, claimed, now, exc.message, temporary=False)
    except Exception as exc:
        log.exception("digest %s for bureau %s failed", claimed.period.key, claimed.bureau_id)
        return _failed(writes, claimed, now, f"内部错误：{exc!r}", temporary=True)
    with session_scope(writes) as w:
        mark_sent(w, digest_id=claimed.id, now=now, totals=totals)
    log.info("digest %s sent to bureau %s", claimed.period.key, claimed.bureau_id)
    return outcome(DigestStatus.sent)


def _failed(
    writes: Engine, claimed: _Claimed, now: datetime, error: str, *, temporary: bool
) -> DigestOutcome:
    log.warning(
        "digest %s for bureau %s not sent: %s", claimed.period.key, claimed.bureau_id, error
    )
    with session_scope(writes) as w:
        mark_failed(w, digest_id=claimed.id, now=now, error=error, temporary=temporary)
    return DigestOutcome(
        claimed.id, claimed.bureau_id, claimed.period.key, DigestStatus.failed, error
    )

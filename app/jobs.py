"""Worker jobs: one tick each, committing at the tick's boundaries.

Test hook: YIJIAN_TEST_CRASH_AT=before_commit|after_commit makes the inbox poller kill its own
process (SIGKILL) at that point of the first batch, so tests can prove a crash loses and
duplicates nothing. Nothing else reads it; never set it in production.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections import Counter
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Engine

from app.config import Settings
from app.db import session_scope
from app.mail.imap import Mailbox, MailboxError, Security, connect
from app.mail.outbound import MailSender, MailSendError, SmtpMailSender
from app.models import MailboxConfig
from app.services import inbox
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
            f"回执发送 {self.acks_sent} 封，失败 {self.acks_failed} 封，错误 {len(self.errors)} 个"
        )


def make_tagger(settings: Settings) -> Tagger:
    """The configured tagger, following retrained models in the data folder."""
    return ReloadingTagger(settings.tagger, model_dir=settings.data_dir / "models")


def make_sender(settings: Settings) -> MailSender | None:
    """The SMTP sender from YIJIAN_SMTP_*; None (no acknowledgements) when not configured."""
    if not settings.smtp_host:
        return None
    return SmtpMailSender(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_security,
        settings.smtp_user,
        settings.smtp_password,
    )


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
    """Send queued acknowledgements, each marked in its own commit right after it went out.

    A crash between sending and marking sends that one acknowledgement again: at least once.
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
            # The exception text can name the recipient; keep only the code.
            error = f"SMTP {'temporary' if exc.temporary else 'permanent'} failure {exc.code or ''}"
            log.warning("acknowledgement %s not sent: %s", pending.id, error)
            result.acks_failed += 1
            with session_scope(engine) as session:
                inbox.mark_ack_failed(
                    session, ack_id=pending.id, error=error.strip(), temporary=exc.temporary
                )
            continue
        with session_scope(engine) as session:
            inbox.mark_ack_sent(session, ack_id=pending.id)
        result.acks_sent += 1

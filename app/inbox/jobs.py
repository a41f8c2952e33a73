"""The inbox poller: one pass over every enabled mailbox per tick.

Mail is read with BODY.PEEK, stored and committed, and only then flagged \\Seen on the
server; a pass that dies in between flags the stored messages at the next pass.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Engine

from app.core.config import Settings
from app.core.db import session_scope
from app.core.jobs import Job, JobContext, checkpoint
from app.inbox import ingest, mailboxes
from app.mail.imap import Mailbox, MailboxError, connect
from app.mail.outbound import MailSender
from app.mail.security import Security
from app.models import MailboxConfig
from app.outbox.jobs import send_due_mail
from app.tagging import Tagger

log = logging.getLogger(__name__)

# Messages per transaction: one fsync per batch instead of one per message.
FETCH_BATCH = 50


def jobs(context: JobContext) -> list[Job]:
    """Poll every YIJIAN_POLL_SECONDS, then send the acknowledgements that are due."""
    return [
        Job(
            "inbox",
            context.settings.poll_seconds,
            lambda: poll_mailboxes(
                context.engine, context.settings, context.sender, context.tagger
            ),
        )
    ]


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


def poll_mailboxes(
    engine: Engine, settings: Settings, sender: MailSender | None, tagger: Tagger | None = None
) -> PollResult:
    """One pass over every enabled mailbox, then send the acknowledgements that are due."""
    result = PollResult()
    with session_scope(engine) as session:
        mailboxes.upsert_env_mailbox(session, settings=settings)
        logins = mailboxes.enabled_logins(session)
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
            mailboxes.finish_poll(session, mailbox_id=login.id, error=error)
    if sender is not None:
        sent = send_due_mail(engine, sender)
        result.acks_sent, result.acks_failed = sent.sent, sent.failed
    return result


def _poll_one(
    engine: Engine,
    settings: Settings,
    login: mailboxes.MailboxLogin,
    *,
    ack: bool,
    result: PollResult,
    tagger: Tagger | None,
) -> None:
    security = cast(Security, login.security)
    with connect(login.host, login.port, security, login.username, login.password) as imap:
        validity = imap.select(login.folder)
        with session_scope(engine) as session:
            last_uid, owed = mailboxes.start_pass(
                session, mailbox_id=login.id, uidvalidity=validity
            )
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
                    outcome = ingest.ingest_message(
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
                mailboxes.advance_mailbox(session, mailbox_id=login.id, last_uid=chunk[-1])
                checkpoint("inbox.before_commit")
            checkpoint("inbox.after_commit")
            # Only now, with the messages safely stored, may the server call them read.
            _flag_seen(engine, imap, login.id, validity, [uid for uid, _raw in fetched])


def _flag_seen(
    engine: Engine, imap: Mailbox, mailbox_id: int, validity: int, uids: list[int]
) -> None:
    if not uids:
        return
    imap.mark_seen(uids)
    with session_scope(engine) as session:
        mailboxes.mark_recorded_seen(
            session, mailbox_id=mailbox_id, uidvalidity=validity, uids=uids
        )

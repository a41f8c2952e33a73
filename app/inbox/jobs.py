"""The inbox poller: one pass over every enabled mailbox per tick.

Mail is read with BODY.PEEK (sizes first: oversize mail is never downloaded), parsed and
cleaned outside any transaction, each message within a time budget (app/inbox/prepare.py),
then stored and committed, and only then flagged \\Seen on the server; a pass that dies in
between flags the stored messages at the next pass.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Engine

from app.core.config import Settings
from app.core.db import claim_engine, exclusive, session_scope
from app.core.jobs import Job, JobContext, checkpoint
from app.inbox import ingest, mailboxes
from app.inbox.prepare import MAX_MESSAGE_BYTES, Limits, Prepared, Preparer
from app.mail.imap import Mailbox, MailboxError, connect
from app.mail.outbound import MailSender
from app.mail.security import Security
from app.models import MailboxConfig
from app.outbox.jobs import send_due_mail
from app.tagging import Tagger

log = logging.getLogger(__name__)

# Messages per transaction: one fsync per batch instead of one per message. The transaction
# only does database work: every message in it was parsed and cleaned beforehand.
FETCH_BATCH = 50
# Seconds one pass spends preparing a mailbox's mail before it lets the other jobs (digests)
# run; a flood of slow messages then delays them by minutes, not hours.
PASS_SECONDS = 120.0
# What an admin reads about a failed poll; the detail (which can tell a closed port from a
# filtered one, and so scan the network) goes to the server log only.
ERROR_LABELS = {
    "auth": "认证失败：请检查邮箱账号和授权码",
    "connect": "无法连接收信服务器",
    "protocol": "收信服务器返回错误",
}
# The hourly acknowledgement guard lives as long as the engine (the worker's life).
_ACK_GUARDS: weakref.WeakKeyDictionary[Engine, ingest.AckGuard] = weakref.WeakKeyDictionary()


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
    busy: int = 0  # mailboxes another process was polling
    fetched: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    acks_sent: int = 0
    acks_failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items())) or "无新邮件"
        busy = f"（另有 {self.busy} 个正由其他进程收取）" if self.busy else ""
        return (
            f"邮箱 {self.mailboxes} 个{busy}，取回 {self.fetched} 封（{counts}），"
            f"回执和答复邮件发送 {self.acks_sent} 封，失败 {self.acks_failed} 封，"
            f"错误 {len(self.errors)} 个"
        )


def poll_mailboxes(
    engine: Engine, settings: Settings, sender: MailSender | None, tagger: Tagger | None = None
) -> PollResult:
    """One pass over every enabled mailbox, then send the acknowledgements that are due."""
    result = PollResult()
    # On SQLite, two workers starting together must queue for the write lock here rather
    # than both read, then both try to write.
    with claim_engine(engine) as writes, session_scope(writes) as session:
        mailboxes.upsert_env_mailbox(session, settings=settings)
        logins = mailboxes.enabled_logins(session)
    acks = _ACK_GUARDS.setdefault(engine, ingest.AckGuard()) if sender is not None else None
    with Preparer() as preparer:
        for login in logins:
            # One poller per mailbox across every worker and `inbox poll --once`: the others
            # pass it by instead of fetching the same mail (a dead poller frees it).
            with exclusive(engine, f"inbox-mailbox-{login.id}") as mine:
                if not mine:
                    result.busy += 1
                    log.info("mailbox %s: another process is polling it", login.name)
                    continue
                result.mailboxes += 1
                error: str | None = None
                try:
                    _poll_one(engine, settings, login, _Pass(preparer, acks, tagger), result)
                except MailboxError as exc:
                    error = ERROR_LABELS.get(exc.kind, ERROR_LABELS["protocol"])
                    result.errors.append(f"{login.name}: {exc}")
                    log.warning("mailbox %s: %s", login.name, exc)
                with session_scope(engine) as session:
                    mailboxes.finish_poll(session, mailbox_id=login.id, error=error)
    if sender is not None:
        sent = send_due_mail(engine, sender)
        result.acks_sent, result.acks_failed = sent.sent, sent.failed
    return result


@dataclass(frozen=True)
class _Pass:
    """What one poll shares across its mailboxes."""

    preparer: Preparer
    acks: ingest.AckGuard | None
    tagger: Tagger | None


def _poll_one(
    engine: Engine,
    settings: Settings,
    login: mailboxes.MailboxLogin,
    run: _Pass,
    result: PollResult,
) -> None:
    security = cast(Security, login.security)
    limits = Limits(
        anonymous_mailbox=login.anonymous,
        max_files=settings.max_files,
        max_upload_bytes=settings.max_upload_bytes,
    )
    with connect(login.host, login.port, security, login.username, login.password) as imap:
        validity = imap.select(login.folder)
        with session_scope(engine) as session:
            last_uid, owed = mailboxes.start_pass(
                session, mailbox_id=login.id, uidvalidity=validity
            )
        # Stored by an earlier pass that died before flagging them.
        _flag_seen(engine, imap, login.id, validity, owed)
        uids = imap.uids_after(last_uid)
        deadline = time.monotonic() + PASS_SECONDS
        for start in range(0, len(uids), FETCH_BATCH):
            chunk = uids[start : start + FETCH_BATCH]
            fetched = list(imap.fetch(chunk, batch_size=FETCH_BATCH, max_bytes=MAX_MESSAGE_BYTES))
            # Outside the transaction: a slow or hostile message holds no lock.
            prepared: list[Prepared] = []
            for message in fetched:
                if prepared and time.monotonic() > deadline:
                    break
                prepared.append(run.preparer.prepare(message, limits=limits))
            if len(prepared) < len(fetched):
                # Out of time: the rest waits for the next pass (fetched again then).
                fetched = fetched[: len(prepared)]
                chunk = [uid for uid in chunk if uid <= fetched[-1].uid]
            result.fetched += len(fetched)
            with _acks_batch(run.acks), session_scope(engine) as session:
                mailbox = session.get(MailboxConfig, login.id)
                assert mailbox is not None
                for message, ready in zip(fetched, prepared, strict=True):
                    outcome = ingest.ingest_message(
                        session,
                        tagger=run.tagger,
                        settings=settings,
                        mailbox=mailbox,
                        uidvalidity=validity,
                        fetched=message,
                        prepared=ready,
                        acks=run.acks,
                    )
                    # A replay is a UID recorded by an earlier, interrupted pass.
                    result.statuses["replayed" if outcome.replayed else outcome.status.value] += 1
                mailboxes.advance_mailbox(session, mailbox_id=login.id, last_uid=chunk[-1])
                checkpoint("inbox.before_commit")
            checkpoint("inbox.after_commit")
            # Only now, with the messages safely stored, may the server call them read.
            _flag_seen(engine, imap, login.id, validity, [m.uid for m in fetched])
            if time.monotonic() > deadline:
                log.info("mailbox %s: pass out of time, the rest at the next", login.name)
                return


def _acks_batch(acks: ingest.AckGuard | None) -> AbstractContextManager[None]:
    return acks.batch() if acks is not None else nullcontext()


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

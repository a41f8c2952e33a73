"""Sending the digest: create the due periods' rows, claim each, build, send, record."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import claim_engine, exclusive, session_scope
from app.core.errors import Unavailable, UserError
from app.core.jobs import Job, JobContext, checkpoint
from app.core.time import TZ
from app.digest.content import (
    build_digest,
    digest_xlsx,
    phase_attachments,
    render_digest,
    xlsx_filename,
)
from app.digest.schedule import (
    Period,
    ensure_default_setting,
    get_setting,
    parse_recipients,
    period_of,
)
from app.digest.service import (
    claim_digest_now,
    claim_next_digest,
    enqueue_digest,
    enqueue_due_digests,
    mail_domain,
    mark_failed,
    mark_sent,
    mark_skipped,
    release_claim,
    renew_lease,
)
from app.mail.compose import build_message
from app.mail.outbound import MailSender, MailSendError
from app.models import Bureau, Digest, DigestStatus, utcnow

log = logging.getLogger(__name__)

DIGEST_INTERVAL = 60.0


def jobs(context: JobContext) -> list[Job]:
    """Every minute: send the digests whose time has come (needs an SMTP server)."""
    sender = context.sender
    if sender is None:
        log.warning("YIJIAN_SMTP_HOST is not set: no acknowledgements and no digest")
        return []
    return [
        Job(
            "digest",
            DIGEST_INTERVAL,
            lambda: send_due_digests(context.engine, context.settings, sender, utcnow()),
        )
    ]


MAX_DIGESTS_PER_TICK = 50
BUREAU_BUSY_RETRY = timedelta(minutes=1)
BUREAU_BUSY = "同一教育局的另一期摘要正在发送，这期稍后自动发送。"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


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
    attempts: int


def _claimed(row: Digest) -> _Claimed:
    assert row.id is not None
    return _Claimed(row.id, row.bureau_id, period_of(row), row.message_id, row.attempts)


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
    """Build and send one claimed digest, then record the result. Never raises.

    One digest per bureau at a time: a day's and a week's digest due together (both on a
    Monday morning) would otherwise each find a phase's report not yet sent and both
    attach it. The later one is given back and claimed again a minute on.
    """
    with exclusive(engine, f"digest-bureau-{claimed.bureau_id}") as mine:
        if mine:
            return _build_and_send(engine, writes, settings, sender, claimed, now=now, force=force)
    with session_scope(writes) as w:
        release_claim(
            w, digest_id=claimed.id, attempts=claimed.attempts, retry_at=now + BUREAU_BUSY_RETRY
        )
    return DigestOutcome(
        claimed.id, claimed.bureau_id, claimed.period.key, DigestStatus.pending, BUREAU_BUSY
    )


def _build_and_send(
    engine: Engine,
    writes: Engine,
    settings: Settings,
    sender: MailSender,
    claimed: _Claimed,
    *,
    now: datetime,
    force: bool,
) -> DigestOutcome:
    """_deliver's work once the bureau is ours: build, check the lease, send, record."""

    def outcome(status: DigestStatus, error: str | None = None) -> DigestOutcome:
        return DigestOutcome(claimed.id, claimed.bureau_id, claimed.period.key, status, error)

    checkpoint("digest.after_claim")
    started = time.monotonic()
    try:
        # Reads on the ordinary engine: on SQLite the long build must not hold the write lock.
        with Session(engine) as session:
            setting = get_setting(session, bureau_id=claimed.bureau_id)
            content = build_digest(session, bureau_id=claimed.bureau_id, period=claimed.period)
            phase_files = phase_attachments(
                session,
                bureau_id=claimed.bureau_id,
                period=claimed.period,
                today=now.astimezone(TZ).date(),
            )
            totals = content.summary()
            if phase_files:
                totals["phase_reports"] = [f.key for f in phase_files]
            # A phase's report is worth sending even when no new item came in.
            quiet = content.is_empty and not phase_files
            if quiet and not force and not (setting and setting.send_when_empty):
                with session_scope(writes) as w:
                    mark_skipped(w, digest_id=claimed.id, totals=totals)
                return outcome(DigestStatus.skipped)
            recipients = parse_recipients(setting.recipients if setting else "")
            if not recipients:
                raise Unavailable("没有设置摘要收件人（YIJIAN_DIGEST_TO 或管理页面）。")
            if not settings.mail_from:
                raise Unavailable("没有设置发件地址（YIJIAN_MAIL_FROM）。")
            workbook = digest_xlsx(session, content=content)
            subject, text, html = render_digest(
                content, base_url=settings.base_url, attached=workbook.attached
            )
            bureau = session.get(Bureau, claimed.bureau_id)
        msg = build_message(
            from_addr=settings.mail_from,
            from_name=f"{bureau.name if bureau else ''}意见箱",
            to_addrs=recipients,
            subject=subject,
            text=text,
            html_body=html,
            attachments=[
                (xlsx_filename(claimed.period), XLSX_TYPE, workbook.data),
                *((f.filename, DOCX_TYPE, f.data) for f in phase_files),
            ],
            message_id_domain=mail_domain(mail_from=settings.mail_from, base_url=settings.base_url),
            headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
        )
        # Same Message-ID on every attempt: a resend after a crash is recognisably one mail.
        msg.replace_header("Message-ID", claimed.message_id)
        # A build that outlived the lease may have been claimed again by another worker:
        # then that worker sends it, not this one.
        with session_scope(writes) as w:
            held = renew_lease(
                w, digest_id=claimed.id, attempts=claimed.attempts,
                now=now + timedelta(seconds=time.monotonic() - started),
            )
        if not held:
            log.warning("digest %s: lease lost while building, left to the new claimer",
                        claimed.period.key)
            return outcome(DigestStatus.sending, "租约已过期，由另一进程发送")
        asyncio.run(sender.send(msg))
        checkpoint("digest.after_send")
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

"""Digest rows, one per bureau and period: created when due, claimed, marked sent or failed.

Sending itself (SMTP, the claim/send/mark cycle) lives in app/digest/jobs.py; everything here runs
inside a session the caller commits.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlparse

from sqlalchemy import CursorResult, and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.core.errors import Conflict, NotFound
from app.core.time import TZ
from app.digest.schedule import Period, due_periods
from app.models import (
    Digest,
    DigestSetting,
    DigestStatus,
)

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 10

def mail_domain(*, mail_from: str | None, base_url: str) -> str:
    """The domain for our Message-IDs: the sender's, else the site's host."""
    if mail_from and "@" in mail_from:
        return mail_from.rsplit("@", 1)[1].strip(" >")
    return urlparse(base_url).hostname or "localhost"


def digest_message_id(*, bureau_id: int, period: Period, domain: str) -> str:
    """Stable per bureau and period, so a resend after a crash is recognisably the same mail."""
    return f"<digest-{bureau_id}-{period.kind.value}-{period.key}@{domain}>"


def enqueue_digest(
    session: Session, *, bureau_id: int, period: Period, domain: str, now: datetime
) -> Digest:
    """The outbox row for this bureau and period, created once (unique constraint)."""
    query = select(Digest).where(
        Digest.bureau_id == bureau_id,
        Digest.period_kind == period.kind.value,
        Digest.period_key == period.key,
    )
    existing = session.exec(query).first()
    if existing is not None:
        return existing
    row = Digest(
        bureau_id=bureau_id,
        period_kind=period.kind,
        period_key=period.key,
        period_start=period.start,
        period_end=period.end,
        status=DigestStatus.pending,
        next_attempt_at=now,
        message_id=digest_message_id(bureau_id=bureau_id, period=period, domain=domain),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another worker created it between our check and insert: theirs is the row.
        found = session.exec(query).first()
        assert found is not None
        return found
    return row


def enqueue_due_digests(session: Session, *, now: datetime, domain: str) -> list[Digest]:
    """Create the outbox rows of every enabled bureau whose periods are due."""
    settings = session.exec(select(DigestSetting).where(col(DigestSetting.enabled).is_(True))).all()
    rows = []
    for setting in settings:
        if not setting.recipients.strip():
            continue
        for period in due_periods(setting, now=now):
            rows.append(
                enqueue_digest(
                    session, bureau_id=setting.bureau_id, period=period, domain=domain, now=now
                )
            )
    return rows


def _claimable(now: datetime) -> Any:
    return or_(
        and_(
            col(Digest.status).in_([DigestStatus.pending.value, DigestStatus.failed.value]),
            col(Digest.next_attempt_at).is_not(None),
            col(Digest.next_attempt_at) <= now,
        ),
        # A worker that crashed mid-send leaves a lease; once it runs out, send again.
        and_(col(Digest.status) == DigestStatus.sending.value, col(Digest.claimed_until) < now),
    )


def _take(session: Session, row: Digest, *, now: datetime, lease: timedelta) -> Digest:
    row.status = DigestStatus.sending
    row.claimed_until = now + lease
    row.next_attempt_at = None
    row.attempts += 1
    session.add(row)
    session.flush()
    return row


def claim_next_digest(
    session: Session, *, now: datetime, lease: timedelta = LEASE
) -> Digest | None:
    """Mark the oldest sendable digest 'sending' under a lease, or None.

    PostgreSQL: FOR UPDATE SKIP LOCKED lets concurrent workers pass each other's rows.
    SQLite ignores FOR UPDATE; there the session must run on an immediate engine
    (BEGIN IMMEDIATE), which serialises claimers on the database write lock.
    """
    row = session.exec(
        select(Digest)
        .where(_claimable(now))
        .order_by(col(Digest.id))
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        return None
    return _take(session, row, now=now, lease=lease)


def claim_digest_now(
    session: Session, *, digest_id: int, now: datetime, lease: timedelta = LEASE
) -> Digest:
    """Claim one digest for sending now, whatever its schedule; refuse a sent or busy one."""
    # enqueue_digest may have loaded this row moments ago: without populate_existing the
    # session would hand back that stale copy instead of the row as it is under the lock,
    # and two processes pressing "send now" would both claim it.
    row = session.exec(
        select(Digest)
        .where(Digest.id == digest_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound("没有找到这期摘要。")
    if row.status == DigestStatus.sent:
        sent = row.sent_at.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if row.sent_at else ""
        raise Conflict(f"这期摘要已于 {sent} 发送，不再重复发送。")
    if row.status == DigestStatus.sending and row.claimed_until and row.claimed_until >= now:
        raise Conflict("这期摘要正在发送，请稍后刷新查看结果。")
    return _take(session, row, now=now, lease=lease)


def renew_lease(
    session: Session, *, digest_id: int, attempts: int, now: datetime, lease: timedelta = LEASE
) -> bool:
    """Extend our claim on a digest; False when its lease ran out and another worker
    claimed it since (its attempt count moved on), or it is no longer being sent."""
    renewed = cast(
        "CursorResult[Any]",
        session.execute(
            update(Digest)
            .where(
                col(Digest.id) == digest_id,
                col(Digest.attempts) == attempts,
                col(Digest.status) == DigestStatus.sending.value,
            )
            .values(claimed_until=now + lease)
        ),
    )
    return renewed.rowcount == 1


def release_claim(
    session: Session, *, digest_id: int, attempts: int, retry_at: datetime
) -> None:
    """Give a claimed digest back unsent (the try not counted), to be claimed from retry_at."""
    session.execute(
        update(Digest)
        .where(
            col(Digest.id) == digest_id,
            col(Digest.attempts) == attempts,
            col(Digest.status) == DigestStatus.sending.value,
        )
        .values(
            status=DigestStatus.pending,
            claimed_until=None,
            next_attempt_at=retry_at,
            attempts=attempts - 1,
        )
    )


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the n-th failed attempt: 1, 2, 4 ... minutes, at most two hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=2))


def _finish(session: Session, digest_id: int, **values: Any) -> None:
    session.execute(update(Digest).where(col(Digest.id) == digest_id).values(**values))


def mark_sent(session: Session, *, digest_id: int, now: datetime, totals: dict[str, Any]) -> None:
    """Record a delivered digest."""
    _finish(
        session,
        digest_id,
        status=DigestStatus.sent.value,
        sent_at=now,
        claimed_until=None,
        next_attempt_at=None,
        last_error=None,
        totals=json.dumps(totals, ensure_ascii=False),
    )


def mark_skipped(session: Session, *, digest_id: int, totals: dict[str, Any]) -> None:
    """Record a period with nothing to report (send_when_empty off)."""
    _finish(
        session,
        digest_id,
        status=DigestStatus.skipped.value,
        claimed_until=None,
        next_attempt_at=None,
        totals=json.dumps(totals, ensure_ascii=False),
    )


def mark_failed(
    session: Session, *, digest_id: int, now: datetime, error: str, temporary: bool
) -> Digest:
    """Record a failed attempt; schedule a retry unless it is permanent or attempts ran out."""
    row = session.get(Digest, digest_id)
    if row is None:
        raise NotFound("没有找到这期摘要。")
    retry = temporary and row.attempts < MAX_ATTEMPTS
    row.status = DigestStatus.failed
    row.claimed_until = None
    row.last_error = error[:1000]
    row.next_attempt_at = now + retry_delay(row.attempts) if retry else None
    session.add(row)
    session.flush()
    return row


def attached_phase_reports(session: Session, *, bureau_id: int) -> set[str]:
    """The campaign phase reports this bureau's sent digests carried (see jobs: once each)."""
    rows = session.exec(
        select(Digest.totals).where(
            Digest.bureau_id == bureau_id,
            Digest.status == DigestStatus.sent.value,
            col(Digest.totals).contains('"phase_reports"'),
        )
    ).all()
    return {key for totals in rows for key in json.loads(totals).get("phase_reports", [])}


def list_digests(session: Session, *, bureau_id: int, limit: int = 60) -> list[Digest]:
    """A bureau's digests, newest period first."""
    return list(
        session.exec(
            select(Digest)
            .where(Digest.bureau_id == bureau_id)
            .order_by(col(Digest.period_start).desc(), col(Digest.period_kind))
            .limit(limit)
        ).all()
    )

"""Exports: an admin's filtered queue as a spreadsheet (audited), and every submission for
operators (JSON lines or CSV, never a secret)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlmodel import Session, col

from app.audit.service import record_audit
from app.core.time import TZ, to_minute
from app.documents.tables import (
    ExportRow,
    SubmissionLabels,
    submissions_csv,
    submissions_xlsx,
)
from app.models import (
    CHANNEL_LABELS,
    CHECK_NAMES,
    STATUS_LABELS,
    UNTAGGED_LABEL,
    AdminUser,
    Submission,
    Unit,
)
from app.review.queue import QueueFilter, iter_queue

SUBMISSION_LABELS = SubmissionLabels(
    checks=CHECK_NAMES,
    channels={channel.value: label for channel, label in CHANNEL_LABELS.items()},
    statuses={status.value: label for status, label in STATUS_LABELS.items()},
    untagged=UNTAGGED_LABEL,
)


def export_rows(session: Session, *, user: AdminUser, filters: QueueFilter) -> list[ExportRow]:
    """The filtered queue (all pages) as export rows; names only for named submissions."""
    whole = replace(filters, after=None)
    rows = []
    for r in iter_queue(session, user=user, filters=whole):
        rows.append(
            ExportRow(
                id=r.id,
                unit=r.unit_name,
                channel=r.channel.value,
                role=r.role,
                anonymous=r.anonymous,
                text=r.text,
                check=r.check,
                check_score=r.check_score,
                status=r.status.value,
                # At the precision the queue shows, not a finer value under a minute format.
                created_at=to_minute(r.created_at),
                name=r.name,
                contact=r.contact,
            )
        )
    return rows


def export_queue(
    session: Session, *, user: AdminUser, filters: QueueFilter, fmt: Literal["csv", "xlsx"]
) -> bytes:
    """The filtered queue (all pages) as a CSV or XLSX file, with an audit entry for it."""
    rows = export_rows(session, user=user, filters=filters)
    record_audit(
        session,
        actor_id=user.id,
        action="export",
        detail={"format": fmt, "rows": len(rows), "filter": filters.params(after=None)},
    )
    if fmt == "csv":
        return submissions_csv(rows, labels=SUBMISSION_LABELS)
    stamp = datetime.now(TZ).strftime("%Y-%m-%d %H:%M")
    return submissions_xlsx(
        rows,
        labels=SUBMISSION_LABELS,
        title="意见汇总",
        summary={"导出时间": stamp, "导出人": user.username},
    )


FIELDS = ("id", "unit", "channel", "role", "anonymous", "text", "check", "status", "created_at")


def iter_export_rows(session: Session, *, unit_slug: str | None = None) -> Iterator[dict[str, Any]]:
    """Yield one dict per submission in id order, streamed in pages."""
    last_id = 0
    while True:
        query = (
            select(
                col(Submission.id),
                col(Unit.slug),
                col(Submission.channel),
                col(Submission.role),
                col(Submission.anonymous),
                col(Submission.text),
                col(Submission.check),
                col(Submission.status),
                col(Submission.created_at),
            )
            .join(Unit, col(Unit.id) == Submission.unit_id)
            .where(col(Submission.id) > last_id)
            .order_by(col(Submission.id))
            .limit(1000)
        )
        if unit_slug is not None:
            query = query.where(col(Unit.slug) == unit_slug)
        rows = session.execute(query).all()
        if not rows:
            return
        for row in rows:
            record = dict(zip(FIELDS, row, strict=True))
            record["created_at"] = to_minute(record["created_at"]).isoformat()
            yield record
        last_id = rows[-1][0] or last_id


def neutralize(value: Any) -> Any:
    """Defuse text a spreadsheet would run as a formula (=, +, -, @, tab, CR first)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_export(rows: Iterator[dict[str, Any]], out: io.TextIOBase | Any, *, fmt: str) -> int:
    """Write rows as jsonl or csv; return how many were written."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: neutralize(v) for k, v in row.items()})
            count += 1
        return count
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count

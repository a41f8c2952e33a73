"""Export of every submission for operators (JSON lines or CSV); never a secret."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.models import Submission, Unit

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
            record["created_at"] = record["created_at"].isoformat()
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

"""Counts for the top of the admin queue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.models import Submission


@dataclass(frozen=True)
class Overview:
    total: int
    by_check: dict[int | None, int]
    by_status: dict[str, int]
    by_unit: dict[int, int]


def count_overview(session: Session, *, unit_ids: list[int]) -> Overview:
    """Totals per check, status and unit over the given units."""

    def grouped(column: Any) -> dict[Any, int]:
        query = (
            select(column, func.count())
            .where(col(Submission.unit_id).in_(unit_ids))
            .group_by(column)
        )
        return {key: int(n) for key, n in session.execute(query).all()}

    by_unit = grouped(Submission.unit_id)
    return Overview(
        total=sum(by_unit.values()),
        by_check=grouped(Submission.check),
        by_status=grouped(Submission.status),
        by_unit=by_unit,
    )

"""Public evaluation (群众评议): one-time codes, ratings of each measure, results."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, insert, update
from sqlmodel import Session, col, select

from app.campaign.measures import list_measures
from app.core.errors import Closed, Conflict, Invalid, NotFound
from app.intake.service import clean_text
from app.models import (
    RATING_LABELS,
    Evaluation,
    EvaluationCode,
    Measure,
    Rating,
    Unit,
    utcnow,
)

CODE_CHARS = 16  # base32: 80 bits
MAX_CODES = 2000
MAX_COMMENT = 500
_CODE = re.compile(r"^[A-Z2-7]{16}$")


def new_code() -> str:
    """A fresh code: 80 random bits as 16 base32 letters and digits (no 0/1/8/9)."""
    return base64.b32encode(secrets.token_bytes(10)).decode()


def normalise_code(value: str) -> str:
    """A typed code without spaces or dashes, upper case; Invalid when malformed."""
    code = re.sub(r"[\s\-]", "", value or "").upper()
    if not _CODE.match(code):
        raise Invalid("评议码应为16位字母和数字，请核对评议表上的评议码。", field="code")
    return code


def hash_code(*, secret: str, code: str) -> str:
    """The stored form of a code: HMAC-SHA256 with the server secret."""
    return hmac.new(secret.encode(), f"eval-code:{code}".encode(), hashlib.sha256).hexdigest()


def create_codes(session: Session, *, secret: str, unit_id: int, count: int) -> list[str]:
    """Make `count` one-time codes for a unit; the plain codes exist only in the return value."""
    if not 1 <= count <= MAX_CODES:
        raise Invalid(f"一次可生成 1 到 {MAX_CODES} 个评议码。", field="count")
    codes = [new_code() for _ in range(count)]
    now = utcnow()
    session.execute(
        insert(EvaluationCode),
        [
            {"unit_id": unit_id, "code_hash": hash_code(secret=secret, code=c), "created_at": now}
            for c in codes
        ],
    )
    return codes


def check_code(session: Session, *, secret: str, unit_id: int, code: str) -> None:
    """Refuse an unknown or already used code before showing the form."""
    row = session.exec(
        select(EvaluationCode).where(
            EvaluationCode.code_hash == hash_code(secret=secret, code=normalise_code(code))
        )
    ).first()
    if row is None or row.unit_id != unit_id:
        raise NotFound("没有这个评议码，请核对评议表上的评议码。", field="code")
    if row.used:
        raise Conflict("这个评议码已经使用过，每个评议码只能评议一次。", field="code")


@dataclass(frozen=True)
class Vote:
    rating: Rating
    comment: str | None


def validate_votes(*, measure_ids: Sequence[int], form: Mapping[str, str]) -> dict[int, Vote]:
    """Read `rating_<id>` and `comment_<id>` for every measure; each must be rated."""
    votes = {}
    for number, mid in enumerate(measure_ids, start=1):
        raw = form.get(f"rating_{mid}", "")
        try:
            rating = Rating(raw)
        except ValueError as exc:
            raise Invalid(f"请对第{number}项措施作出评价。", field=f"rating_{mid}") from exc
        comment = clean_text(form.get(f"comment_{mid}", "")) or None
        if comment and len(comment) > MAX_COMMENT:
            raise Invalid(f"第{number}项的意见不能超过 {MAX_COMMENT} 字。", field=f"comment_{mid}")
        votes[mid] = Vote(rating, comment)
    return votes


def submit_evaluation(
    session: Session,
    *,
    secret: str,
    unit_id: int,
    code: str,
    votes: Mapping[int, Vote],
    evaluation_open: bool,
) -> int:
    """Use a code once: rate every measure of its unit; returns the number of ratings.

    The code is claimed with a conditional UPDATE as the transaction's first statement, so two
    simultaneous uses cannot both see it unused: the second matches no row and is refused. The
    ratings keep no link to the code, and their time only to the minute.
    """
    if not evaluation_open:
        raise Closed("本单位目前不在群众评议阶段。")
    code_hash = hash_code(secret=secret, code=normalise_code(code))
    now = utcnow().replace(second=0, microsecond=0)
    result = cast(
        "CursorResult[Any]",
        session.execute(
            update(EvaluationCode)
            .where(
                col(EvaluationCode.code_hash) == code_hash,
                col(EvaluationCode.unit_id) == unit_id,
                col(EvaluationCode.used).is_(False),
            )
            .values(used=True)
        ),
    )
    if result.rowcount != 1:
        check_code(session, secret=secret, unit_id=unit_id, code=code)
        raise Conflict("这个评议码已经使用过，每个评议码只能评议一次。", field="code")
    measure_ids = [m.id for m in list_measures(session, unit_ids=[unit_id])]
    if not measure_ids:
        raise Invalid("本单位还没有公布整改措施，暂时无需评议。")
    if set(votes) != set(measure_ids):
        # Measures changed while the form was open: rate the current list again.
        raise Invalid("整改措施已更新，请刷新页面后重新评议。")
    session.execute(
        insert(Evaluation),
        [
            {
                "measure_id": mid,
                "rating": vote.rating.value,
                "comment": vote.comment,
                "created_at": now,
            }
            for mid, vote in votes.items()
        ],
    )
    return len(votes)


class _Rated:
    """满意率 of a set of ratings (a measure's, or a whole unit's)."""

    counts: dict[Rating, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def satisfaction(self) -> float | None:
        """满意 + 基本满意 as a share of all ratings (the usual 满意率)."""
        if not self.total:
            return None
        return (self.counts[Rating.satisfied] + self.counts[Rating.basic]) / self.total


@dataclass(frozen=True)
class MeasureResult(_Rated):
    measure_id: int
    unit_id: int
    unit_name: str
    title: str
    counts: dict[Rating, int]
    comments: list[str]


@dataclass(frozen=True)
class UnitResult(_Rated):
    unit_id: int
    unit_name: str
    codes: int
    used: int
    counts: dict[Rating, int]
    measures: list[MeasureResult]


def _zero() -> dict[Rating, int]:
    return dict.fromkeys(Rating, 0)


def evaluation_results(
    session: Session,
    *,
    unit_ids: Sequence[int],
    period: tuple[datetime, datetime] | None = None,
) -> list[UnitResult]:
    """Ratings per measure and per unit, counting evaluations made in [start, end) if given."""
    ids = list(unit_ids)
    query = (
        select(Evaluation.measure_id, Evaluation.rating, func.count())
        .join(Measure, col(Measure.id) == Evaluation.measure_id)
        .where(col(Measure.unit_id).in_(ids))
        .group_by(col(Evaluation.measure_id), col(Evaluation.rating))
    )
    comments_query = (
        select(Evaluation.measure_id, Evaluation.comment)
        .join(Measure, col(Measure.id) == Evaluation.measure_id)
        .where(col(Measure.unit_id).in_(ids), col(Evaluation.comment).is_not(None))
        .order_by(col(Evaluation.id))
    )
    if period is not None:
        start, end = period
        query = query.where(Evaluation.created_at >= start, Evaluation.created_at < end)
        comments_query = comments_query.where(
            Evaluation.created_at >= start, Evaluation.created_at < end
        )
    counts: dict[int, dict[Rating, int]] = {}
    for measure_id, rating, n in session.exec(query):
        counts.setdefault(measure_id, _zero())[Rating(rating)] = int(n)
    comments: dict[int, list[str]] = {}
    for measure_id, comment in session.exec(comments_query):
        comments.setdefault(measure_id, []).append(comment or "")
    codes = {
        uid: (int(total), int(used or 0))
        for uid, total, used in session.exec(
            select(
                EvaluationCode.unit_id,
                func.count(),
                func.count().filter(col(EvaluationCode.used)),
            )
            .where(col(EvaluationCode.unit_id).in_(ids))
            .group_by(col(EvaluationCode.unit_id))
        )
    }
    units = session.exec(select(Unit).where(col(Unit.id).in_(ids)).order_by(col(Unit.name))).all()
    measures = list_measures(session, unit_ids=ids)
    results = []
    for unit in units:
        assert unit.id is not None
        per = [
            MeasureResult(
                m.id,
                unit.id,
                unit.name,
                m.title,
                counts.get(m.id, _zero()),
                comments.get(m.id, []),
            )
            for m in reversed(measures)
            if m.unit_id == unit.id and m.id is not None
        ]
        total = _zero()
        for r in per:
            for rating, n in r.counts.items():
                total[rating] += n
        issued, used = codes.get(unit.id, (0, 0))
        results.append(UnitResult(unit.id, unit.name, issued, used, total, per))
    return results


RATING_CHOICES = [(r.value, label) for r, label in RATING_LABELS.items()]

"""The public transparency pages (公开统计): a unit's or the bureau's figures for the current
campaign, with small cells suppressed (disclosure.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from app.campaign.measures import list_measures
from app.core.errors import NotFound
from app.core.time import today_local
from app.models import CHECK_NAMES, MEASURE_STATUS_LABELS, Bureau, MeasureStatus, Unit
from app.stats.disclosure import Shown, show_row
from app.stats.service import (
    CHECK_KEYS,
    Period,
    Summary,
    campaign_period,
    check_label,
    current_campaign,
    summarize,
)
from app.stats.store import ItemStore


@dataclass(frozen=True)
class PublicMeasure:
    title: str
    status: str
    progress: int
    deadline: date | None
    check_name: str | None


@dataclass(frozen=True)
class PublicUnit:
    slug: str
    name: str
    received: Shown
    answered: int
    checks: list[tuple[str, Shown]]  # (check name, count), in CHECK_KEYS order
    measures: list[PublicMeasure]

    @property
    def measures_done(self) -> int:
        done = MEASURE_STATUS_LABELS[MeasureStatus.done]
        return sum(1 for m in self.measures if m.status == done)

    @property
    def mean_progress(self) -> float | None:
        if not self.measures:
            return None
        return sum(m.progress for m in self.measures) / len(self.measures)


@dataclass(frozen=True)
class PublicStats:
    title: str  # the unit's or the bureau's name
    campaign: str | None
    period: Period
    received: Shown
    answered: int
    on_time_rate: float | None
    satisfaction_rate: float | None
    ratings: int
    evaluation_rate: float | None
    evaluations: int
    # The bureau's count per check: the sum of what the unit pages show, "至少 n" when a unit
    # hides its cell (the true sum would give that cell away by subtraction).
    checks: list[tuple[str, Shown]]
    units: list[PublicUnit]


def _unit(summary: Summary, unit: Unit, measures: list[PublicMeasure]) -> PublicUnit:
    row = next(r for r in summary.by_unit if r.key == unit.slug)
    cells = summary.by_unit_check[unit.slug]
    shown, total = show_row([cells[k].received for k in CHECK_KEYS])
    return PublicUnit(
        slug=unit.slug,
        name=unit.name,
        received=total,
        answered=row.answered,
        checks=[(check_label(k), s) for k, s in zip(CHECK_KEYS, shown, strict=True)],
        measures=measures,
    )


def _measures(session: Session, unit_ids: list[int]) -> dict[int, list[PublicMeasure]]:
    out: dict[int, list[PublicMeasure]] = {i: [] for i in unit_ids}
    for m in reversed(list_measures(session, unit_ids=unit_ids)):
        out[m.unit_id].append(
            PublicMeasure(
                title=m.title,
                status=MEASURE_STATUS_LABELS[MeasureStatus(m.status)],
                progress=m.progress,
                deadline=m.deadline,
                check_name=CHECK_NAMES.get(m.check) if m.check else None,
            )
        )
    return out


def _sum(values: list[Shown]) -> Shown:
    seen = sum(v.value or 0 for v in values)
    if any(v.value is None for v in values):
        return Shown(None, f"至少 {seen}")
    return Shown(seen, str(seen))


def public_stats(
    session: Session,
    *,
    bureau_id: int,
    unit_slug: str | None = None,
    today: date | None = None,
    store: ItemStore | None = None,
) -> PublicStats:
    """What the public page of one unit (or, without a slug, the whole bureau) shows."""
    bureau = session.get(Bureau, bureau_id)
    if bureau is None:
        raise NotFound("没有找到这个教育局。")
    query = select(Unit).where(col(Unit.bureau_id) == bureau_id).order_by(col(Unit.name))
    if unit_slug is not None:
        query = query.where(col(Unit.slug) == unit_slug)
    units = list(session.exec(query).all())
    if not units:
        raise NotFound("没有找到这个单位，请核对链接或二维码。")
    ids = [u.id for u in units if u.id is not None]
    today = today or today_local()
    period = campaign_period(session, bureau_id=bureau_id, today=today)
    # A school's own page leaves out what was sent past it to the bureau.
    summary = summarize(
        session,
        unit_ids=ids,
        period=period,
        today=today,
        bureau_items=unit_slug is None,
        store=store,
    )
    measures = _measures(session, ids)
    rows = [_unit(summary, u, measures[u.id]) for u in units if u.id is not None]
    campaign = current_campaign(session, bureau_id=bureau_id)
    if unit_slug is not None:
        title, received, checks = rows[0].name, rows[0].received, rows[0].checks
    else:
        title, received = bureau.name, _sum([u.received for u in rows])
        checks = [
            (name, _sum([u.checks[i][1] for u in rows]))
            for i, (name, _shown) in enumerate(rows[0].checks)
        ]
    return PublicStats(
        title=title,
        campaign=campaign.title if campaign else None,
        period=period,
        received=received,
        answered=summary.totals.answered,
        on_time_rate=summary.on_time_rate,
        satisfaction_rate=summary.satisfaction_rate,
        ratings=summary.ratings,
        evaluation_rate=summary.evaluation_rate,
        evaluations=summary.evaluations,
        checks=checks,
        units=rows,
    )

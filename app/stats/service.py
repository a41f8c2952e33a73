"""Counting the work: received, answered, closed, open and overdue items, by check, channel,
sender role, unit and week, with on-time and satisfaction rates.

Definitions (the stats page and the reports say the same):
- received: items created in the period (local days, Asia/Shanghai), any kind and status;
- answered: the item has a reply, or its status is 已答复 or 已办结;
- closed: status 已办结; open: not answered and still waiting (新收, 已分类, 已转办);
- overdue: open, and its promised answer day (submission.due_on: the unit's working days
  after the day of receipt, on China's calendar) is before `today`;
- on-time rate: answered by the end of the promised day, among items that are
  answered or overdue (an open item still within its time is not judged yet);
- days to reply: working days from receipt to the first reply (for an item answered by a
  status change without a reply, to its last change); days to close: to its last change;
- satisfaction rate (满意率): 满意 + 基本满意 among the senders' 回访 ratings of replies made in
  the period; evaluation rate: the same among the 群众评议 ratings of the units' measures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select
from sqlmodel import Session, col

from app.core.errors import Invalid, NotFound
from app.core.time import local_midnight, today_local
from app.dialogue.service import reply_satisfaction
from app.models import (
    CHANNEL_LABELS,
    CHECK_NAMES,
    OPEN_STATUSES,
    PHASE_LABELS,
    UNTAGGED_LABEL,
    Campaign,
    CampaignPhase,
    Channel,
    Evaluation,
    Measure,
    PhaseKind,
    Rating,
    Role,
    Status,
    Unit,
)
from app.stats.store import Codes, Items, ItemStore
from app.workdays.service import (
    DEFAULT_ANSWER_WORKING_DAYS,
    add_working_days,
    working_day_numbers,
)

UNTAGGED_KEY = "none"
# The keys of by_check, in order: the five checks, 未归类 (0), then 待归类 (not tagged yet).
CHECK_KEYS: tuple[str, ...] = (*(str(c) for c in (1, 2, 3, 4, 5, 0)), UNTAGGED_KEY)
_CHANNEL_VALUES = frozenset(c.value for c in Channel)
_ROLE_VALUES = frozenset(r.value for r in Role)
Ints = npt.NDArray[np.signedinteger[Any]]


@dataclass(frozen=True)
class Period:
    """Inclusive local days (Asia/Shanghai)."""

    start: date
    end: date

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    received: int
    answered: int
    closed: int
    open: int
    overdue: int


@dataclass(frozen=True)
class Summary:
    totals: Row
    on_time_rate: float | None
    median_days_to_reply: float | None
    median_days_to_close: float | None
    satisfaction_rate: float | None
    by_check: list[Row]
    by_channel: list[Row]
    by_role: list[Row]
    by_unit: list[Row]
    weekly: list[Row]
    # Unit key -> check key -> that cell (the bureau's heat map); every unit and check present.
    by_unit_check: dict[str, dict[str, Row]] = field(default_factory=dict)
    period: Period | None = None
    today: date | None = None
    ratings: int = 0  # how many 回访 ratings the satisfaction rate stands on
    evaluation_rate: float | None = None  # 群众评议 of the measures
    evaluations: int = 0


def format_rate(value: float | None) -> str:
    """A rate as the pages show it: one decimal percent, or 暂无 when nothing was counted."""
    return "暂无" if value is None else f"{value * 100:.1f}%"


def check_key(check: int | None) -> str:
    """The by_check key of a submission's check (None: not tagged yet)."""
    return UNTAGGED_KEY if check is None else str(check)


def check_label(key: str) -> str:
    """The Chinese name of a by_check key."""
    return UNTAGGED_LABEL if key == UNTAGGED_KEY else CHECK_NAMES[int(key)]


def _units(session: Session, unit_ids: Sequence[int]) -> list[Unit]:
    return list(
        session.scalars(
            select(Unit).where(col(Unit.id).in_(list(unit_ids))).order_by(col(Unit.name))
        )
    )


# Item states, each item in exactly one; rows sum them (see Row).
_CLOSED, _ANSWERED, _OVERDUE, _OPEN, _OTHER = range(5)
_STATES = 5
# CHECK_KEYS' position of each stored check, indexed by check + 1 (-1: not tagged yet).
_CHECK_AT = np.array([6, 5, 0, 1, 2, 3, 4], dtype=np.int64)


def _row(key: str, label: str, states: Ints) -> Row:
    closed, answered, overdue, waiting = (int(states[i]) for i in (0, 1, 2, 3))
    return Row(
        key=key,
        label=label,
        received=int(states.sum()),
        answered=closed + answered,
        closed=closed,
        open=waiting + overdue,
        overdue=overdue,
    )


def _states(items: Items, store: ItemStore, today: date) -> Ints:
    """Each item's state. The order matters: closed beats answered (a reply or 已答复), which
    beats overdue: still waiting, unanswered and its promised day (due_on, on China's
    working-day calendar) before today, as the queue's state=overdue."""
    code = store.statuses.of
    waiting = np.isin(items.status, [code(s) for s in OPEN_STATUSES])
    state = np.where(waiting, _OPEN, _OTHER)
    late = waiting & (items.replied == 0) & (items.due > 0) & (items.due < today.toordinal())
    state[late] = _OVERDUE
    state[(items.status == code(Status.replied.value)) | (items.replied > 0)] = _ANSWERED
    state[items.status == code(Status.closed.value)] = _CLOSED
    return state


def _counts(keys: Ints, state: Ints, size: int) -> Ints:
    """Items per key (0 .. size-1) and state: a size x 5 table."""
    table = np.bincount(keys * _STATES + state, minlength=size * _STATES)
    return table.reshape(size, _STATES).astype(np.int64)


def _median(values: Ints) -> float | None:
    return float(np.median(values)) if len(values) else None


def _timeliness(
    items: Items, state: Ints, today: date
) -> tuple[float | None, float | None, float | None]:
    """On-time rate (answered by the end of the promised day, among answered and overdue
    items; an item stored without a promised day, none since migration 0014, is held to the
    default working days) and the median working days to first reply and to close."""
    done = state <= _ANSWERED
    received = items.received[done]
    answered = np.where(items.replied[done] > 0, items.replied[done], items.changed[done])
    due = items.due[done].copy()
    for day in np.unique(received[due == 0]):
        promised = add_working_days(date.fromordinal(int(day)), DEFAULT_ANSWER_WORKING_DAYS)
        due[(due == 0) & (received == day)] = promised.toordinal()
    judged = len(received) + int(np.count_nonzero(state == _OVERDUE))
    rate = np.count_nonzero(answered <= due) / judged if judged else None
    closed = state == _CLOSED
    if not len(received):  # nothing answered, so nothing closed either
        return rate, None, None
    # Closed items are among the answered ones; their last change is the latest day needed.
    days = [received, answered, items.changed[closed]]
    first = min(int(d.min()) for d in days if len(d))
    last = max(max(int(d.max()) for d in days if len(d)), today.toordinal())
    numbers = working_day_numbers(date.fromordinal(first), date.fromordinal(last))
    count = np.fromiter(numbers.values(), dtype=np.int64, count=len(numbers))

    def waited(start: Ints, end: Ints) -> Ints:
        spans: Ints = count[end - first] - count[start - first]
        return np.maximum(spans, 0)

    return (
        rate,
        _median(waited(received, answered)),
        _median(waited(items.received[closed], items.changed[closed])),
    )


def summarize(
    session: Session,
    *,
    unit_ids: Sequence[int],
    period: Period,
    today: date | None = None,
    bureau_items: bool = True,
    store: ItemStore | None = None,
) -> Summary:
    """Every figure of the stats page for these units and local days (without bureau_items:
    not the bureau's own items, as a unit role sees them), from the process's ItemStore or,
    without one, from a fresh read of every item."""
    today = today or today_local()
    units = _units(session, unit_ids)
    ids = [u.id for u in units if u.id is not None]
    store = store or ItemStore()
    items = store.items(
        session, unit_ids=ids, start=period.start, end=period.end, bureau_items=bureau_items
    )
    state = _states(items, store, today)
    # Each item's unit as its place in `units` (ordered by name, not id).
    order = np.argsort(np.asarray(ids, dtype=np.int64))
    position = order[np.searchsorted(np.asarray(ids, dtype=np.int64)[order], items.unit)]
    cells = _counts(position * len(CHECK_KEYS) + _CHECK_AT[items.check + 1], state, len(ids) * 7)
    cells = cells.reshape(len(ids), len(CHECK_KEYS), _STATES)
    by_channel = _counts(items.channel, state, len(store.channels.values))
    by_role = _counts(items.role, state, len(store.roles.values))
    monday = period.start - timedelta(days=period.start.weekday())
    weeks = (period.end - monday).days // 7 + 1
    weekly = _counts((items.received - monday.toordinal()) // 7, state, weeks)
    on_time_rate, to_reply, to_close = _timeliness(items, state, today)

    # Every channel and role we name, then any other stored for these items.
    channels = [c.value for c in Channel] + [
        v
        for i, v in enumerate(store.channels.values)
        if v not in _CHANNEL_VALUES and by_channel[i].any()
    ]
    roles = [r.value for r in Role] + [
        v for i, v in enumerate(store.roles.values) if v not in _ROLE_VALUES and by_role[i].any()
    ]
    none = np.zeros(_STATES, dtype=np.int64)

    def counted(codes: Codes, table: Ints, value: str) -> Ints:
        code = codes.of(value)
        return none if code < 0 else table[code]

    rated = session.execute(
        select(col(Evaluation.rating), func.count())
        .join(Measure, col(Measure.id) == col(Evaluation.measure_id))
        .where(
            col(Measure.unit_id).in_(ids),
            col(Evaluation.created_at) >= local_midnight(period.start),
            col(Evaluation.created_at) < local_midnight(period.end + timedelta(days=1)),
        )
        .group_by(col(Evaluation.rating))
    ).all()
    evaluated = {Rating(r): int(n) for r, n in rated}
    evaluations = sum(evaluated.values())
    approving = evaluated.get(Rating.satisfied, 0) + evaluated.get(Rating.basic, 0)
    satisfied, rating_total = reply_satisfaction(
        session,
        unit_ids=ids,
        start=local_midnight(period.start),
        end=local_midnight(period.end + timedelta(days=1)),
    )
    return Summary(
        totals=_row("all", "合计", cells.sum(axis=(0, 1))),
        on_time_rate=on_time_rate,
        median_days_to_reply=to_reply,
        median_days_to_close=to_close,
        satisfaction_rate=satisfied / rating_total if rating_total else None,
        by_check=[
            _row(k, check_label(k), cells[:, i].sum(axis=0)) for i, k in enumerate(CHECK_KEYS)
        ],
        by_channel=[
            _row(
                c,
                CHANNEL_LABELS[Channel(c)] if c in _CHANNEL_VALUES else c,
                counted(store.channels, by_channel, c),
            )
            for c in channels
        ],
        by_role=[_row(r, r, counted(store.roles, by_role, r)) for r in roles],
        by_unit=[_row(u.slug, u.name, cells[i].sum(axis=0)) for i, u in enumerate(units)],
        weekly=[
            _row(m.isoformat(), f"{max(m, period.start):%m-%d}起", weekly[w])
            for w in range(weeks)
            for m in [monday + timedelta(days=7 * w)]
        ],
        by_unit_check={
            u.slug: {k: _row(k, check_label(k), cells[i, j]) for j, k in enumerate(CHECK_KEYS)}
            for i, u in enumerate(units)
        },
        period=period,
        today=today,
        ratings=rating_total,
        evaluation_rate=approving / evaluations if evaluations else None,
        evaluations=evaluations,
    )


@dataclass(frozen=True)
class PhaseOption:
    id: int
    label: str
    period: Period


def campaign_phases(session: Session, *, bureau_id: int) -> list[PhaseOption]:
    """The phases of the bureau's latest campaign, as periods to choose from."""
    campaign = current_campaign(session, bureau_id=bureau_id)
    if campaign is None:
        return []
    rows = session.scalars(
        select(CampaignPhase)
        .where(col(CampaignPhase.campaign_id) == campaign.id)
        .order_by(col(CampaignPhase.starts_on))
    )
    return [
        PhaseOption(p.id, PHASE_LABELS[PhaseKind(p.kind)], Period(p.starts_on, p.ends_on))
        for p in rows
        if p.id is not None
    ]


def current_campaign(session: Session, *, bureau_id: int) -> Campaign | None:
    """The bureau's latest campaign (the one intake follows), if any."""
    return session.scalars(
        select(Campaign)
        .where(col(Campaign.bureau_id) == bureau_id)
        .order_by(col(Campaign.id).desc())
        .limit(1)
    ).first()


def campaign_period(session: Session, *, bureau_id: int, today: date | None = None) -> Period:
    """The current campaign from its first to its last phase day; the last 30 days without one."""
    phases = campaign_phases(session, bureau_id=bureau_id)
    if not phases:
        end = today or today_local()
        return Period(end - timedelta(days=29), end)
    return Period(min(p.period.start for p in phases), max(p.period.end for p in phases))


def choose_period(
    session: Session,
    *,
    bureau_id: int,
    start: date | None,
    end: date | None,
    phase_id: int | None,
    today: date | None = None,
) -> Period:
    """The period an admin asked for: a campaign phase, dates, or the current campaign."""
    if phase_id is not None:
        for option in campaign_phases(session, bureau_id=bureau_id):
            if option.id == phase_id:
                return option.period
        raise NotFound("没有这个活动阶段。")
    if start is None and end is None:
        return campaign_period(session, bureau_id=bureau_id, today=today)
    default = campaign_period(session, bureau_id=bureau_id, today=today)
    period = Period(start or default.start, end or default.end)
    if period.start > period.end:
        raise Invalid("开始日期不能晚于结束日期。", field="from")
    if (period.end - period.start).days > 3660:
        raise Invalid("统计时段不能超过十年。", field="from")
    return period

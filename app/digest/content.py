"""What the digest says: figures, tables and recent items of a period, as mail and xlsx."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import and_, exists, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.campaign.evaluation import UnitResult, evaluation_results
from app.core.errors import NotFound
from app.core.render import mail_env
from app.core.time import TZ
from app.digest.schedule import Period
from app.digest.service import attached_phase_reports
from app.documents.tables import ExportRow, submissions_xlsx
from app.groups.service import HotGroup, hot_groups
from app.models import (
    CHANNEL_LABELS,
    CHECK_NAMES,
    OPEN_STATUSES,
    Bureau,
    Channel,
    Rating,
    Reply,
    Role,
    Submission,
    Unit,
)
from app.reports.service import phase_report_docx, phases_ending
from app.review.export import SUBMISSION_LABELS
from app.workdays.service import sync_calendar, working_days_between

RECENT_PER_CHECK = 3
OVERDUE_LISTED = 10
EXCERPT_CHARS = 60

_label = SUBMISSION_LABELS.check
CHECK_COLUMNS: tuple[int | None, ...] = (*CHECK_NAMES.keys(), None)


@dataclass(frozen=True)
class Figure:
    label: str
    count: int
    link: dict[str, str] = field(default_factory=dict)  # admin queue filter for this figure


@dataclass(frozen=True)
class UnitRow:
    slug: str
    name: str
    cells: tuple[Figure, ...]  # one per CHECK_COLUMNS
    total: int


@dataclass(frozen=True)
class DigestItem:
    id: int
    unit_name: str
    unit_slug: str
    check: int | None
    channel: str
    created_at: datetime
    excerpt: str
    # Only for named senders; anonymous items carry no identity at all. Never contact details.
    name: str | None = None
    role: str | None = None
    # Overdue items: working days past the promised answer day (China's calendar).
    late_workdays: int | None = None


@dataclass(frozen=True)
class RecentGroup:
    check: int | None
    label: str
    items: tuple[DigestItem, ...]


@dataclass(frozen=True)
class DigestContent:
    bureau_id: int
    bureau_name: str
    period: Period
    total: int
    previous_total: int
    units: tuple[UnitRow, ...]
    check_totals: tuple[Figure, ...]  # one per CHECK_COLUMNS
    channels: tuple[Figure, ...]
    roles: tuple[Figure, ...]
    recent: tuple[RecentGroup, ...]
    overdue_before: date  # promised answer day before this day and still unanswered
    overdue_count: int
    overdue: tuple[DigestItem, ...]
    # 群众评议 in this period, per unit with measures or ratings (campaign phase 整改提高).
    evaluations: tuple[UnitResult, ...] = ()
    # 热点问题: the largest and the fastest-growing groups of similar concerns.
    hot_largest: tuple[HotGroup, ...] = ()
    hot_growing: tuple[HotGroup, ...] = ()

    @property
    def change(self) -> int:
        return self.total - self.previous_total

    @property
    def change_text(self) -> str:
        if self.change == 0:
            return "持平"
        sign = "增加" if self.change > 0 else "减少"
        text = f"{sign} {abs(self.change)} 条"
        if self.previous_total:
            text += f"（{abs(self.change) * 100 / self.previous_total:.0f}%）"
        return text

    @property
    def is_empty(self) -> bool:
        # "Nothing new": overdue items alone do not make a digest worth sending.
        return self.total == 0

    def summary(self) -> dict[str, Any]:
        """The headline figures, stored with the digest row for the admin page."""
        return {
            "total": self.total,
            "previous": self.previous_total,
            "overdue": self.overdue_count,
            "checks": {f.label: f.count for f in self.check_totals},
        }


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


def _item(row: Any, units: dict[int, Unit], *, as_of: date | None = None) -> DigestItem:
    named = not row.anonymous
    unit = units[row.unit_id]
    return DigestItem(
        id=row.id,
        unit_name=unit.name,
        unit_slug=unit.slug,
        check=row.check,
        channel=SUBMISSION_LABELS.channels.get(row.channel, row.channel),
        created_at=row.created_at,
        excerpt=_excerpt(row.text),
        name=row.name if named else None,
        role=row.role if named else None,
        late_workdays=None
        if as_of is None or row.due_on is None
        else working_days_between(row.due_on, as_of),
    )


def _item_columns() -> tuple[Any, ...]:
    return (
        col(Submission.id),
        col(Submission.unit_id),
        col(Submission.check),
        col(Submission.channel),
        col(Submission.created_at),
        col(Submission.text),
        col(Submission.anonymous),
        col(Submission.name),
        col(Submission.role),
        col(Submission.due_on),
    )


def build_digest(
    session: Session, *, bureau_id: int, period: Period
) -> DigestContent:
    """All figures of one bureau's digest, aggregated in SQL."""
    bureau = session.get(Bureau, bureau_id)
    if bureau is None:
        raise NotFound("没有找到这个教育局。")
    units = session.exec(
        select(Unit).where(Unit.bureau_id == bureau_id).order_by(col(Unit.id))
    ).all()
    by_id = {unit.id: unit for unit in units if unit.id is not None}
    # Why "+ 0" and "|| ''" below: SQLite without ANALYZE statistics would otherwise walk the
    # unit_id, check or status index, each matching most of the table, instead of the narrow
    # created_at range (4x slower at 200,000 rows). PostgreSQL plans these the same either way.
    in_bureau = (col(Submission.unit_id) + 0).in_(list(by_id))
    in_period = and_(
        col(Submission.created_at) >= period.start, col(Submission.created_at) < period.end
    )
    span = {"from": period.first_day.isoformat(), "to": period.last_day.isoformat()}

    # One scan over the period: every figure below is a sum over these few grouped rows.
    grouped = session.execute(
        sa_select(
            col(Submission.unit_id),
            col(Submission.check),
            col(Submission.channel),
            col(Submission.role),
            func.count(),
        )
        .where(in_bureau, in_period)
        .group_by(
            col(Submission.unit_id),
            col(Submission.check),
            col(Submission.channel),
            col(Submission.role),
        )
    ).all()
    by_unit_check: dict[tuple[int, int | None], int] = {}
    by_channel: dict[str, int] = {}
    by_role: dict[str, int] = {}
    for unit_id, check, channel, role, count in grouped:
        by_unit_check[(unit_id, check)] = by_unit_check.get((unit_id, check), 0) + count
        by_channel[channel] = by_channel.get(channel, 0) + count
        by_role[role] = by_role.get(role, 0) + count
    total = sum(by_channel.values())

    previous = period.previous()
    previous_total = session.execute(
        select(func.count())
        .select_from(Submission)
        .where(
            in_bureau,
            col(Submission.created_at) >= previous.start,
            col(Submission.created_at) < previous.end,
        )
    ).scalar_one()

    def check_link(check: int | None, **extra: str) -> dict[str, str]:
        # The admin queue has no filter for "untagged"; link those to the unfiltered list.
        return {**extra, **({} if check is None else {"check": str(check)}), **span}

    unit_rows = []
    for unit in units:
        assert unit.id is not None
        cells = tuple(
            Figure(
                _label(c), by_unit_check.get((unit.id, c), 0), check_link(c, unit=unit.slug)
            )
            for c in CHECK_COLUMNS
        )
        unit_rows.append(UnitRow(unit.slug, unit.name, cells, sum(f.count for f in cells)))
    check_totals = tuple(
        Figure(
            _label(c), sum(n for (_u, k), n in by_unit_check.items() if k == c), check_link(c)
        )
        for c in CHECK_COLUMNS
    )
    channels = [
        Figure(CHANNEL_LABELS[c], by_channel.get(c.value, 0), {"channel": c.value, **span})
        for c in Channel
    ]
    known_channels = {c.value for c in Channel}
    channels += [
        Figure(c, n, span) for c, n in sorted(by_channel.items()) if c not in known_channels
    ]
    known_roles = {r.value for r in Role}
    roles = [Figure(r.value, by_role.get(r.value, 0), span) for r in Role]
    roles += [Figure(r, n, span) for r, n in sorted(by_role.items()) if r not in known_roles]

    recent = []
    for c in CHECK_COLUMNS:
        if not any(k == c for (_u, k) in by_unit_check):
            continue
        rows = session.execute(
            sa_select(*_item_columns())
            .where(
                in_bureau,
                in_period,
                func.coalesce(col(Submission.check), -1) == (-1 if c is None else c),
            )
            .order_by(col(Submission.created_at).desc(), col(Submission.id).desc())
            .limit(RECENT_PER_CHECK)
        ).all()
        recent.append(RecentGroup(c, _label(c), tuple(_item(r, by_id) for r in rows)))

    # Overdue at the end of the period: its promised answer day (working days, holidays
    # and 调休 included, see app/deadlines) has passed.
    as_of = period.last_day
    sync_calendar(session)
    overdue_where = (
        in_bureau,
        col(Submission.status).concat("").in_(OPEN_STATUSES),
        col(Submission.due_on) < as_of,
        ~exists().where(col(Reply.submission_id) == col(Submission.id)),
    )
    overdue_count = session.execute(
        select(func.count()).select_from(Submission).where(*overdue_where)
    ).scalar_one()
    overdue_rows = session.execute(
        sa_select(*_item_columns())
        .where(*overdue_where)
        .order_by(col(Submission.due_on), col(Submission.id))
        .limit(OVERDUE_LISTED)
    ).all()

    hot_largest, hot_growing = hot_groups(
        session,
        unit_ids=list(by_id),
        start=period.start,
        end=period.end,
        previous_start=previous.start,
    )
    return DigestContent(
        bureau_id=bureau_id,
        bureau_name=bureau.name,
        period=period,
        total=total,
        previous_total=previous_total,
        units=tuple(unit_rows),
        check_totals=check_totals,
        channels=tuple(channels),
        roles=tuple(roles),
        recent=tuple(recent),
        overdue_before=as_of,
        overdue_count=overdue_count,
        overdue=tuple(_item(r, by_id, as_of=as_of) for r in overdue_rows),
        evaluations=tuple(
            r
            for r in evaluation_results(
                session, unit_ids=list(by_id), period=(period.start, period.end)
            )
            if r.measures or r.total
        ),
        hot_largest=tuple(hot_largest),
        hot_growing=tuple(hot_growing),
    )


def admin_link(base_url: str, params: dict[str, str]) -> str:
    """A link to the admin queue filtered as `params` (unit, check, status, channel, from, to)."""
    query = urlencode(params)
    return f"{base_url.rstrip('/')}/admin" + (f"?{query}" if query else "")


def render_digest(
    content: DigestContent, *, base_url: str, attached: int | None = None
) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of a digest, in Chinese; `attached` items of the period
    are in the workbook (all when None)."""
    subject = f"【意见摘要】{content.bureau_name} {content.period.label}：新收 {content.total} 条"
    ctx = {
        "c": content,
        "RATING": Rating,
        "subject": subject,
        "link": lambda params: admin_link(base_url, params),
        "overdue_link": admin_link(base_url, {"due": "overdue", "sort": "due"}),
        "queue_link": admin_link(base_url, {}),
        "attached": content.total if attached is None else attached,
        "export_link": export_link(base_url, content.period),
        "local_time": lambda value: value.astimezone(TZ).strftime("%m-%d %H:%M"),
    }
    text = mail_env.get_template("digest/email.txt").render(ctx)
    html = mail_env.get_template("digest/email.html").render(ctx)
    return subject, text, html


# Many mail servers refuse a message over 5 MB, and base64 makes an attachment a third
# larger. Each item is written twice (全部意见 and its check's sheet), and deflate shrinks
# Chinese text about threefold: this much cell text keeps the whole mail near 2 MB.
ATTACHED_TEXT_BUDGET = 3_000_000
_ROW_OVERHEAD = 120  # the other cells of a row: numbers, labels, date


@dataclass(frozen=True)
class DigestWorkbook:
    data: bytes
    attached: int  # items in the workbook: the first ones by number, within the budget
    total: int  # items of the period

    @property
    def complete(self) -> bool:
        return self.attached == self.total


def digest_xlsx(
    session: Session, *, content: DigestContent, budget: int = ATTACHED_TEXT_BUDGET
) -> DigestWorkbook:
    """The period's items as a workbook (Chinese headers, no contact details), cut at
    `budget` bytes of text so the mail stays small; the rest is in the admin export."""
    result = session.execute(
        sa_select(
            *_item_columns(),
            col(Submission.status),
            col(Submission.check_score),
            col(Unit.name).label("unit_name"),
        )
        .join(Unit, col(Unit.id) == col(Submission.unit_id))
        .where(
            col(Unit.bureau_id) == content.bureau_id,
            col(Submission.created_at) >= content.period.start,
            col(Submission.created_at) < content.period.end,
        )
        .order_by(col(Submission.id))
        # Streamed: a busy day must not be loaded whole when only its start is attached.
        .execution_options(yield_per=2000)
    )
    export: list[ExportRow] = []
    used = 0
    for r in result:
        used += len(r.text.encode()) + len((r.name or "").encode()) + _ROW_OVERHEAD
        if used > budget:
            break
        export.append(
            ExportRow(
                id=r.id,
                unit=r.unit_name,
                channel=r.channel,
                role=r.role,
                anonymous=r.anonymous,
                text=r.text,
                check=r.check,
                check_score=r.check_score,
                status=r.status,
                created_at=r.created_at,
                name=None if r.anonymous else r.name,
            )
        )
    result.close()
    summary: dict[str, str | int] = {"时段": content.period.label}
    if len(export) < content.total:
        summary["本期意见"] = content.total
        summary["附件收录"] = f"前 {len(export)} 条（按编号）；全部意见请在管理后台导出"
    data = submissions_xlsx(
        export,
        labels=SUBMISSION_LABELS,
        title=f"{content.bureau_name}意见摘要",
        summary=summary,
    )
    return DigestWorkbook(data=data, attached=len(export), total=content.total)


def export_link(base_url: str, period: Period) -> str:
    """The admin's full xlsx export of a period's items."""
    query = urlencode({"from": period.first_day.isoformat(), "to": period.last_day.isoformat()})
    return f"{base_url.rstrip('/')}/admin/export.xlsx?{query}"


def xlsx_filename(period: Period) -> str:
    return f"意见摘要-{period.key}.xlsx"


@dataclass(frozen=True)
class PhaseAttachment:
    key: str
    filename: str
    data: bytes


def phase_attachments(
    session: Session, *, bureau_id: int, period: Period, today: date
) -> list[PhaseAttachment]:
    """The reports of the campaign phases that ended in this period, each as a Word draft,
    unless a digest already sent carried it: a phase's report goes out once."""
    done = attached_phase_reports(session, bureau_id=bureau_id)
    return [
        PhaseAttachment(
            report.key,
            report.filename,
            phase_report_docx(session, bureau_id=bureau_id, report=report, today=today),
        )
        for report in phases_ending(
            session, bureau_id=bureau_id, first_day=period.first_day, last_day=period.last_day
        )
        if report.key not in done
    ]

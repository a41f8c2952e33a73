"""The review queue: filters from the URL, keyset pages, and what the queue page shows."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal, cast
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from app.accounts.access import (
    as_seen_by,
    select_visible_submissions,
    unit_may_see,
    visible_unit_ids,
    visible_units,
)
from app.alerts.service import is_urgent, urgent_labels, waiting_urgent_ids
from app.concerns.service import secondary_checks, speaks_also_to
from app.core.errors import Invalid
from app.core.time import local_midnight, parse_day, today_local
from app.deadlines.service import DueLabel, due_label
from app.dispatch.marks import MARKS, mark_condition, row_marks
from app.models import (
    OPEN_STATUSES,
    AdminRole,
    AdminUser,
    Channel,
    ConcernGroup,
    ConcernMember,
    DialogueState,
    Reply,
    Role,
    Status,
    Submission,
    SubmissionFollowup,
    Unit,
)
from app.review.overview import Overview, OverviewCache
from app.review.service import assignable_users, may_assign
from app.workdays.service import add_working_days

PAGE_SIZE = 50
MAX_QUERY = 100
# The cursor is a row id only: a time in it would let anyone who edits the URL bisect a
# row's stored time (docs/threat-model.md, "Timing"); the row's place is looked up instead.
_CURSOR = re.compile(r"^[1-9]\d{0,11}$")
# The URL parameters the queue, its exports and the digest links understand, in this order.
PARAMS = (
    "unit", "check", "status", "state", "channel", "role", "anonymous", "from", "to", "q", "mine",
    "flag",
    "due",
    "group",
    "mark",
    "also",
)
# Where an item stands, as the statistics count it: answered (a reply, or 已答复/已办结),
# open (new, classified or forwarded, and no reply yet), overdue (open past the promised
# working days). "check=none" selects the items no check was given yet (待归类).
STATES = {"answered": "已答复", "open": "未答复", "overdue": "超期"}
# The dialogue's marks (app/dialogue): a sender message not read yet, reopened by 不满意.
FLAGS = {"unread": "有新留言", "reopened": "重办"}
# Open items by their promised answer day (submission.due_on): due today, due within
# SOON_WORKING_DAYS working days (today included), past it.
DUES = {"today": "今天到期", "soon": "即将到期", "overdue": "已超期"}
SOON_WORKING_DAYS = 2
# Sorting by due day puts items without one (none since migration 0014) last.
_NO_DUE = date(9999, 12, 31)


@dataclass(frozen=True)
class QueueFilter:
    """What the admin asked for; every field None means "any"."""

    unit: str | None = None
    check: int | None = None
    untagged: bool = False
    status: Status | None = None
    state: Literal["answered", "open", "overdue"] | None = None
    channel: Channel | None = None
    role: str | None = None
    anonymous: bool | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str | None = None
    mine: bool = False
    flag: Literal["unread", "reopened"] | None = None
    due: Literal["today", "soon", "overdue"] | None = None
    sort: Literal["new", "old", "due"] = "new"
    after: int | None = None  # the id of the last row of the page before
    group: int | None = None  # only the members of this similar-concern group (同类问题)
    mark: str | None = None  # only the items with this handling mark (app.dispatch.marks)
    also: int | None = None  # 兼涉: items of another primary check that speak to this one too

    def params(self, **changes: Any) -> dict[str, str]:
        """The filter as URL parameters (for links, exports and the next page)."""
        f = replace(self, **changes) if changes else self
        values: dict[str, str | None] = {
            "unit": f.unit,
            "check": "none" if f.untagged else (None if f.check is None else str(f.check)),
            "status": f.status.value if f.status else None,
            "state": f.state,
            "channel": f.channel.value if f.channel else None,
            "role": f.role,
            "anonymous": None if f.anonymous is None else ("1" if f.anonymous else "0"),
            "from": f.date_from.isoformat() if f.date_from else None,
            "to": f.date_to.isoformat() if f.date_to else None,
            "q": f.q,
            "mine": "1" if f.mine else None,
            "flag": f.flag,
            "due": f.due,
            "sort": None if f.sort == "new" else f.sort,
            "after": None if f.after is None else str(f.after),
            "group": None if f.group is None else str(f.group),
            "mark": f.mark,
            "also": None if f.also is None else str(f.also),
        }
        return {k: v for k, v in values.items() if v is not None}

    def query_string(self, **changes: Any) -> str:
        """params() as an encoded query string, without the leading '?'."""
        return urlencode(self.params(**changes))

    def next_page(self, cursor: int) -> str:
        """The query string of the page after the row with id `cursor`."""
        return self.query_string(after=cursor)

    @property
    def active(self) -> bool:
        return any(k not in ("sort", "after") for k in self.params())


@dataclass(frozen=True)
class QueueRow:
    id: int
    unit_name: str
    unit_slug: str
    channel: Channel
    role: str
    anonymous: bool
    name: str | None
    contact: str | None
    text: str
    check: int | None
    check_score: float | None
    evidence: list[str]
    status: Status
    assignee_id: int | None
    created_at: datetime
    due: DueLabel | None  # open items with a promised day


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_after: int | None
    # Row id -> how many times its sender wrote back (email follow-ups): a reply may be owed.
    followups: dict[int, int] = field(default_factory=dict)
    unread: set[int] = field(default_factory=set)  # rows with a sender message not read yet
    reopened: set[int] = field(default_factory=set)  # rows reopened by 不满意 (重办)
    # Row id -> the urgent categories (紧急) of the rows pinned at the top of the first page.
    urgent: dict[int, list[str]] = field(default_factory=dict)
    # Row id -> (its group, the group's members this admin sees), for rows in a group.
    groups: dict[int, tuple[int, int]] = field(default_factory=dict)
    marks: dict[int, list[str]] = field(default_factory=dict)  # row id -> handling marks
    # Row id -> its secondary checks (兼涉), in rank order, for rows that have any.
    secondary: dict[int, list[int]] = field(default_factory=dict)


def decode_cursor(value: str) -> int:
    """The next page's cursor: the id of the last row shown; Invalid for anything else."""
    if not _CURSOR.match(value):
        raise Invalid("翻页参数不正确，请从第一页重新浏览。", field="after")
    return int(value)


def parse_evidence(raw: str | None) -> list[str]:
    """The tagger's evidence phrases; tolerant of rows written before the format settled."""
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def parse_filter(params: Mapping[str, str]) -> QueueFilter:
    """Read the queue's URL parameters; empty values mean "any", bad ones raise Invalid."""
    p = {k: v.strip() for k, v in params.items() if isinstance(v, str) and v.strip()}
    check = None
    if "check" in p and p["check"] != "none":
        if p["check"] not in {"0", "1", "2", "3", "4", "5"}:
            raise Invalid("五查类别只能是 0 到 5，或 none（待归类）。", field="check")
        check = int(p["check"])
    state = p.get("state")
    if state is not None and state not in STATES:
        raise Invalid("办理进度只能是 answered、open 或 overdue。", field="state")
    status = None
    if "status" in p:
        if p["status"] not in {s.value for s in Status}:
            raise Invalid("没有这个办理状态。", field="status")
        status = Status(p["status"])
    channel = None
    if "channel" in p:
        if p["channel"] not in {c.value for c in Channel}:
            raise Invalid("没有这个来源渠道。", field="channel")
        channel = Channel(p["channel"])
    if "role" in p and p["role"] not in {r.value for r in Role}:
        raise Invalid("没有这个身份。", field="role")
    anonymous = None
    if "anonymous" in p:
        if p["anonymous"] not in {"0", "1"}:
            raise Invalid("匿名筛选只能是 1（匿名）或 0（实名）。", field="anonymous")
        anonymous = p["anonymous"] == "1"
    date_from = parse_day(p["from"], field="from") if "from" in p else None
    date_to = parse_day(p["to"], field="to") if "to" in p else None
    if date_from and date_to and date_from > date_to:
        raise Invalid("开始日期不能晚于结束日期。", field="from")
    q = p.get("q")
    if q is not None and len(q) > MAX_QUERY:
        raise Invalid(f"搜索词不能超过 {MAX_QUERY} 字。", field="q")
    flag = p.get("flag")
    if flag is not None and flag not in FLAGS:
        raise Invalid("标记只能是 unread（有新留言）或 reopened（重办）。", field="flag")
    sort = p.get("sort", "new")
    if sort not in ("new", "old", "due"):
        raise Invalid(
            "排序只能是 new（最新在前）、old（最早在前）或 due（最先到期在前）。", field="sort"
        )
    due = p.get("due")
    if due is not None and due not in DUES:
        raise Invalid("到期筛选只能是 today、soon 或 overdue。", field="due")
    if "group" in p and not _CURSOR.match(p["group"]):
        raise Invalid("同类问题编号不正确。", field="group")
    if "mark" in p and p["mark"] not in MARKS:
        raise Invalid(f"标记只能是 {'、'.join(MARKS)} 之一。", field="mark")
    if "unit" in p and len(p["unit"]) > 64:
        raise Invalid("没有这个单位。", field="unit")
    if "also" in p and p["also"] not in {"1", "2", "3", "4", "5"}:
        raise Invalid("兼涉类别只能是 1 到 5。", field="also")
    return QueueFilter(
        unit=p.get("unit"),
        check=check,
        untagged=p.get("check") == "none",
        status=status,
        state=cast(Literal["answered", "open", "overdue"] | None, state),
        channel=channel,
        role=p.get("role"),
        anonymous=anonymous,
        date_from=date_from,
        date_to=date_to,
        q=q,
        mine=p.get("mine") == "1",
        flag=cast(Literal["unread", "reopened"] | None, flag),
        due=cast(Literal["today", "soon", "overdue"] | None, due),
        sort=cast(Literal["new", "old", "due"], sort),
        after=decode_cursor(p["after"]) if "after" in p else None,
        group=int(p["group"]) if "group" in p else None,
        mark=p.get("mark"),
        also=int(p["also"]) if "also" in p else None,
    )


_Query = Select[Submission, str, str]


def _filtered(session: Session, *, user: AdminUser, f: QueueFilter) -> _Query:
    """Submissions (with their unit) that this admin may see and the filter selects."""
    query = (
        select_visible_submissions(session, user=user)
        .join(Unit, col(Unit.id) == col(Submission.unit_id))
        .add_columns(col(Unit.name), col(Unit.slug))
    )
    if f.unit is not None:
        unit = next((u for u in visible_units(session, user=user) if u.slug == f.unit), None)
        if unit is None:
            raise Invalid("没有这个单位，或您无权查看它的意见。", field="unit")
        # Looked up first: a unit the admin may not see is an error, not an empty page.
        query = query.where(col(Submission.unit_id) == unit.id)
    if f.check is not None:
        query = query.where(col(Submission.check) == f.check)
    if f.untagged:
        query = query.where(col(Submission.check).is_(None))
    if f.status is not None:
        query = query.where(col(Submission.status) == f.status.value)
    if f.state is not None:
        query = query.where(_in_state(f.state, today=today_local()))
    if f.channel is not None:
        query = query.where(col(Submission.channel) == f.channel.value)
    if f.role is not None:
        query = query.where(col(Submission.role) == f.role)
    if f.anonymous is not None:
        query = query.where(col(Submission.anonymous) == f.anonymous)
    if f.date_from is not None:
        query = query.where(col(Submission.created_at) >= local_midnight(f.date_from))
    if f.date_to is not None:
        # Inclusive: everything before the following local midnight.
        end = local_midnight(f.date_to + timedelta(days=1))
        query = query.where(col(Submission.created_at) < end)
    if f.q is not None:
        # A substring scan, linear in the rows the other filters leave. SQLite's LIKE already
        # ignores ASCII case; lower() on every row would only slow it down. PostgreSQL: ILIKE.
        # A unit searches only the masked copy of a forwarded item, never its original.
        text: ColumnElement[str] = (
            cast(ColumnElement[str], col(Submission.text))
            if user.role == AdminRole.bureau_admin
            else func.coalesce(col(Submission.masked_text), col(Submission.text))
        )
        if session.get_bind().dialect.name == "sqlite":
            query = query.where(text.contains(f.q, autoescape=True))
        else:
            query = query.where(text.icontains(f.q, autoescape=True))
    if f.mine:
        query = query.where(col(Submission.assignee_id) == user.id)
    if f.flag is not None:
        reopened = col(DialogueState.reopened) > 0
        marked = col(DialogueState.unread) if f.flag == "unread" else reopened
        query = query.where(
            exists().where(col(DialogueState.submission_id) == col(Submission.id), marked)
        )
    if f.due is not None:
        query = query.where(_due(f.due, today=today_local()))
    if f.group is not None:
        query = query.where(
            exists().where(
                col(ConcernMember.submission_id) == col(Submission.id),
                col(ConcernMember.group_id) == f.group,
            )
        )
    if f.mark is not None:
        query = query.where(mark_condition(session, user=user, mark=f.mark, today=today_local()))
    if f.also is not None:
        query = query.where(speaks_also_to(f.also))
    return query


# Only these leave a group folded into its lead's row: any other filter shows each item it
# selects, so no item hides behind a lead the filter leaves out.
_FOLDING = {"unit", "sort", "after"}


def _folded(session: Session, query: _Query, *, user: AdminUser, f: QueueFilter) -> _Query:
    """The queue page shows each group as its lead's row, when the lead is in a unit shown
    (otherwise each member shows)."""
    if set(f.params()) - _FOLDING:
        return query
    shown = visible_units(session, user=user)
    lead_units = [u.id for u in shown if u.id is not None and f.unit in (None, u.slug)]
    lead = aliased(Submission)
    led_by_another = exists().where(
        col(ConcernMember.submission_id) == col(Submission.id),
        col(ConcernGroup.id) == col(ConcernMember.group_id),
        col(ConcernGroup.lead_submission_id) != col(Submission.id),
        col(lead.id) == col(ConcernGroup.lead_submission_id),
        col(lead.unit_id).in_(lead_units),
    )
    return query.where(~led_by_another)


def _group_sizes(
    session: Session, *, user: AdminUser, ids: list[int]
) -> dict[int, tuple[int, int]]:
    """Row id -> (group id, members in units this admin sees) for the rows in a group."""
    of_rows = dict(
        session.execute(
            select(col(ConcernMember.submission_id), col(ConcernMember.group_id)).where(
                col(ConcernMember.submission_id).in_(ids),
                col(ConcernMember.group_id).is_not(None),
            )
        ).all()
    )
    sizes = dict(
        session.execute(
            select(col(ConcernMember.group_id), func.count())
            .join(Submission, col(Submission.id) == col(ConcernMember.submission_id))
            .where(
                col(ConcernMember.group_id).in_(set(of_rows.values())),
                col(Submission.unit_id).in_(visible_unit_ids(session, user=user)),
                unit_may_see(user=user),
            )
            .group_by(col(ConcernMember.group_id))
        ).all()
    )
    return {sid: (gid, sizes.get(gid, 1)) for sid, gid in of_rows.items()}


def _due(due: str, *, today: date) -> Any:
    """The condition for open items due today, soon or overdue (see DUES)."""
    day = col(Submission.due_on)
    still_open = col(Submission.status).in_(OPEN_STATUSES)
    if due == "today":
        return and_(still_open, day == today)
    if due == "soon":
        last = add_working_days(today, SOON_WORKING_DAYS - 1)
        return and_(still_open, day >= today, day <= last)
    return and_(still_open, day < today)


def _in_state(state: str, *, today: date) -> Any:
    """The condition for items in `state` (see STATES), as the statistics page counts."""
    status = col(Submission.status)
    replied = exists().where(col(Reply.submission_id) == col(Submission.id))
    answered = or_(status.in_((Status.replied.value, Status.closed.value)), replied)
    if state == "answered":
        return answered
    still_open = and_(status.in_(OPEN_STATUSES), ~replied)
    if state == "open":
        return still_open
    return and_(still_open, col(Submission.due_on) < today)


def _sort_key(f: QueueFilter) -> Any:
    if f.sort == "due":
        return func.coalesce(col(Submission.due_on), _NO_DUE)
    return col(Submission.created_at)


def _key_of(sub: Submission, f: QueueFilter) -> Any:
    return (sub.due_on or _NO_DUE) if f.sort == "due" else sub.created_at


def _ordered(query: _Query, f: QueueFilter, after: tuple[Any, int] | None) -> _Query:
    key, ident = _sort_key(f), col(Submission.id)
    if after is not None:
        at, last_id = after
        if f.sort == "new":
            query = query.where(or_(key < at, and_(key == at, ident < last_id)))
        else:
            query = query.where(or_(key > at, and_(key == at, ident > last_id)))
    if f.sort == "new":
        return query.order_by(key.desc(), ident.desc())
    return query.order_by(key.asc(), ident.asc())


def _row(
    sub: Submission, unit_name: str, unit_slug: str, today: date, user: AdminUser
) -> QueueRow:
    sub = as_seen_by(sub, user=user)
    assert sub.id is not None
    return QueueRow(
        id=sub.id,
        unit_name=unit_name,
        unit_slug=unit_slug,
        channel=Channel(sub.channel),
        role=sub.role,
        anonymous=sub.anonymous,
        name=None if sub.anonymous else sub.name,
        contact=None if sub.anonymous else sub.contact,
        text=sub.text,
        check=sub.check,
        check_score=sub.check_score,
        evidence=parse_evidence(sub.check_evidence),
        status=Status(sub.status),
        assignee_id=sub.assignee_id,
        created_at=sub.created_at,
        due=due_label(due_on=sub.due_on, today=today)
        if sub.due_on is not None and sub.status in OPEN_STATUSES
        else None,
    )


def _position(
    session: Session, *, user: AdminUser, row: int, f: QueueFilter
) -> tuple[Any, int]:
    """Where a page cursor's row stands in the order; Invalid unless this admin sees it."""
    at = session.execute(
        select_visible_submissions(session, user=user)
        .with_only_columns(_sort_key(f))
        .where(col(Submission.id) == row)
    ).scalar_one_or_none()
    if at is None:
        raise Invalid("翻页参数不正确，请从第一页重新浏览。", field="after")
    return at, row


def queue_page(
    session: Session, *, user: AdminUser, filters: QueueFilter, size: int = PAGE_SIZE
) -> QueuePage:
    """One page of the queue after filters.after, and the cursor of the next page."""
    after = (
        None
        if filters.after is None
        else _position(session, user=user, row=filters.after, f=filters)
    )
    filtered = _folded(session, _filtered(session, user=user, f=filters), user=user, f=filters)
    today = today_local()
    # Urgent items stand above every page's order on the first page, and only there.
    pinned = []
    urgent_ids = waiting_urgent_ids(session) if after is None else []
    if urgent_ids:
        top = _ordered(filtered.where(col(Submission.id).in_(urgent_ids)), filters, None)
        pinned = [
            _row(sub, name, slug, today, user)
            for sub, name, slug in session.execute(top.limit(size)).all()
        ]
    query = _ordered(filtered.where(~is_urgent()), filters, after)
    found = session.execute(query.limit(size + 1)).all()
    rows = [_row(sub, name, slug, today, user) for sub, name, slug in found[:size]]
    more = len(found) > size
    last = rows[-1] if rows else None
    followups = session.execute(
        select(col(SubmissionFollowup.submission_id), func.count())
        .where(col(SubmissionFollowup.submission_id).in_([r.id for r in pinned + rows]))
        .group_by(col(SubmissionFollowup.submission_id))
    ).all()
    marks = session.scalars(
        select(DialogueState).where(
            col(DialogueState.submission_id).in_([r.id for r in pinned + rows])
        )
    ).all()
    return QueuePage(
        rows=pinned + rows,
        next_after=last.id if more and last else None,
        followups={sid: n for sid, n in followups},
        unread={m.submission_id for m in marks if m.unread},
        reopened={m.submission_id for m in marks if m.reopened},
        urgent=urgent_labels(session, submission_ids=[r.id for r in pinned]),
        groups=_group_sizes(session, user=user, ids=[r.id for r in pinned + rows]),
        marks=row_marks(session, user=user, ids=[r.id for r in pinned + rows], today=today),
        secondary=secondary_checks(session, submission_ids=[r.id for r in pinned + rows]),
    )


def iter_queue(
    session: Session, *, user: AdminUser, filters: QueueFilter, batch: int = 1000
) -> Iterator[QueueRow]:
    """Every row the filter selects, in its order, fetched in keyset batches."""
    base = _filtered(session, user=user, f=filters)
    after: tuple[Any, int] | None = None
    today = today_local()
    while True:
        found = session.execute(_ordered(base, filters, after).limit(batch)).all()
        for sub, name, slug in found:
            yield _row(sub, name, slug, today, user)
        if len(found) < batch:
            return
        last = found[-1][0]
        after = (_key_of(last, filters), last.id)


@dataclass(frozen=True)
class QueueView:
    units: list[Unit]  # the units this admin may see, by name
    page: QueuePage
    overview: Overview  # counts over all of those units, not only the page
    assignees: list[AdminUser]  # whom this admin may forward items to (none: a reviewer)


def load_queue(
    session: Session, *, user: AdminUser, filters: QueueFilter, counts: OverviewCache
) -> QueueView:
    """Everything the queue page shows: one page of items, the counts and the bulk choices."""
    units = visible_units(session, user=user)
    unit_ids = [u.id for u in units if u.id is not None]
    return QueueView(
        units=units,
        page=queue_page(session, user=user, filters=filters),
        overview=counts.get(
            session, unit_ids=unit_ids, bureau_items=user.role == AdminRole.bureau_admin
        ),
        assignees=assignable_users(session, unit_ids=unit_ids) if may_assign(user) else [],
    )

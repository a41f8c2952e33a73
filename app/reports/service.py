"""The written reports the campaign plan asks for, drafted from the data for the office to edit.

征求意见情况汇总 (summary), 自查报告 (selfcheck), 整改报告 (rectification) and 献良策汇总 (ideas),
for one unit or a whole bureau and a period. Counts come from stats.summarize, so the reports
say what the stats page says. Opinions are quoted by their text only: never a sender's name,
contact, role or time, and the sender's own name or contact written into the text is masked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import func, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from app.audit.service import record_audit
from app.campaign.evaluation import evaluation_results
from app.campaign.measures import list_measures
from app.campaign.roster import compliance_rows
from app.core.errors import Invalid, NotFound
from app.core.time import local_midnight, today_local
from app.documents.docx import official_docx
from app.documents.official import (
    Block,
    Heading,
    OfficialDocument,
    Paragraph,
    Placeholder,
    Table,
    chinese_number,
)
from app.documents.report_pdf import official_pdf
from app.models import (
    CHECK_NAMES,
    MEASURE_STATUS_LABELS,
    MEETING_LABELS,
    PHASE_LABELS,
    UNTAGGED_LABEL,
    Bureau,
    CampaignPhase,
    Kind,
    MeasureStatus,
    MeasureSubmission,
    Meeting,
    MeetingKind,
    MeetingSubmission,
    PhaseKind,
    Rating,
    RosterPerson,
    RosterSubmission,
    Status,
    Submission,
    Unit,
)
from app.stats.service import Period, Summary, current_campaign, summarize
from app.stats.store import ItemStore

CHECKS = (1, 2, 3, 4, 5)
REPRESENTATIVE = 3  # opinions quoted per check in the summary
PROBLEMS_LISTED = 10  # problems listed per check in the self-check
QUOTE_CHARS = 80
NUMBERS = "一二三四五六七八九十"
CAUSE_PLACEHOLDER = "【原因分析：请填写】"
# Quoted text never shows these, whoever wrote them: phone numbers, e-mail addresses, ID numbers.
_IDENTIFIERS = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\d{17}[\dXx]"
    r"|(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)"
    r"|(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)"
)
MASK = "×××"


class ReportKind(StrEnum):
    summary = "summary"
    selfcheck = "selfcheck"
    rectification = "rectification"
    ideas = "ideas"


REPORT_LABELS: dict[ReportKind, str] = {
    ReportKind.summary: "征求意见情况汇总",
    ReportKind.selfcheck: "自查报告",
    ReportKind.rectification: "整改报告",
    ReportKind.ideas: "献良策汇总",
}


class ReportFormat(StrEnum):
    docx = "docx"
    pdf = "pdf"


MEDIA_TYPES: dict[ReportFormat, str] = {
    ReportFormat.docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ReportFormat.pdf: "application/pdf",
}


@dataclass(frozen=True)
class ReportScope:
    """One unit, or every unit of a bureau (is_bureau)."""

    name: str
    slug: str
    bureau_id: int
    bureau_name: str
    unit_ids: tuple[int, ...]
    is_bureau: bool = False


@dataclass(frozen=True)
class _Quote:
    text: str
    same: int  # other items marked as duplicates of this one


def parse_kind(value: str) -> ReportKind:
    """A report kind from its name; Invalid otherwise."""
    try:
        return ReportKind(value)
    except ValueError:
        choices = "、".join(k.value for k in ReportKind)
        raise Invalid(f"没有这种报告：{value}（可选 {choices}）。", field="kind") from None


def parse_format(value: str) -> ReportFormat:
    """docx or pdf; Invalid otherwise."""
    try:
        return ReportFormat(value)
    except ValueError:
        raise Invalid(f"不支持的格式：{value}（可选 docx、pdf）。", field="format") from None


def report_scope(
    session: Session, *, units: Sequence[Unit], slug: str | None, bureau: bool
) -> ReportScope:
    """The scope among `units` (those the caller may see): the unit `slug`, or with `bureau`
    every one of them in that unit's bureau (the first unit's bureau without a slug)."""
    chosen = next((u for u in units if slug and u.slug == slug.strip()), None)
    if chosen is None and (slug or not bureau or not units):
        raise NotFound("没有找到这个单位，或您无权查看。", field="unit")
    unit = chosen or units[0]
    assert unit.id is not None
    owner = session.get(Bureau, unit.bureau_id)
    if owner is None:
        raise NotFound("没有找到这个教育局。")
    if not bureau:
        return ReportScope(unit.name, unit.slug, unit.bureau_id, owner.name, (unit.id,))
    ids = tuple(u.id for u in units if u.bureau_id == unit.bureau_id and u.id is not None)
    return ReportScope(owner.name, "bureau", unit.bureau_id, owner.name, ids, is_bureau=True)


def _day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _period_text(period: Period) -> str:
    return f"{_day(period.start)}至{_day(period.end)}"


def _share(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else "—"


def quote(
    text: str,
    *,
    name: str | None = None,
    contact: str | None = None,
    limit: int | None = QUOTE_CHARS,
) -> str:
    """An opinion's text fit to quote: one line, identifiers masked, at most `limit` chars."""
    flat = " ".join(text.split())
    for own in (name, contact):
        if own and own.strip():
            flat = flat.replace(own.strip(), MASK)
    flat = _IDENTIFIERS.sub(MASK, flat)
    return flat if limit is None or len(flat) <= limit else flat[: limit - 1] + "…"


def _where(scope: ReportScope, period: Period) -> list[ColumnElement[bool]]:
    return [
        col(Submission.unit_id).in_(scope.unit_ids),
        col(Submission.created_at) >= local_midnight(period.start),
        col(Submission.created_at) < local_midnight(period.end + timedelta(days=1)),
        # A school's report quotes no item of the bureau's (局长信箱), not even a masked one.
        true() if scope.is_bureau else col(Submission.to_bureau).is_(False),
    ]


def _quotes(
    session: Session, scope: ReportScope, period: Period, *, check: int, limit: int
) -> list[_Quote]:
    """The valid items on one check that stand for the others: the most repeated first."""
    same = (
        select(col(Submission.duplicate_of).label("of"), func.count().label("n"))
        .where(col(Submission.duplicate_of).is_not(None))
        .group_by(col(Submission.duplicate_of))
        .subquery()
    )
    repeats = func.coalesce(same.c.n, 0)
    rows = session.execute(
        select(Submission.text, Submission.name, Submission.contact, repeats)
        .outerjoin(same, same.c.of == Submission.id)
        .where(
            *_where(scope, period),
            col(Submission.check) == check,
            col(Submission.status).not_in([Status.invalid.value, Status.duplicate.value]),
        )
        .order_by(repeats.desc(), col(Submission.created_at), col(Submission.id))
        .limit(limit)
    ).all()
    return [_Quote(quote(t, name=n, contact=c), int(k)) for t, n, c, k in rows]


def _quote_lines(quotes: Sequence[_Quote]) -> list[Block]:
    return [
        Paragraph(f"{n}. “{q.text}”" + (f"（同类意见另有{q.same}条）" if q.same else ""))
        for n, q in enumerate(quotes, 1)
    ]


def _check_table(summary: Summary) -> Table:
    total = summary.totals.received
    return Table(
        ("类别", "条数", "占比"),
        tuple((r.label, str(r.received), _share(r.received, total)) for r in summary.by_check),
    )


def _units_table(summary: Summary) -> Table:
    return Table(
        ("单位", "收到", "已答复", "其中已办结", "办理中", "超期未答复"),
        tuple(
            (r.label, str(r.received), str(r.answered), str(r.closed), str(r.open), str(r.overdue))
            for r in summary.by_unit
        ),
    )


def _campaign_title(session: Session, scope: ReportScope) -> str:
    campaign = current_campaign(session, bureau_id=scope.bureau_id)
    return campaign.title if campaign else ""


def _meetings(session: Session, scope: ReportScope, period: Period) -> list[Block]:
    recorded = (
        select(MeetingSubmission.meeting_id, func.count().label("n"))
        .group_by(col(MeetingSubmission.meeting_id))
        .subquery()
    )
    rows = session.execute(
        select(Meeting, Unit.name, func.coalesce(recorded.c.n, 0))
        .join(Unit, col(Unit.id) == Meeting.unit_id)
        .outerjoin(recorded, recorded.c.meeting_id == Meeting.id)
        .where(
            col(Meeting.unit_id).in_(scope.unit_ids),
            col(Meeting.held_on) >= period.start,
            col(Meeting.held_on) <= period.end,
        )
        .order_by(col(Meeting.held_on), col(Meeting.id))
    ).all()
    if not rows:
        return [Paragraph("本时段没有登记召开座谈会、民主生活会等会议。")]
    people = sum(m.attendees for m, _u, _n in rows)
    noted = sum(int(n) for _m, _u, n in rows)
    headers: tuple[str, ...] = ("日期", "会议", "参加人数", "记录意见")
    if scope.is_bureau:
        headers = ("日期", "单位", "会议", "参加人数", "记录意见")
    table_rows = []
    for meeting, unit_name, n in rows:
        cells = [
            _day(meeting.held_on),
            MEETING_LABELS[MeetingKind(meeting.kind)],
            str(meeting.attendees),
            str(int(n)),
        ]
        if scope.is_bureau:
            cells.insert(1, unit_name)
        table_rows.append(tuple(cells))
    return [
        Paragraph(
            f"本时段共召开座谈会、民主生活会等会议{len(rows)}场，参加{people}人次，"
            f"会上记录意见建议{noted}条。"
        ),
        Table(headers, tuple(table_rows)),
    ]


def _summary_blocks(
    session: Session, scope: ReportScope, period: Period, summary: Summary, campaign: str
) -> list[Block]:
    total = summary.totals
    where = "各单位" if scope.is_bureau else "本单位"
    blocks: list[Block] = [
        Paragraph(
            f"按照{scope.bureau_name}{campaign}的统一部署，{scope.name}于{_period_text(period)}"
            f"广泛征求对{where}工作的意见和建议，共收到意见建议{total.received}条。"
            "现将有关情况汇总报告如下。"
        ),
        Heading("一、征求意见的基本情况"),
    ]
    channels = [r for r in summary.by_channel if r.received]
    if channels:
        said = "，".join(f"通过{r.label}收到{r.received}条" for r in channels)
        blocks.append(Paragraph(f"{_period_text(period)}，{said}。"))
    blocks.append(
        Table(
            ("渠道", "条数", "占比"),
            tuple(
                (r.label, str(r.received), _share(r.received, total.received))
                for r in summary.by_channel
            ),
        )
    )
    blocks += _meetings(session, scope, period)
    blocks += [
        Heading("二、意见建议的分类情况"),
        Paragraph("按“五查五看”分类，各方面意见建议的数量如下：", indent=True),
        _check_table(summary),
        Paragraph("按提出人身份统计如下：", indent=True),
        Table(
            ("身份", "条数", "占比"),
            tuple(
                (r.label, str(r.received), _share(r.received, total.received))
                for r in summary.by_role
                if r.received
            ),
        ),
    ]
    if scope.is_bureau:
        blocks += [Paragraph("各单位收到和办理情况如下：", indent=True), _units_table(summary)]
    blocks.append(Heading("三、反映的主要问题"))
    rows = {r.key: r for r in summary.by_check}
    for n, check in enumerate(CHECKS, 1):
        count = rows[str(check)].received
        blocks.append(
            Heading(f"（{chinese_number(n)}）{CHECK_NAMES[check]}方面（{count}条）", level=2)
        )
        quotes = _quotes(session, scope, period, check=check, limit=REPRESENTATIVE)
        if quotes:
            blocks.append(Paragraph("代表性意见："))
            blocks += _quote_lines(quotes)
        else:
            blocks.append(Paragraph("本时段未收到这方面的意见建议。"))
    other = total.received - total.answered - total.open
    handling = (
        f"截至{_day(summary.today or today_local())}，{total.received}条意见建议中，"
        f"已答复{total.answered}条（其中已办结{total.closed}条），正在办理{total.open}条"
        f"（其中超过答复时限{total.overdue}条），无效或重复{other}条。"
    )
    if summary.on_time_rate is not None:
        handling += f"按期答复率{summary.on_time_rate * 100:.1f}%。"
    blocks += [
        Heading("四、办理情况"),
        Paragraph(handling),
        Heading("五、下一步工作"),
        Placeholder("【下一步工作打算：请填写】"),
    ]
    return blocks


def _selfcheck_blocks(
    session: Session, scope: ReportScope, period: Period, summary: Summary, campaign: str
) -> list[Block]:
    total = summary.totals.received
    blocks: list[Block] = [
        Paragraph(
            f"按照{scope.bureau_name}{campaign}“五查五看”的要求，{scope.name}对照"
            f"{_period_text(period)}征求到的意见建议{total}条，逐条梳理、分类查摆，"
            "现将自查情况报告如下。"
        )
    ]
    rows = {r.key: r for r in summary.by_check}
    for n, check in enumerate(CHECKS, 1):
        row = rows[str(check)]
        blocks += [
            Heading(f"{chinese_number(n)}、{CHECK_NAMES[check]}方面的差距"),
            Paragraph(
                f"本时段收到涉及{CHECK_NAMES[check]}方面的意见建议{row.received}条，"
                f"占全部意见的{_share(row.received, total)}；其中已答复{row.answered}条"
                f"（已办结{row.closed}条），正在办理{row.open}条。"
            ),
            Heading("（一）查找出的问题", level=2),
        ]
        problems = _quotes(session, scope, period, check=check, limit=PROBLEMS_LISTED)
        blocks += _quote_lines(problems) or [Paragraph("本时段未收到这方面的意见建议。")]
        if row.received > len(problems):
            blocks.append(
                Paragraph(f"另有{row.received - len(problems)}条（含重复、无效），详见意见台账。")
            )
        blocks += [
            Heading("（二）原因分析", level=2),
            Placeholder(CAUSE_PLACEHOLDER),
            Heading("（三）整改方向", level=2),
            Placeholder("【整改方向：请填写】"),
        ]
    untagged = sum(r.received for r in summary.by_check if r.key not in {str(c) for c in CHECKS})
    blocks += [
        Heading(f"{chinese_number(len(CHECKS) + 1)}、其他情况"),
        Paragraph(f"另有不属于“五查五看”或尚待归类的意见{untagged}条，已在意见台账中逐条登记。"),
    ]
    return blocks


def _rectification_blocks(
    session: Session, scope: ReportScope, period: Period, campaign: str
) -> list[Block]:
    measures = list(reversed(list_measures(session, unit_ids=scope.unit_ids)))
    by_status = {s: sum(1 for m in measures if m.status == s) for s in MeasureStatus}
    unit_names = {
        u.id: u.name for u in session.exec(select(Unit).where(col(Unit.id).in_(scope.unit_ids)))
    }
    blocks: list[Block] = [
        Paragraph(
            f"按照{scope.bureau_name}{campaign}的部署，{scope.name}针对自查、座谈讨论和征求意见中"
            "查找出的问题，逐项制定整改措施、明确责任和时限。现将整改情况报告如下。"
        ),
        Heading("一、整改措施总体情况"),
        Paragraph(
            f"共制定整改措施{len(measures)}项，其中已完成{by_status[MeasureStatus.done]}项、"
            f"进行中{by_status[MeasureStatus.doing]}项、未开始{by_status[MeasureStatus.todo]}项。"
        ),
    ]
    if measures:
        blocks.append(
            Table(
                (
                    "序号",
                    "整改措施",
                    *(("单位",) if scope.is_bureau else ()),
                    "类别",
                    "责任人",
                    "完成时限",
                    "进度",
                ),
                tuple(
                    (
                        str(n),
                        m.title,
                        *((unit_names.get(m.unit_id, ""),) if scope.is_bureau else ()),
                        CHECK_NAMES.get(m.check, "") if m.check else "",
                        m.owner or "未填写",
                        _day(m.deadline) if m.deadline else "未定",
                        f"{m.progress}%（{MEASURE_STATUS_LABELS[MeasureStatus(m.status)]}）",
                    )
                    for n, m in enumerate(measures, 1)
                ),
            )
        )
        blocks.append(Heading("二、各项措施及回应的意见建议"))
    answered = _answered(session, [m.id for m in measures if m.id is not None])
    for n, m in enumerate(measures, 1):
        blocks.append(Heading(f"（{chinese_number(n)}）{m.title}", level=2))
        if m.description.strip():
            blocks.append(Paragraph(" ".join(m.description.split())))
        blocks.append(
            Paragraph(
                f"责任人：{m.owner or '未填写'}；完成时限："
                f"{_day(m.deadline) if m.deadline else '未定'}；目前进度{m.progress}%"
                f"（{MEASURE_STATUS_LABELS[MeasureStatus(m.status)]}）。"
            )
        )
        quotes = answered.get(m.id or 0, [])
        if quotes:
            blocks.append(Paragraph(f"回应的意见建议（{len(quotes)}条）："))
            blocks += _quote_lines(quotes)
    blocks += _evaluation_blocks(session, scope, period, numbered=bool(measures))
    return blocks


def _answered(session: Session, measure_ids: list[int]) -> dict[int, list[_Quote]]:
    rows = session.execute(
        select(MeasureSubmission.measure_id, Submission.text, Submission.name, Submission.contact)
        .join(Submission, col(Submission.id) == MeasureSubmission.submission_id)
        .where(col(MeasureSubmission.measure_id).in_(measure_ids))
        .order_by(col(Submission.id))
    ).all()
    found: dict[int, list[_Quote]] = {}
    for measure_id, text, name, contact in rows:
        found.setdefault(measure_id, []).append(_Quote(quote(text, name=name, contact=contact), 0))
    return found


def _evaluation_blocks(
    session: Session, scope: ReportScope, period: Period, *, numbered: bool
) -> list[Block]:
    results = evaluation_results(
        session,
        unit_ids=scope.unit_ids,
        period=(local_midnight(period.start), local_midnight(period.end + timedelta(days=1))),
    )
    counts = {r: sum(u.counts[r] for u in results) for r in Rating}
    ratings = sum(counts.values())
    codes = sum(u.codes for u in results)
    used = sum(u.used for u in results)
    first = "三" if numbered else "二"
    blocks: list[Block] = [Heading(f"{first}、群众评议情况")]
    if not ratings:
        blocks.append(Paragraph(f"共发放评议码{codes}个，{_period_text(period)}尚未收到评议。"))
    else:
        good = counts[Rating.satisfied] + counts[Rating.basic]
        blocks.append(
            Paragraph(
                f"邀请家长和教师代表对整改情况进行评议，共发放评议码{codes}个，已使用{used}个。"
                f"{_period_text(period)}收到评议{ratings}人次，其中满意{counts[Rating.satisfied]}、"
                f"基本满意{counts[Rating.basic]}、不满意{counts[Rating.unsatisfied]}，"
                f"满意率{_share(good, ratings)}。"
            )
        )
        blocks.append(
            Table(
                ("整改措施", "满意", "基本满意", "不满意", "满意率"),
                tuple(
                    (
                        m.title,
                        str(m.counts[Rating.satisfied]),
                        str(m.counts[Rating.basic]),
                        str(m.counts[Rating.unsatisfied]),
                        _share(m.counts[Rating.satisfied] + m.counts[Rating.basic], m.total),
                    )
                    for u in results
                    for m in u.measures
                    if m.total
                ),
            )
        )
    blocks += [
        Heading(f"{'四' if numbered else '三'}、下一步工作"),
        Placeholder("【巩固整改成果、完善长效机制的打算：请填写】"),
    ]
    return blocks


def _ideas_blocks(session: Session, scope: ReportScope, period: Period) -> list[Block]:
    people = compliance_rows(session, unit_ids=scope.unit_ids)
    sent = sum(1 for p in people if p.ideas)
    ideas = session.execute(
        select(Submission.text, Submission.check, RosterPerson.name, RosterPerson.post)
        .join(RosterSubmission, col(RosterSubmission.submission_id) == Submission.id)
        .join(RosterPerson, col(RosterPerson.id) == RosterSubmission.person_id)
        .where(*_where(scope, period), col(Submission.kind) == Kind.idea.value)
        .order_by(col(Submission.created_at), col(Submission.id))
    ).all()
    blocks: list[Block] = [
        Paragraph(
            f"按照“我为教育发展献良策”活动“中层干部每人要提出1条以上建议”的要求，"
            f"{scope.name}{_period_text(period)}共收到中层干部建议{len(ideas)}条，"
            "现按“五查五看”分类汇总如下。"
        ),
        Heading("一、提交情况"),
        Paragraph(
            f"名单内中层干部共{len(people)}人，已提交建议{sent}人，未提交{len(people) - sent}人。"
        ),
    ]
    if people:
        blocks.append(
            Table(
                (*(("单位",) if scope.is_bureau else ()), "姓名", "职务", "建议条数", "状态"),
                tuple(
                    (
                        *((p.unit_name,) if scope.is_bureau else ()),
                        p.name,
                        p.post,
                        str(p.ideas),
                        "已提交" if p.ideas else "未提交",
                    )
                    for p in people
                ),
            )
        )
    blocks.append(Heading("二、建议内容"))
    groups: dict[int | None, list[tuple[str, str, str]]] = {}
    for text, check, name, post in ideas:
        groups.setdefault(check, []).append((text, name, post))
    order: list[int | None] = [*CHECKS, 0, None]
    n = 0
    for check in order:
        if check not in groups:
            continue
        n += 1
        label = CHECK_NAMES[check] if check is not None else UNTAGGED_LABEL
        blocks.append(Heading(f"（{chinese_number(n)}）{label}（{len(groups[check])}条）", level=2))
        for k, (text, name, post) in enumerate(groups[check], 1):
            who = f"{name}，{post}" if post else name
            blocks.append(Paragraph(f"{k}. {quote(text, limit=None)}（{who}）"))
    if not ideas:
        blocks.append(Paragraph("本时段尚未收到建议。"))
    return blocks


_TITLES: dict[ReportKind, str] = {
    ReportKind.summary: "{name}关于{campaign}征求意见情况的汇总报告",
    ReportKind.selfcheck: "{name}关于{campaign}“五查五看”的自查报告",
    ReportKind.rectification: "{name}关于{campaign}整改情况的报告",
    ReportKind.ideas: "{name}关于“我为教育发展献良策”活动建议的汇总报告",
}


def build_report(
    session: Session,
    *,
    kind: ReportKind,
    scope: ReportScope,
    period: Period,
    today: date | None = None,
    store: ItemStore | None = None,
) -> OfficialDocument:
    """The report's content for this scope and period, ready to set as Word or PDF (counted
    from the process's ItemStore when given)."""
    today = today or today_local()
    campaign = _campaign_title(session, scope)
    if kind == ReportKind.summary or kind == ReportKind.selfcheck:
        summary = summarize(
            session,
            unit_ids=scope.unit_ids,
            period=period,
            today=today,
            bureau_items=scope.is_bureau,
            store=store,
        )
        build = _summary_blocks if kind == ReportKind.summary else _selfcheck_blocks
        blocks = build(session, scope, period, summary, campaign)
    elif kind == ReportKind.rectification:
        blocks = _rectification_blocks(session, scope, period, campaign)
    else:
        blocks = _ideas_blocks(session, scope, period)
    addressee = None if scope.is_bureau else f"{scope.bureau_name}活动办公室"
    return OfficialDocument(
        title=_TITLES[kind].format(name=scope.name, campaign=campaign),
        addressee=addressee,
        blocks=tuple(blocks),
        issuer=scope.name,
        issued_on=today,
    )


def report_for_download(
    session: Session,
    *,
    actor_id: int | None,
    kind: ReportKind,
    scope: ReportScope,
    period: Period,
    fmt: ReportFormat,
    store: ItemStore | None = None,
) -> OfficialDocument:
    """build_report for an admin's download, with an audit entry for it."""
    document = build_report(session, kind=kind, scope=scope, period=period, store=store)
    record_audit(
        session,
        actor_id=actor_id,
        action="report.download",
        unit_id=None if scope.is_bureau else scope.unit_ids[0],
        detail={
            "kind": kind.value,
            "format": fmt.value,
            "scope": scope.slug,
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
        },
    )
    return document


def render_report(document: OfficialDocument, *, fmt: ReportFormat) -> bytes:
    """The file: a Word draft to edit, or a PDF to print."""
    return official_docx(document) if fmt == ReportFormat.docx else official_pdf(document)


def report_filename(
    *, kind: ReportKind, scope: ReportScope, period: Period, fmt: ReportFormat
) -> str:
    """An ASCII file name: report kind, scope and dates."""
    return f"{kind.value}-{scope.slug}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.{fmt.value}"


# What the digest attaches when a campaign phase ends: the opinions gathered so far, and at
# the end of the rectification phase the rectification report.
PHASE_REPORTS: dict[PhaseKind, ReportKind] = {
    PhaseKind.mobilize: ReportKind.summary,
    PhaseKind.solicit: ReportKind.summary,
    PhaseKind.rectify: ReportKind.rectification,
}


@dataclass(frozen=True)
class PhaseReport:
    key: str  # stable per campaign phase: what the digest records as attached
    kind: ReportKind
    phase_label: str
    period: Period

    @property
    def filename(self) -> str:
        return (
            f"{REPORT_LABELS[self.kind]}-{self.phase_label}-"
            f"{self.period.start:%Y%m%d}-{self.period.end:%Y%m%d}.docx"
        )


def phases_ending(
    session: Session, *, bureau_id: int, first_day: date, last_day: date
) -> list[PhaseReport]:
    """The phases of the bureau's current campaign that end on one of these days."""
    campaign = current_campaign(session, bureau_id=bureau_id)
    if campaign is None:
        return []
    phases = session.exec(
        select(CampaignPhase)
        .where(
            CampaignPhase.campaign_id == campaign.id,
            col(CampaignPhase.ends_on) >= first_day,
            col(CampaignPhase.ends_on) <= last_day,
        )
        .order_by(col(CampaignPhase.ends_on))
    ).all()
    return [
        PhaseReport(
            f"campaign-{campaign.id}-{p.kind}",
            PHASE_REPORTS[PhaseKind(p.kind)],
            PHASE_LABELS[PhaseKind(p.kind)],
            Period(p.starts_on, p.ends_on),
        )
        for p in phases
    ]


def bureau_scope(session: Session, *, bureau_id: int) -> ReportScope:
    """Every unit of a bureau."""
    units = list(session.exec(select(Unit).where(Unit.bureau_id == bureau_id)).all())
    if not units:
        raise NotFound("这个教育局还没有单位。")
    return report_scope(session, units=units, slug=None, bureau=True)


def phase_report_docx(
    session: Session, *, bureau_id: int, report: PhaseReport, today: date
) -> bytes:
    """The Word draft of a phase's report for the whole bureau."""
    scope = bureau_scope(session, bureau_id=bureau_id)
    document = build_report(
        session, kind=report.kind, scope=scope, period=report.period, today=today
    )
    return official_docx(document)

"""The four reports: content and counts (counted here from the inserted rows), no sender
identity in any of them, and the GB/T 9704 page, font and size settings of the Word draft."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document
from docx.enum.text import WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from sqlmodel import Session, col, select

from app.documents.official import chinese_numeral_date
from app.models import CHANNEL_LABELS, CHECK_NAMES, Unit
from app.reports.service import (
    CAUSE_PLACEHOLDER,
    ReportFormat,
    ReportKind,
    ReportScope,
    build_report,
    quote,
    render_report,
    report_scope,
)
from tests.reports.conftest import (
    PERIOD,
    PERIOD_TEXT,
    ROSTER_EMAIL,
    SENDER_CONTACTS,
    SENDER_NAMES,
    TEXT_PHONE,
    TODAY,
    TODAY_TEXT,
    ReportData,
    docx_lines,
    docx_xml,
    pdf_text,
)

UNIT = "示范县第一初级中学"
ORDINALS = "一二三四五"


def _scope(session: Session, *, bureau: bool = False) -> ReportScope:
    units = list(session.exec(select(Unit).order_by(col(Unit.id))).all())
    return report_scope(session, units=units, slug="demo", bureau=bureau)


def _docx(session: Session, kind: ReportKind, *, bureau: bool = False) -> bytes:
    scope = _scope(session, bureau=bureau)
    document = build_report(session, kind=kind, scope=scope, period=PERIOD, today=TODAY)
    return render_report(document, fmt=ReportFormat.docx)


def test_dates_in_chinese_numerals() -> None:
    assert chinese_numeral_date(date(2026, 12, 7)) == "二〇二六年十二月七日"
    assert chinese_numeral_date(date(2030, 10, 31)) == "二〇三〇年十月三十一日"
    assert chinese_numeral_date(date(2027, 1, 20)) == "二〇二七年一月二十日"
    assert chinese_numeral_date(date(2028, 11, 19)) == "二〇二八年十一月十九日"


def test_quotes_mask_identifiers_and_the_senders_own_name() -> None:
    text = (
        "我是张三，电话 139 1234 5678，邮箱 zs@example.com，身份证 11010519491231002X。\n食堂太贵"
    )
    quoted = quote(text, name="张三", contact="139 1234 5678")
    assert "张三" not in quoted and "1234" not in quoted and "example" not in quoted
    assert "1949" not in quoted and "\n" not in quoted and quoted.endswith("食堂太贵")
    assert quote("0371-66668888 请回电") == "××× 请回电"
    assert len(quote("长" * 200)) == 80


def test_summary_shows_the_unit_period_checks_and_counts(
    session: Session, report_data: ReportData
) -> None:
    lines = docx_lines(_docx(session, ReportKind.summary))
    text = "\n".join(lines)
    assert lines[0].startswith(UNIT) and lines[0].endswith("征求意见情况的汇总报告")
    assert PERIOD_TEXT in text
    scope_rows = report_data.in_scope("demo")
    checks = report_data.checks("demo")
    for n, check in enumerate((1, 2, 3, 4, 5)):
        assert f"（{ORDINALS[n]}）{CHECK_NAMES[check]}方面（{checks[check]}条）" in lines
    total = len(scope_rows)
    assert f"共收到意见建议{total}条" in text
    for channel, label in CHANNEL_LABELS.items():
        count = sum(1 for r in scope_rows if r["channel"] == channel.value)
        assert any(line.startswith(f"{label}|{count}|") for line in lines), label
    roles: dict[str, int] = {}
    for r in scope_rows:
        roles[r["role"]] = roles.get(r["role"], 0) + 1
    for role, count in roles.items():
        assert any(line.startswith(f"{role}|{count}|") for line in lines), role
    # The forum on 20 November with its one recorded opinion; not the meeting before.
    assert "本时段共召开座谈会、民主生活会等会议1场，参加12人次，会上记录意见建议1条。" in text
    assert "2026年11月20日|座谈会|12|1" in lines
    answered = report_data.answered("demo")
    closed = sum(1 for r in scope_rows if r["status"] == "closed")
    open_ = sum(
        1
        for r, i in zip(report_data.rows, report_data.ids, strict=True)
        if r in scope_rows
        and r["status"] in {"new", "classified", "forwarded"}
        and i not in report_data.replied_ids
    )
    other = total - answered - open_
    assert (
        f"已答复{answered}条（其中已办结{closed}条），正在办理{open_}条"
        f"（其中超过答复时限{open_}条），无效或重复{other}条。"
    ) in text
    # The repeated opinion leads its check, with the count of its repeats.
    assert any("有的会议材料太多" in line and "（同类意见另有1条）" in line for line in lines)
    assert "另一所学校" not in text and "十一月五日" not in text
    # Signed by the unit, dated in Chinese numerals.
    assert lines[lines.index(TODAY_TEXT) - 1] == UNIT


def test_bureau_summary_covers_every_unit(session: Session, report_data: ReportData) -> None:
    lines = docx_lines(_docx(session, ReportKind.summary, bureau=True))
    text = "\n".join(lines)
    both = report_data.in_scope("demo", "demo2")
    assert f"共收到意见建议{len(both)}条" in text
    checks = report_data.checks("demo", "demo2")
    assert f"（一）思想解放方面（{checks[1]}条）" in lines
    demo2 = report_data.in_scope("demo2")
    assert any(line.startswith(f"示范县实验小学|{len(demo2)}|0|0|{len(demo2)}|") for line in lines)


def test_selfcheck_has_each_check_with_counts_and_a_cause_placeholder(
    session: Session, report_data: ReportData
) -> None:
    lines = docx_lines(_docx(session, ReportKind.selfcheck))
    text = "\n".join(lines)
    assert lines[0] == f"{UNIT}关于解放思想、更新观念、开拓创新大讨论活动“五查五看”的自查报告"
    assert PERIOD_TEXT in text
    checks = report_data.checks("demo")
    for n, check in enumerate((1, 2, 3, 4, 5)):
        assert f"{ORDINALS[n]}、{CHECK_NAMES[check]}方面的差距" in lines
        assert f"本时段收到涉及{CHECK_NAMES[check]}方面的意见建议{checks[check]}条" in text
    assert lines.count(CAUSE_PLACEHOLDER) == 5
    # Check 2 has one invalid item: it is counted but not listed as a problem.
    assert "另有1条（含重复、无效），详见意见台账。" in text
    others = checks[0] + checks[None]
    assert f"另有不属于“五查五看”或尚待归类的意见{others}条" in text


def test_rectification_lists_measures_answers_and_evaluation(
    session: Session, report_data: ReportData
) -> None:
    lines = docx_lines(_docx(session, ReportKind.rectification))
    text = "\n".join(lines)
    assert "共制定整改措施2项，其中已完成1项、进行中1项、未开始0项。" in text
    assert "1|公开转学办理流程|服务社会|教务处王主任|2026年12月20日|60%（进行中）" in lines
    assert "2|严禁在职教师有偿补课|工作纪律|未填写|未定|100%（已完成）" in lines
    assert "（一）公开转学办理流程" in lines
    assert any("家长办理转学证明手续繁琐" in line for line in lines)
    assert "共发放评议码4个，已使用3个" in text
    assert "收到评议6人次，其中满意3、基本满意2、不满意1，满意率83.3%。" in text
    assert "公开转学办理流程|2|0|1|66.7%" in lines
    assert "严禁在职教师有偿补课|1|2|0|100.0%" in lines


def test_ideas_group_each_cadres_ideas_and_list_who_sent(
    session: Session, report_data: ReportData
) -> None:
    lines = docx_lines(_docx(session, ReportKind.ideas))
    text = "\n".join(lines)
    assert "名单内中层干部共3人，已提交建议2人，未提交1人。" in text
    assert "钱中层|教务处主任|1|已提交" in lines
    assert "孙中层|德育处主任|2|已提交" in lines
    assert "李中层|总务处主任|0|未提交" in lines
    assert "（一）发展思路（1条）" in lines and "（二）工作作风（2条）" in lines
    assert "1. 建立青年教师师徒结对制度（钱中层，教务处主任）" in lines
    assert ROSTER_EMAIL not in docx_xml(_docx(session, ReportKind.ideas))


@pytest.mark.parametrize("kind", list(ReportKind))
def test_no_sender_identity_in_any_document(
    session: Session, report_data: ReportData, kind: ReportKind
) -> None:
    for bureau in (False, True):
        scope = _scope(session, bureau=bureau)
        document = build_report(session, kind=kind, scope=scope, period=PERIOD, today=TODAY)
        xml = docx_xml(render_report(document, fmt=ReportFormat.docx))
        printed = pdf_text(render_report(document, fmt=ReportFormat.pdf))
        for found in (xml, printed):
            for marker in (*SENDER_NAMES, *SENDER_CONTACTS, TEXT_PHONE, "甄实名", "marker.test"):
                assert marker not in found, (kind, bureau, marker)
            # Nor the time an item came in (every row was inserted at 10:00).
            assert "10:00" not in found


def test_pdf_carries_the_same_content(session: Session, report_data: ReportData) -> None:
    scope = _scope(session)
    document = build_report(
        session, kind=ReportKind.selfcheck, scope=scope, period=PERIOD, today=TODAY
    )
    text = "".join(pdf_text(render_report(document, fmt=ReportFormat.pdf)).split())
    checks = report_data.checks("demo")
    for n, check in enumerate((1, 2, 3, 4, 5)):
        assert f"{ORDINALS[n]}、{CHECK_NAMES[check]}方面的差距" in text
        assert f"意见建议{checks[check]}条" in text
    assert "—1—" in text and TODAY_TEXT in text and "原因分析：请填写" in text


def test_word_layout_follows_gb_t_9704(session: Session, report_data: ReportData) -> None:
    data = _docx(session, ReportKind.summary)
    doc = Document(io.BytesIO(data))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    for name, mm in (("top", 37), ("bottom", 35), ("left", 28), ("right", 26)):
        assert abs(getattr(section, f"{name}_margin").mm - mm) < 0.05, name
    normal = doc.styles["Normal"]
    assert normal.font.size == Pt(16)
    fonts = normal.element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    fmt = normal.paragraph_format
    assert fmt.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert round(fmt.line_spacing.pt, 2) == 28.95
    # 22 lines of the fixed pitch fill the 225 mm type area.
    lines = (Mm(297) - Mm(37) - Mm(35)) / fmt.line_spacing
    assert 22 <= lines < 22.1
    title = doc.paragraphs[0]
    assert title.style.name == "公文标题" and title.style.font.size == Pt(22)
    assert title.style.element.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    assert doc.styles["公文一级标题"].element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    xml = docx_xml(data)
    assert '<w:font w:name="方正小标宋简体"><w:altName w:val="Noto Serif CJK SC Bold"/>' in xml
    assert '<w:font w:name="仿宋_GB2312"><w:altName w:val="Noto Serif CJK SC"/>' in xml
    assert "<w:evenAndOddHeaders/>" in xml
    for footer in (section.footer, section.even_page_footer):
        element = footer.paragraphs[0]._p.xml
        assert "PAGE" in element and "— " in element and " —" in element
    assert doc.core_properties.language == "zh-CN"

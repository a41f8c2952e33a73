"""A campaign's worth of data for the reports, and the figures a report must show, counted
here from what was inserted (not through the code under test)."""

from __future__ import annotations

import io
import subprocess
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from docx import Document
from sqlalchemy import Engine, insert, update
from sqlmodel import select

from app.campaign import evaluation, roster
from app.core.db import session_scope
from app.core.time import TZ
from app.models import (
    Channel,
    Evaluation,
    Measure,
    MeasureStatus,
    MeasureSubmission,
    Meeting,
    MeetingKind,
    MeetingSubmission,
    Rating,
    Reply,
    Role,
    RosterPerson,
    RosterSubmission,
    Status,
    Submission,
)
from app.stats.service import Period
from tests.conftest import TEST_SECRET
from tests.factories import insert_submissions, unit_id

PERIOD = Period(date(2026, 11, 10), date(2026, 11, 30))
PERIOD_TEXT = "2026年11月10日至2026年11月30日"
TODAY = date(2026, 12, 7)
TODAY_TEXT = "二〇二六年十二月七日"
OPEN = {Status.new.value, Status.classified.value, Status.forwarded.value}

# Opinion senders' identity: none of this may appear in any report.
SENDER_NAMES = [f"甄实名{n}" for n in range(6)]
SENDER_CONTACTS = [
    "13912340001",
    "shiming1@marker.test",
    "13912340003",
    "shiming3@marker.test",
    "13912340005",
    "0371-66668888",
]
# Written into an anonymous text by its sender; masked in quotes too.
TEXT_PHONE = "13800138000"
ROSTER_EMAIL = "qian.roster@marker.test"

# (check, channel, role, status, named)
SPECS: list[tuple[int | None, Channel, Role, Status, bool]] = [
    (1, Channel.web, Role.parent, Status.new, False),
    (1, Channel.email, Role.staff, Status.replied, True),
    (2, Channel.web, Role.parent, Status.closed, True),
    (2, Channel.letter, Role.retiree, Status.new, False),
    (2, Channel.web, Role.parent, Status.invalid, False),
    (3, Channel.meeting, Role.staff, Status.forwarded, False),
    (3, Channel.web, Role.community, Status.closed, True),
    (3, Channel.web, Role.parent, Status.duplicate, False),
    (4, Channel.email, Role.parent, Status.classified, True),
    (4, Channel.web, Role.parent, Status.forwarded, False),
    (5, Channel.web, Role.parent, Status.replied, False),
    (5, Channel.letter, Role.superior, Status.new, True),
    (0, Channel.web, Role.other, Status.invalid, False),
    (None, Channel.web, Role.parent, Status.new, False),
]
TOPICS = {
    0: "谢谢老师们的辛勤付出",
    1: "学校教学方式多年不变，建议学习先进学校的课改经验",
    2: "建议加强青年教师培养，提升教学质量",
    3: "有的会议材料太多，形式主义严重",
    4: "个别老师暑假办收费补习班",
    5: "家长办理转学证明手续繁琐，跑了好几趟",
    None: "希望学校多组织课外活动",
}


@dataclass
class ReportData:
    unit_id: int
    unit2_id: int
    rows: list[dict[str, Any]]  # every submission inserted, as inserted (+ unit slug)
    ids: list[int]
    replied_ids: set[int]  # items with a Reply row
    ideas: list[tuple[str, int, str]] = field(default_factory=list)  # person, check, text
    measure_ids: list[int] = field(default_factory=list)

    def in_scope(self, *slugs: str) -> list[dict[str, Any]]:
        start = datetime(2026, 11, 10, tzinfo=TZ)
        end = datetime(2026, 12, 1, tzinfo=TZ)
        return [r for r in self.rows if r["unit"] in slugs and start <= r["at"] < end]

    def checks(self, *slugs: str) -> Counter[int | None]:
        return Counter(r.get("check") for r in self.in_scope(*slugs))

    def answered(self, *slugs: str) -> int:
        return sum(
            1
            for r, i in zip(self.rows, self.ids, strict=True)
            if r in self.in_scope(*slugs)
            and (r["status"] in {"replied", "closed"} or i in self.replied_ids)
        )


def local(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=TZ)


@pytest.fixture
def report_data(engine: Engine, demo: None) -> ReportData:
    rows: list[dict[str, Any]] = []
    named = 0
    for n, (check, channel, role, status, is_named) in enumerate(SPECS):
        row: dict[str, Any] = {
            "unit": "demo",
            "check": check,
            "channel": channel.value,
            "role": role.value,
            "status": status.value,
            "anonymous": not is_named,
            "at": local(10 + n),
            "text": f"{TOPICS[check]}（第{n}条）",
        }
        if is_named:
            row["name"] = SENDER_NAMES[named]
            row["contact"] = SENDER_CONTACTS[named]
            row["text"] = f"我是{SENDER_NAMES[named]}，电话{SENDER_CONTACTS[named]}。" + row["text"]
            named += 1
        rows.append(row)
    rows[0]["text"] += f"请回电{TEXT_PHONE}"
    # Outside the scope: before the period, and another unit.
    rows.append({"unit": "demo", "check": 1, "at": local(5), "text": "十一月五日的意见"})
    rows.append({"unit": "demo2", "check": 1, "at": local(12), "text": "另一所学校的意见"})
    ids = insert_submissions(engine, rows=rows)
    with session_scope(engine) as s:
        uid, uid2 = unit_id(s), unit_id(s, slug="demo2")
        # The duplicate (row 7) repeats row 6; the forwarded row 9 has a reply.
        s.execute(update(Submission).where(Submission.id == ids[7]).values(duplicate_of=ids[6]))
        s.add(Reply(submission_id=ids[9], body="已转交教务处核实。"))
        meeting = Meeting(
            unit_id=uid, held_on=date(2026, 11, 20), kind=MeetingKind.forum, attendees=12
        )
        old = Meeting(unit_id=uid, held_on=date(2026, 11, 1), kind=MeetingKind.life, attendees=30)
        s.add(meeting)
        s.add(old)
        s.flush()
        assert meeting.id is not None
        s.add(MeetingSubmission(submission_id=ids[5], meeting_id=meeting.id))
        measures = [
            Measure(
                unit_id=uid,
                title="公开转学办理流程",
                owner="教务处王主任",
                deadline=date(2026, 12, 20),
                progress=60,
                status=MeasureStatus.doing,
                check=5,
                description="在校门口和网站公布办理流程和时限。",
            ),
            Measure(
                unit_id=uid,
                title="严禁在职教师有偿补课",
                owner="",
                progress=100,
                status=MeasureStatus.done,
                check=4,
            ),
        ]
        for m in measures:
            s.add(m)
        s.flush()
        measure_ids = [m.id for m in measures if m.id is not None]
        s.add(MeasureSubmission(measure_id=measure_ids[0], submission_id=ids[11]))
        s.add(MeasureSubmission(measure_id=measure_ids[1], submission_id=ids[8]))
        # Three of four codes used, each rating both measures (as the public form does).
        codes = evaluation.create_codes(s, secret=TEST_SECRET, unit_id=uid, count=4)
        for code, first, second in (
            (codes[0], Rating.satisfied, Rating.basic),
            (codes[1], Rating.satisfied, Rating.basic),
            (codes[2], Rating.unsatisfied, Rating.satisfied),
        ):
            votes = {
                measure_ids[0]: evaluation.Vote(first, None),
                measure_ids[1]: evaluation.Vote(second, None),
            }
            evaluation.submit_evaluation(
                s, secret=TEST_SECRET, unit_id=uid, code=code, votes=votes, evaluation_open=True
            )
        s.execute(update(Evaluation).values(created_at=datetime(2026, 11, 28, 3, tzinfo=UTC)))
        roster.add_people(
            s,
            unit_id=uid,
            rows=[
                ("钱中层", "教务处主任", ROSTER_EMAIL),
                ("孙中层", "德育处主任", None),
                ("李中层", "总务处主任", None),
            ],
            secret=TEST_SECRET,
        )
    ideas = [
        ("钱中层", 2, "建立青年教师师徒结对制度"),
        ("孙中层", 3, "精简会议和材料"),
        ("孙中层", 3, "领导干部每周深入课堂听课"),
    ]
    idea_rows = [
        {
            "unit": "demo",
            "kind": "idea",
            "role": Role.staff.value,
            "anonymous": False,
            "name": who,
            "check": check,
            "text": text,
            "at": local(21 + n),
        }
        for n, (who, check, text) in enumerate(ideas)
    ]
    idea_ids = insert_submissions(engine, rows=idea_rows)
    with session_scope(engine) as s:
        people = {p.name: p.id for p in s.exec(select(RosterPerson))}
        for sid, (who, _c, _t) in zip(idea_ids, ideas, strict=True):
            s.execute(insert(RosterSubmission).values(submission_id=sid, person_id=people[who]))
    defaults = {"check": None, "status": "new", "channel": "web", "role": Role.parent.value}
    all_rows = [defaults | r for r in rows + idea_rows]
    return ReportData(uid, uid2, all_rows, ids + idea_ids, {ids[9]}, ideas, measure_ids)


def docx_lines(data: bytes) -> list[str]:
    """Every paragraph of a .docx, then every table row as cells joined by |."""
    doc = Document(io.BytesIO(data))
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        lines += ["|".join(c.text for c in row.cells) for row in table.rows]
    return lines


def docx_xml(data: bytes) -> str:
    """All XML parts of a .docx, as one string (what a grep of the unzipped file sees)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "\n".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))


def pdf_text(data: bytes) -> str:
    """The text pdftotext extracts from a PDF."""
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    )
    return out.stdout.decode("utf-8")

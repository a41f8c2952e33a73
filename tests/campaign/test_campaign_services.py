"""Campaign workflows at the service level: roster, offline entry, measures, overrides."""

from __future__ import annotations

import asyncio
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.campaign import measures, offline, roster
from app.campaign.jobs import send_reminders_now
from app.campaign.service import EVALUATION, get_intake_state, set_override
from app.core.db import session_scope
from app.core.errors import Closed, Invalid, NotFound
from app.core.time import today_local
from app.intake.service import SubmissionInput
from app.models import (
    Channel,
    Kind,
    Meeting,
    MeetingKind,
    MeetingSubmission,
    Role,
    RosterImport,
    RosterPerson,
    Submission,
)
from app.outbox.service import require_sender
from tests.conftest import TEST_SECRET, smtp_sender
from tests.factories import two_teachers_to_remind, unit_id
from tests.helpers import parsed_mail, plain_text
from tests.servers.smtp import SmtpServer


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_parse_roster_reports_each_bad_row_in_chinese() -> None:
    data = xlsx(
        [
            ["姓名", "职务", "邮箱"],
            ["王老师", "教务主任", "wang@school.example"],
            ["", "政教主任", None],
            ["李老师", "总务主任", "not-an-email"],
            [None, None, None],
            ["王老师", "教务主任", "WANG@school.example"],
            ["赵老师", None, None],
        ]
    )
    preview = roster.parse_roster(filename="名单.xlsx", data=data)
    assert [r.name for r in preview.rows] == ["王老师", "赵老师"]
    assert preview.errors == [
        "第3行：姓名为空",
        "第4行：邮箱格式不正确（not-an-email）",
        "第6行：与第2行重复",
    ]


def test_parse_roster_csv_gb18030_and_missing_header() -> None:
    text = "姓名,职务\r\n张主任,办公室主任\r\n"
    preview = roster.parse_roster(filename="r.csv", data=text.encode("gb18030"))
    assert [(r.name, r.post, r.email) for r in preview.rows] == [("张主任", "办公室主任", None)]
    with pytest.raises(Invalid, match="姓名"):
        roster.parse_roster(filename="r.csv", data="名字,职务\n张,主任\n".encode())
    with pytest.raises(Invalid, match="Excel"):
        roster.parse_roster(filename="r.xlsx", data=b"PK\x03\x04 broken")


def test_staged_import_commits_only_on_confirm(engine: Engine, demo: None) -> None:
    data = "姓名,职务,邮箱\n王老师,教务主任,wang@school.example\n赵老师,德育主任,\n".encode()
    with session_scope(engine) as s:
        uid = unit_id(s)
        preview = roster.parse_roster(filename="r.csv", data=data)
        staged = roster.stage_roster_import(s, unit_id=uid, actor_id=None, preview=preview)
        staged_id = staged.id
        assert staged_id is not None
    with Session(engine) as s:
        assert s.exec(select(RosterPerson)).all() == []
        with pytest.raises(NotFound):
            roster.confirm_roster_import(s, import_id=staged_id, unit_ids=[uid + 1000], secret="x")
    with session_scope(engine) as s:
        people = roster.confirm_roster_import(
            s, import_id=staged_id, unit_ids=[uid], secret=TEST_SECRET
        )
        assert [p.name for p in people] == ["王老师", "赵老师"]
    with session_scope(engine) as s:
        assert s.exec(select(RosterImport)).all() == []
        # Importing the same file again adds nobody twice.
        assert roster.import_roster(s, unit_id=uid, filename="r.csv", data=data, secret="x") == []
        bad = roster.parse_roster(filename="r.csv", data="姓名,职务\n,主任\n张三,\n".encode())
        assert bad.errors == ["第2行：姓名为空"]
        # A preview with errors is never staged, and the whole file is refused by the CLI path.
        with pytest.raises(Invalid):
            roster.stage_roster_import(s, unit_id=uid, actor_id=None, preview=bad)
        with pytest.raises(Invalid, match="第2行：姓名为空"):
            roster.import_roster(
                s, unit_id=uid, filename="r.csv", data="姓名,职务\n,主任\n".encode(), secret="x"
            )


def test_idea_link_compliance_and_reminder_due(engine: Engine, demo: None) -> None:
    data = (
        "姓名,职务,邮箱\n王老师,教务主任,wang@school.example\n赵老师,德育主任,\n"
        "钱老师,,q@s.example\n"
    )
    with session_scope(engine) as s:
        uid = unit_id(s)
        people = roster.import_roster(
            s, unit_id=uid, filename="r.csv", data=data.encode(), secret=TEST_SECRET
        )
        wang = people[0]
        url = roster.idea_url(base_url="https://x.example", secret=TEST_SECRET, person=wang)
        token = url.rsplit("/", 1)[1]
        # Only the HMAC of the token is stored.
        assert token not in (wang.token_hash, wang.token_nonce)
        stored = roster.submit_idea(
            s, secret=TEST_SECRET, token=token, text="建议设立青年教师导师制。", max_chars=500
        )
    with pytest.raises(NotFound), Session(engine) as s:
        roster.get_person_by_token(s, secret=TEST_SECRET, token="a" * 26)
    with Session(engine) as s:
        sub = s.get(Submission, stored.id)
        assert sub is not None
        assert (sub.kind, sub.role, sub.anonymous, sub.name) == (
            Kind.idea,
            Role.staff.value,
            False,
            "王老师",
        )
        rows = roster.compliance_rows(s, unit_ids=[uid, unit_id(s, slug="demo2")])
        assert {(r.name, r.ideas) for r in rows} == {("王老师", 1), ("赵老师", 0), ("钱老师", 0)}
        [total] = roster.compliance_by_unit(rows)
        assert (total.people, total.with_ideas, total.without) == (3, 1, 2)
        table = roster.compliance_table(rows)
        assert [
            "示范县第一初级中学",
            "王老师",
            "教务主任",
            "wang@school.example",
            1,
            "已提交",
            None,
        ] in table
        due = roster.due_reminders(
            s, unit_ids=[uid], secret=TEST_SECRET, base_url="https://x.example", every_days=3
        )
        # 赵老师 has no email; 王老师 already sent an idea.
        assert [(d.name, d.email) for d in due] == [("钱老师", "q@s.example")]
        assert due[0].url.startswith("https://x.example/idea/")
        s.commit()
        claimed = roster.claim_reminders(s, reminders=due, every_days=3)
        assert [(c.name, c.previous) for c in claimed] == [("钱老师", None)]
        s.commit()
        assert roster.claim_reminders(s, reminders=due, every_days=3) == []
        again = roster.due_reminders(
            s, unit_ids=[uid], secret=TEST_SECRET, base_url="https://x.example", every_days=3
        )
        assert again == []
        later = roster.due_reminders(
            s,
            unit_ids=[uid],
            secret=TEST_SECRET,
            base_url="https://x.example",
            every_days=3,
            now=roster.utcnow() + timedelta(days=3, minutes=1),
        )
        assert [d.name for d in later] == ["钱老师"]


def test_reminder_runs_at_the_same_time_send_each_mail_once_and_failures_are_retried(
    engine: Engine,
    demo: None,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A clerk double-clicks "send reminders" while cron runs the CLI: both runs find the
    # same people due, yet each person gets one mail; a refused address is released and
    # tried again on the next run.
    server = smtp_server
    settings, uid = two_teachers_to_remind(engine, server)
    both_found = threading.Barrier(2, timeout=10)
    find_due = roster.due_reminders

    def found_together(*args: Any, **kwargs: Any) -> list[roster.Reminder]:
        due = find_due(*args, **kwargs)
        both_found.wait()
        return due

    def run() -> roster.ReminderRun:
        return asyncio.run(
            send_reminders_now(
                engine, settings=settings, sender=require_sender(settings), unit_ids=[uid]
            )
        )

    server.refuse_rcpt = "sun@s.example"
    monkeypatch.setattr(roster, "due_reminders", found_together)
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: run(), range(2)))
    monkeypatch.undo()
    assert sorted(len(r.sent) for r in runs) == [0, 1]
    assert sum(len(r.failed) for r in runs) == 1
    assert [m.rcpt_tos for m in server.messages] == [["q@s.example"]]
    server.refuse_rcpt = None
    retried = run()
    assert (len(retried.sent), retried.failed) == (1, [])
    assert (run().sent, run().failed) == ([], [])
    delivered = sorted(m.rcpt_tos for m in server.messages)
    assert delivered == [["q@s.example"], ["sun@s.example"]]


def test_reminders_go_out_through_real_smtp(smtp_server: SmtpServer) -> None:
    server = smtp_server
    reminder = roster.Reminder(7, "钱老师", "q@s.example", "示范县实验小学", "https://x/idea/abc")
    sender = smtp_sender(server)
    run = asyncio.run(roster.send_reminders(sender, [reminder], from_addr="office@school.example"))
    assert run.sent == [7] and run.failed == []
    [mail] = server.messages
    assert mail.rcpt_tos == ["q@s.example"]
    body = plain_text(parsed_mail(mail.data))
    assert "钱老师" in body and "https://x/idea/abc" in body
    server.refuse = "550 5.1.1 no such user"
    failed = asyncio.run(
        roster.send_reminders(sender, [reminder], from_addr="office@school.example")
    )
    assert failed.sent == [] and len(failed.failed) == 1


def test_letter_and_meeting_entry(engine: Engine, demo: None) -> None:
    today = today_local()
    with session_scope(engine) as s:
        uid = unit_id(s)
        letter = offline.enter_letter(
            s,
            secret=TEST_SECRET,
            slug="demo",
            data=SubmissionInput(text="食堂饭菜偏咸。", role=Role.parent.value, anonymous=True),
            received_on=today,
        )
        entry = offline.enter_meeting(
            s,
            secret=TEST_SECRET,
            slug="demo",
            unit_id=uid,
            held_on=today,
            kind=MeetingKind.forum,
            attendees=12,
            suggestions=offline.split_minutes("1. 延长图书馆开放时间\n\n- 增加课后服务\n"),
            role=Role.parent.value,
            max_chars=500,
        )
    with Session(engine) as s:
        sub = s.get(Submission, letter.id)
        assert sub is not None and sub.channel == Channel.letter and sub.anonymous
        assert sub.name is None and sub.contact is None
        subs = s.exec(
            select(Submission)
            .join(MeetingSubmission, col(MeetingSubmission.submission_id) == Submission.id)
            .where(MeetingSubmission.meeting_id == entry.meeting_id)
            .order_by(col(Submission.id))
        ).all()
        assert [x.text for x in subs] == ["1. 延长图书馆开放时间", "增加课后服务"]
        assert {x.channel for x in subs} == {Channel.meeting}
        meeting = s.get(Meeting, entry.meeting_id)
        assert meeting is not None and meeting.attendees == 12
    with Session(engine) as s, pytest.raises(Invalid, match="晚于今天"):
        offline.enter_letter(
            s,
            secret=TEST_SECRET,
            slug="demo",
            data=SubmissionInput(text="x", role="其他", anonymous=True),
            received_on=today + timedelta(days=1),
        )
    # A letter received before the campaign opened was not in time; nothing is stored.
    with Session(engine) as s, pytest.raises(Closed):
        offline.enter_letter(
            s,
            secret=TEST_SECRET,
            slug="demo",
            data=SubmissionInput(text="x", role="其他", anonymous=True),
            received_on=today - timedelta(days=400),
        )
    with Session(engine) as s:
        with pytest.raises(Invalid, match="第2条"):
            offline.enter_meeting(
                s,
                secret=TEST_SECRET,
                slug="demo",
                unit_id=unit_id(s),
                held_on=today,
                kind=MeetingKind.other,
                attendees=3,
                suggestions=["好", "长" * 501],
                role="其他",
                max_chars=500,
            )
        s.rollback()
        assert len(s.exec(select(Meeting)).all()) == 1


def test_overrides_open_and_close_channels(engine: Engine, demo: None) -> None:
    with session_scope(engine) as s:
        state = get_intake_state(s, slug="demo")
        assert Channel.web.value in state.open_channels and not state.evaluation_open
        set_override(s, unit_id=state.unit_id, channel="web", is_open=False)
        set_override(s, unit_id=state.unit_id, channel=EVALUATION, is_open=True)
    with session_scope(engine) as s:
        state = get_intake_state(s, slug="demo")
        assert Channel.web.value not in state.open_channels
        assert Channel.email.value in state.open_channels
        assert state.evaluation_open
        with pytest.raises(Closed):
            state.require_open(Channel.web)
        # The other unit follows the plan.
        assert Channel.web.value in get_intake_state(s, slug="demo2").open_channels
        set_override(s, unit_id=state.unit_id, channel="web", is_open=None)
        with pytest.raises(Invalid):
            set_override(s, unit_id=state.unit_id, channel="fax", is_open=True)
    with Session(engine) as s:
        assert Channel.web.value in get_intake_state(s, slug="demo").open_channels


def test_measures_and_anonymised_board(engine: Engine, demo: None) -> None:
    with session_scope(engine) as s:
        uid = unit_id(s)
        named = offline.enter_letter(
            s,
            secret=TEST_SECRET,
            slug="demo",
            data=SubmissionInput(
                text="建议  操场\n晚上开放，方便附近居民锻炼身体。",
                role=Role.community.value,
                anonymous=False,
                name="孙大爷",
                contact="13800000000",
            ),
            received_on=today_local(),
        )
        other = offline.enter_letter(
            s,
            secret=TEST_SECRET,
            slug="demo2",
            data=SubmissionInput(text="别的学校", role="其他", anonymous=True),
            received_on=today_local(),
        )
        data = measures.validate_measure(
            title="操场分时段向社区开放",
            description="周末和晚间开放。",
            owner="总务处",
            deadline=str(today_local() + timedelta(days=30)),
            progress="40",
            status="doing",
            check="5",
        )
        with pytest.raises(Invalid, match="不属于本单位"):
            measures.create_measure(s, unit_id=uid, data=data, submission_ids=[other.id])
        m = measures.create_measure(s, unit_id=uid, data=data, submission_ids=[named.id])
        assert m.id is not None
        mid = m.id
    for bad, message in (
        ({"title": ""}, "措施名称"),
        ({"progress": "101"}, "进度"),
        ({"progress": "abc"}, "进度"),
        ({"status": "later"}, "状态"),
        ({"check": "9"}, "五查"),
        ({"deadline": "2026-13-01"}, "日期"),
    ):
        fields: dict[str, str | None] = {
            "title": "t",
            "description": "",
            "owner": "",
            "deadline": "",
            "progress": "0",
            "status": "todo",
            "check": "",
        }
        fields.update(bad)
        with pytest.raises(Invalid, match=message):
            measures.validate_measure(**fields)
    with session_scope(engine) as s:
        done = measures.validate_measure(
            title="操场分时段向社区开放",
            description="",
            owner="总务处",
            deadline="",
            progress="100",
            status="done",
            check="",
        )
        measures.update_measure(s, measure_id=mid, unit_ids=[uid], data=done)
        with pytest.raises(NotFound):
            measures.update_measure(s, measure_id=mid, unit_ids=[uid + 1], data=done)
    with Session(engine) as s:
        [item] = measures.board(s, unit_id=uid)
        assert (item.progress, item.status_label, item.check_name) == (100, "已完成", None)
        assert item.excerpts == ["建议 操场 晚上开放，方便附近居民锻炼身体。"]
        assert measures.board(s, unit_id=unit_id(s, slug="demo2")) == []

"""The digest to the bureau office, sent through a real aiosmtpd server."""

from __future__ import annotations

import io
import random
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, text, update
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.db import claim_engine, exclusive, session_scope
from app.core.errors import Conflict, Invalid
from app.digest.content import build_digest, digest_xlsx, render_digest
from app.digest.jobs import DigestOutcome, send_digest_now, send_due_digests
from app.digest.schedule import (
    due_periods,
    make_period,
    parse_period,
    save_setting,
)
from app.digest.service import (
    LEASE,
    claim_digest_now,
    claim_next_digest,
    enqueue_digest,
    enqueue_due_digests,
)
from app.models import (
    CHECK_NAMES,
    Channel,
    Digest,
    DigestKind,
    DigestSetting,
    DigestStatus,
    Reply,
    Role,
    Status,
    Submission,
    Unit,
)
from app.units.service import default_bureau
from tests.conftest import TEST_SECRET, smtp_sender
from tests.factories import add_submission, new_submission, unit_id
from tests.helpers import as_processes, plain_text, sent_message, soup
from tests.servers.smtp import SmtpServer

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 25)  # a Wednesday
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=TZ)  # after the 08:00 daily time
OPEN = {"new", "classified", "forwarded"}
CONTACT = "13800138000"


def local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def seed(engine: Engine, *, n: int = 60, rng_seed: int = 7) -> None:
    """Items in the period, the day before, and older open ones (some answered)."""
    rng = random.Random(rng_seed)
    checks: list[int | None] = [*CHECK_NAMES, None]
    with session_scope(engine) as s:
        for i in range(n):
            day = rng.choice([DAY, DAY, DAY - timedelta(days=1), date(2026, 11, 10),
                              date(2026, 11, 19), date(2026, 11, 18)])
            slug = rng.choice(["demo", "demo2"])
            when = local(day, rng.randrange(24), rng.randrange(60))
            text = f"第{i}条意见：" + "操场灯坏了需要修理" * rng.randrange(1, 12)
            channel, role = rng.choice(list(Channel)), rng.choice(list(Role))
            anonymous = rng.random() < 0.7
            new = new_submission(
                slug=slug, created_at=when, text=text, channel=channel, role=role,
                anonymous=anonymous, name=None if anonymous else "张老师",
                contact=None if anonymous else CONTACT, check_open=False,
            )
            sid = add_submission(s, new=new, check=rng.choice(checks),
                                 status=rng.choice(list(Status)))
            if rng.random() < 0.2:
                s.add(Reply(submission_id=sid, body="已处理"))


def tick(engine: Engine, settings: Settings, smtp: SmtpServer, now: datetime
         ) -> list[DigestOutcome]:
    """One pass of the worker's digest job at `now`."""
    return send_due_digests(engine, settings, smtp_sender(smtp), now)


def the_digest(engine: Engine) -> Digest:
    with Session(engine) as s:
        return s.exec(select(Digest)).one()


def parts(msg: EmailMessage) -> tuple[str, str, bytes]:
    html = msg.get_body(("html",))
    assert html is not None
    [attachment] = list(msg.iter_attachments())
    data = attachment.get_payload(decode=True)
    assert isinstance(data, bytes)
    assert attachment.get_filename() == f"意见摘要-{DAY.isoformat()}.xlsx"
    return plain_text(msg), html.get_content(), data


def period_rows(session: Session, start: datetime, end: datetime) -> list[tuple[str, str, int | None, str, str, int]]:  # noqa: E501
    rows = session.exec(
        select(Unit.name, Unit.slug, Submission.check, Submission.channel, Submission.role,
               Submission.id)
        .join(Unit, col(Unit.id) == Submission.unit_id)
    ).all()
    out = []
    for name, slug, check, channel, role, sid in rows:
        created = session.get(Submission, sid)
        assert created is not None
        if start <= created.created_at < end:
            out.append((name, slug, check, str(channel), role, sid))
    return out


def label(check: int | None) -> str:
    return "待归类" if check is None else CHECK_NAMES[check]


def test_digest_figures_equal_the_database(
    engine: Engine, demo: None, digest_settings: Settings, smtp_server: SmtpServer
) -> None:
    seed(engine)
    outcomes = tick(engine, digest_settings, smtp_server, NOW)
    assert [o.status for o in outcomes] == [DigestStatus.sent]
    [mail] = smtp_server.messages
    assert sorted(mail.rcpt_tos) == ["head@bureau.test", "office@bureau.test"]
    msg = sent_message(smtp_server)
    assert msg["Auto-Submitted"] == "auto-generated"
    with Session(engine) as s:
        bureau_id = default_bureau(s).id
    assert msg["Message-ID"] == f"<digest-{bureau_id}-day-{DAY.isoformat()}@bureau.test>"
    text, html, _xlsx = parts(msg)

    start, end = local(DAY), local(DAY + timedelta(days=1))
    with Session(engine) as s:
        rows = period_rows(s, start, end)
        previous = period_rows(s, local(DAY - timedelta(days=1)), start)
        units = s.exec(select(Unit).order_by(col(Unit.id))).all()
        replied = {r.submission_id for r in s.exec(select(Reply)).all()}
        all_subs = s.exec(select(Submission)).all()
    assert len(rows) > 10 and previous
    total = len(rows)
    change = total - len(previous)
    assert f"本日新收意见 {total} 条；上日 {len(previous)} 条，" in text
    if change:
        assert f"{'增加' if change > 0 else '减少'} {abs(change)} 条" in text

    # The plain-text part alone carries every figure.
    per_check = Counter(r[2] for r in rows)
    for check in [*CHECK_NAMES, None]:
        assert f"- {label(check)}：{per_check[check]} 条" in text
    per_unit_check = Counter((r[1], r[2]) for r in rows)
    for unit in units:
        cells = "，".join(f"{label(c)} {per_unit_check[(unit.slug, c)]}"
                         for c in [*CHECK_NAMES, None])
        unit_total = sum(1 for r in rows if r[1] == unit.slug)
        assert f"- {unit.name}：合计 {unit_total} 条（{cells}）" in text
    channel_labels = {"web": "网页", "email": "邮件", "letter": "信件", "meeting": "座谈会"}
    per_channel = Counter(r[3] for r in rows)
    for code, name in channel_labels.items():
        assert f"- {name}：{per_channel[code]} 条" in text
    per_role = Counter(r[4] for r in rows)
    for role in Role:
        assert f"- {role.value}：{per_role[role.value]} 条" in text
    # Overdue: open, unanswered, its promised answer day before 2026-11-25.
    overdue = [
        x for x in all_subs
        if x.due_on is not None and x.due_on < date(2026, 11, 25)
        and x.status in OPEN and x.id not in replied
    ]
    assert overdue
    assert f"超过承诺答复日期仍未答复：{len(overdue)} 条。" in text

    # The HTML table: one row per unit, figures linked to the filtered admin queue.
    page = soup(html)
    table = page.find("table")
    assert table is not None
    body_rows = table.find_all("tr")[1:]
    for unit, tr in zip(units, body_rows, strict=False):
        cells = [td.get_text(strip=True) for td in tr.find_all("td")]
        assert cells[0] == unit.name
        expected = [str(per_unit_check[(unit.slug, c)]) for c in [*CHECK_NAMES, None]]
        assert cells[1:-1] == expected
    link = next(a["href"] for a in page.find_all("a")
                if "unit=demo2" in a["href"] and "check=3" in a["href"])
    assert link.startswith("https://yijian.example/admin?unit=demo2&check=3&")
    assert "from=2026-11-25&to=2026-11-25" in link
    # Named senders keep no contact details in the digest; anonymous ones show no identity.
    assert CONTACT not in text and CONTACT not in html and CONTACT not in mail.data.decode()

    row = the_digest(engine)
    assert row.status == DigestStatus.sent and row.attempts == 1 and row.sent_at is not None
    assert f'"total": {total}' in row.totals


def test_attachment_has_the_period_items(
    engine: Engine, demo: None, digest_settings: Settings, smtp_server: SmtpServer
) -> None:
    seed(engine, n=40, rng_seed=3)
    with session_scope(engine) as s:
        new = new_submission(created_at=local(DAY, 10), text="=HYPERLINK(\"x\")",
                             anonymous=False, name="张老师", contact=CONTACT, check_open=False)
        add_submission(s, new=new)
    tick(engine, digest_settings, smtp_server, NOW)
    _text, _html, data = parts(sent_message(smtp_server))
    book = load_workbook(io.BytesIO(data))
    sheet = book["全部意见"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["编号", "单位", "渠道"] and "意见内容" in header
    ids = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    with Session(engine) as s:
        expected = sorted(r[5] for r in period_rows(s, local(DAY), local(DAY + timedelta(1))))
    assert ids == expected
    contact_col = header.index("联系方式")
    text_col = header.index("意见内容")
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert all(row[contact_col] is None for row in rows)
    assert any(row[text_col] == "'=HYPERLINK(\"x\")" for row in rows)


def race(database_url: str, settings: Settings, server: SmtpServer, now: datetime
         ) -> list[list[DigestOutcome]]:
    """Two workers, each with its own engine (as two processes), run one tick at once."""
    results = as_processes(database_url, 2, lambda own: tick(own, settings, server, now))
    assert [r for r in results if isinstance(r, Exception)] == []
    return [r for r in results if not isinstance(r, Exception)]


def test_two_workers_send_one_email_per_period(
    database_url: str, engine: Engine, demo: None, digest_settings: Settings,
    smtp_server: SmtpServer,
) -> None:
    seed(engine, n=20)
    with session_scope(engine) as s:
        # Later days have no items: still send, so every round has a mail to race for.
        save_setting(s, bureau_id=default_bureau(s).id or 0, recipients="office@bureau.test",
                     daily_time="08:00", send_when_empty=True)
    rounds = 4
    for r in range(rounds):
        results = race(database_url, digest_settings, smtp_server, NOW + timedelta(days=r))
        assert sorted(len(x) for x in results) == [0, 1]
    ids = [sent_message(smtp_server, i)["Message-ID"] for i in range(len(smtp_server.messages))]
    assert len(ids) == rounds and len(set(ids)) == rounds
    with Session(engine) as s:
        rows = s.exec(select(Digest)).all()
    assert len(rows) == rounds and all(r.status == DigestStatus.sent for r in rows)


def refused_tick(engine: Engine, settings: Settings, smtp: SmtpServer, refusal: str
                 ) -> DigestOutcome:
    """Ten items, then a tick at NOW while the SMTP server refuses the digest with this reply:
    the digest failed."""
    seed(engine, n=10)
    smtp.refuse = refusal
    [out] = tick(engine, settings, smtp, NOW)
    assert out.status == DigestStatus.failed
    return out


def test_smtp_down_then_up_is_retried_and_delivered_once(
    engine: Engine, demo: None, digest_settings: Settings, smtp_server: SmtpServer
) -> None:
    first = refused_tick(engine, digest_settings, smtp_server, "451 4.3.0 Try again later")
    assert first.error and "451" in first.error
    row = the_digest(engine)
    assert row.status == DigestStatus.failed and row.attempts == 1
    assert row.next_attempt_at == NOW.astimezone(UTC) + timedelta(minutes=1)
    assert row.last_error is not None and "451" in row.last_error
    # Not yet due again; then the server comes back.
    assert tick(engine, digest_settings, smtp_server, NOW) == []
    smtp_server.refuse = None
    later = NOW + timedelta(minutes=2)
    [second] = tick(engine, digest_settings, smtp_server, later)
    assert second.status == DigestStatus.sent
    assert tick(engine, digest_settings, smtp_server, later) == []
    assert tick(engine, digest_settings, smtp_server, later + timedelta(hours=3)) == []
    assert len(smtp_server.messages) == 1
    row = the_digest(engine)
    assert row.status == DigestStatus.sent and row.attempts == 2 and row.last_error is None


def test_permanent_refusal_is_not_retried(
    engine: Engine, demo: None, digest_settings: Settings, smtp_server: SmtpServer
) -> None:
    refused_tick(engine, digest_settings, smtp_server, "554 5.7.1 Rejected")
    smtp_server.refuse = None
    assert tick(engine, digest_settings, smtp_server, NOW + timedelta(days=1, hours=-2)) == []
    row = the_digest(engine)
    assert row.next_attempt_at is None and row.status == DigestStatus.failed


def test_crash_mid_send_resends_once_with_the_same_message_id(
    engine: Engine, demo: None, digest_settings: Settings, smtp_server: SmtpServer
) -> None:
    seed(engine, n=10)
    # A worker claims the digest and dies before marking it sent.
    with session_scope(engine) as s:
        save_setting(s, bureau_id=default_bureau(s).id or 0,
                     recipients="office@bureau.test", daily_time="08:00")
    with claim_engine(engine) as writes:
        with session_scope(writes) as s:
            enqueue_due_digests(s, now=NOW, domain="bureau.test")
        with session_scope(writes) as s:
            claimed = claim_next_digest(s, now=NOW)
            assert claimed is not None
            message_id = claimed.message_id
    # While the lease holds, nobody else sends it.
    assert tick(engine, digest_settings, smtp_server, NOW) == []
    expired = NOW + LEASE + timedelta(seconds=1)
    [out] = tick(engine, digest_settings, smtp_server, expired)
    assert out.status == DigestStatus.sent
    assert tick(engine, digest_settings, smtp_server, expired) == []
    [mail] = smtp_server.messages
    msg = sent_message(smtp_server)
    assert msg["Message-ID"] == message_id
    row = the_digest(engine)
    assert row.attempts == 2 and row.status == DigestStatus.sent
    assert mail.rcpt_tos == ["office@bureau.test"]


def test_empty_period_is_skipped_unless_asked(
    engine: Engine, demo: None, digest_settings: Settings, smtp_server: SmtpServer
) -> None:
    [out] = tick(engine, digest_settings, smtp_server, NOW)
    assert out.status == DigestStatus.skipped and smtp_server.messages == []
    with session_scope(engine) as s:
        setting = s.exec(select(DigestSetting)).one()
        save_setting(s, bureau_id=setting.bureau_id, send_when_empty=True)
    [out] = tick(engine, digest_settings, smtp_server, NOW + timedelta(days=1))
    assert out.status == DigestStatus.sent
    assert "本日新收意见 0 条" in plain_text(sent_message(smtp_server))


def test_send_now_sends_a_named_period_once(
    engine: Engine, demo: None, digest_settings: Settings, smtp_server: SmtpServer
) -> None:
    seed(engine, n=10)
    week = parse_period(week="2026-W48")
    with Session(engine) as s:
        bureau_id = default_bureau(s).id
    assert bureau_id is not None
    out = send_digest_now(engine, digest_settings, smtp_sender(smtp_server), bureau_id=bureau_id,
                          period=week, now=NOW)
    assert out.status == DigestStatus.sent and out.period_key == "2026-W48"
    with pytest.raises(Conflict):
        send_digest_now(engine, digest_settings, smtp_sender(smtp_server), bureau_id=bureau_id,
                        period=week, now=NOW)
    [mail] = smtp_server.messages
    assert "2026年第48周" in sent_message(smtp_server)["Subject"]
    assert mail.rcpt_tos


def test_a_busy_period_attaches_its_first_items_and_links_the_rest(
    engine: Engine, demo: None
) -> None:
    seed(engine, n=60, rng_seed=3)
    with Session(engine) as s:
        period = make_period(DigestKind.day, DAY)
        content = build_digest(s, bureau_id=default_bureau(s).id or 0, period=period)
        workbook = digest_xlsx(s, content=content, budget=4000)  # a few items' worth
        expected = sorted(r[5] for r in period_rows(s, local(DAY), local(DAY + timedelta(1))))
    assert 0 < workbook.attached < workbook.total == content.total == len(expected)
    book = load_workbook(io.BytesIO(workbook.data))
    ids = [row[0] for row in book["全部意见"].iter_rows(min_row=2, values_only=True)]
    assert ids == expected[: workbook.attached]  # the first by number, none skipped
    summary = [row for row in book["汇总"].iter_rows(values_only=True) if row and row[0]]
    assert ("本期意见", content.total) in summary
    _subject, text, html = render_digest(
        content, base_url="https://yijian.example", attached=workbook.attached
    )
    link = f"https://yijian.example/admin/export.xlsx?from={DAY}&to={DAY}"
    assert f"前 {workbook.attached} 条意见（共 {content.total} 条" in text and link in text
    assert link.replace("&", "&amp;") in html


def test_a_claim_lost_while_building_is_not_sent(
    engine: Engine, demo: None, digest_settings: Settings, smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(engine, n=10)
    later = NOW + LEASE + timedelta(minutes=1)

    def slow_build(name: str) -> None:
        # The build outlives the lease and a second worker claims the digest meanwhile.
        if name == "digest.after_claim":
            monkeypatch.setattr("app.core.jobs._checkpoint_hooks", [])
            with claim_engine(engine) as writes, session_scope(writes) as s:
                assert claim_next_digest(s, now=later) is not None

    monkeypatch.setattr("app.core.jobs._checkpoint_hooks", [slow_build])
    [out] = tick(engine, digest_settings, smtp_server, NOW)
    assert out.status == DigestStatus.sending and smtp_server.messages == []
    row = the_digest(engine)
    assert row.status == DigestStatus.sending and row.attempts == 2
    assert row.claimed_until is not None and row.claimed_until > later  # the second claim's
    with pytest.raises(Conflict):  # and "send now" waits for it too
        send_digest_now(engine, digest_settings, smtp_sender(smtp_server),
                        bureau_id=row.bureau_id, period=make_period(DigestKind.day, DAY), now=NOW)


def test_send_now_pressed_in_two_processes_sends_once(
    database_url: str, engine: Engine, demo: None, digest_settings: Settings,
    smtp_server: SmtpServer,
) -> None:
    seed(engine, n=10)
    week = parse_period(week="2026-W48")
    with session_scope(engine) as s:  # an earlier attempt failed: the case that went twice
        bureau_id = default_bureau(s).id or 0
        failed = enqueue_digest(s, bureau_id=bureau_id, period=week, domain="b.test", now=NOW)
        failed.status, failed.next_attempt_at = DigestStatus.failed, NOW
    outcomes = as_processes(database_url, 2, lambda own: send_digest_now(
        own, digest_settings, smtp_sender(smtp_server), bureau_id=bureau_id, period=week,
        now=NOW))
    sent = [o for o in outcomes if isinstance(o, DigestOutcome)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert [o.status for o in sent] == [DigestStatus.sent] and len(refused) == 1
    assert len(smtp_server.messages) == 1


def test_one_digest_per_bureau_at_a_time(
    engine: Engine, demo: None, digest_settings: Settings, smtp_server: SmtpServer
) -> None:
    seed(engine, n=10)
    with Session(engine) as s:
        bureau_id = default_bureau(s).id
    # Another worker is building this bureau's other digest (the week's, say) right now.
    with exclusive(engine, f"digest-bureau-{bureau_id}") as held:
        assert held
        [out] = tick(engine, digest_settings, smtp_server, NOW)
    assert out.status == DigestStatus.pending and smtp_server.messages == []
    row = the_digest(engine)  # given back, the try not counted
    assert (row.status, row.attempts, row.claimed_until) == (DigestStatus.pending, 0, None)
    assert tick(engine, digest_settings, smtp_server, NOW) == []  # not before a minute
    [out] = tick(engine, digest_settings, smtp_server, NOW + timedelta(minutes=1))
    assert out.status == DigestStatus.sent and len(smtp_server.messages) == 1


def postgresql_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        # SQLite writers queue on the database lock (BEGIN IMMEDIATE): no interleaving.
        pytest.skip("interleaved writers happen on PostgreSQL only")


def test_send_now_rereads_a_row_another_process_claimed(
    engine: Engine, demo: None
) -> None:
    postgresql_only(engine)
    week = parse_period(week="2026-W48")
    with session_scope(engine) as s:
        bureau_id = default_bureau(s).id or 0
        failed = enqueue_digest(s, bureau_id=bureau_id, period=week, domain="b.test", now=NOW)
        failed.status, failed.next_attempt_at = DigestStatus.failed, NOW
    with Session(engine) as first:
        # The first process has the failed row in its session, as send_digest_now does ...
        row = enqueue_digest(first, bureau_id=bureau_id, period=week, domain="b.test", now=NOW)
        assert row.status == DigestStatus.failed and row.id is not None
        # ... when a second process claims it and commits.
        with session_scope(engine) as second:
            claim_digest_now(second, digest_id=row.id, now=NOW)
        with pytest.raises(Conflict):
            claim_digest_now(first, digest_id=row.id, now=NOW)


def test_concurrent_first_settings_make_one_row(engine: Engine, demo: None) -> None:
    postgresql_only(engine)
    with Session(engine) as s:
        bureau_id = default_bureau(s).id or 0
    saved: list[str] = []

    def first_save() -> None:
        with session_scope(engine) as first:
            row = save_setting(first, bureau_id=bureau_id, recipients="a@bureau.test")
            saved.append(row.recipients)

    with Session(engine) as second:
        save_setting(second, bureau_id=bureau_id, recipients="b@bureau.test")  # not committed
        thread = threading.Thread(target=first_save)
        thread.start()
        # The first saver found no row and now waits on the second's uncommitted insert.
        wait_for_lock_wait(second)
        second.commit()
        thread.join()
    assert saved == ["a@bureau.test"]
    with Session(engine) as s:
        [row] = s.exec(select(DigestSetting)).all()
    assert row.recipients == "a@bureau.test"


def wait_for_lock_wait(session: Session) -> None:
    """Return once another connection waits on a lock (PostgreSQL's pg_stat_activity)."""
    query = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
    for _ in range(500):
        with session.get_bind().connect() as conn:  # type: ignore[union-attr]
            if conn.execute(query).scalar_one():
                return
        threading.Event().wait(0.01)
    raise AssertionError("the other saver never waited on the lock")


def setting(daily: str | None, weekly: int | None) -> DigestSetting:
    return DigestSetting(bureau_id=1, recipients="a@b.test", daily_time=daily,
                         weekly_weekday=weekly)


@pytest.mark.parametrize(
    ("daily", "weekly", "now", "keys"),
    [
        ("08:00", None, datetime(2026, 11, 26, 8, 0, tzinfo=TZ), ["2026-11-25"]),
        ("08:00", None, datetime(2026, 11, 26, 7, 59, tzinfo=TZ), ["2026-11-24"]),
        # 23:30 UTC is already the next morning in Shanghai.
        ("07:00", None, datetime(2026, 11, 25, 23, 30, tzinfo=UTC), ["2026-11-25"]),
        (None, 0, datetime(2026, 11, 30, 8, 0, tzinfo=TZ), ["2026-W48"]),
        (None, 0, datetime(2026, 11, 30, 7, 0, tzinfo=TZ), ["2026-W47"]),
        ("18:00", 4, datetime(2026, 11, 27, 18, 1, tzinfo=TZ), ["2026-11-26", "2026-W47"]),
        ("18:00", 4, datetime(2026, 11, 27, 17, 0, tzinfo=TZ), ["2026-11-25", "2026-W46"]),
        (None, None, datetime(2026, 11, 27, 17, 0, tzinfo=TZ), []),
    ],
)
def test_due_periods(daily: str | None, weekly: int | None, now: datetime,
                     keys: list[str]) -> None:
    assert [p.key for p in due_periods(setting(daily, weekly), now=now)] == keys


def test_periods_and_working_days() -> None:
    week = make_period(DigestKind.week, date(2026, 1, 1))
    assert week.key == "2026-W01" and week.first_day == date(2025, 12, 29)
    assert week.start == datetime(2025, 12, 28, 16, tzinfo=UTC)
    assert week.previous().key == "2025-W52"
    assert parse_period(day="2026-11-25").end == datetime(2026, 11, 25, 16, tzinfo=UTC)
    for bad in ({"day": "2026-13-01"}, {"week": "2026-W60"}, {"week": "48"}, {}):
        with pytest.raises(Invalid):
            parse_period(**bad)


def test_settings_are_validated(engine: Engine, demo: None) -> None:
    with session_scope(engine) as s:
        bureau_id = default_bureau(s).id
        assert bureau_id is not None
        for kwargs in ({"recipients": "not-an-address"}, {"daily_time": "8:00"},
                       {"daily_time": "24:00"}, {"weekly_weekday": 7}):
            with pytest.raises(Invalid):
                save_setting(s, bureau_id=bureau_id, **kwargs)  # type: ignore[arg-type]
        saved = save_setting(s, bureau_id=bureau_id, recipients="a@x.test；b@x.test",
                             daily_time="07:30", weekly_weekday=0)
        assert saved.recipients == "a@x.test, b@x.test"
        saved = save_setting(s, bureau_id=bureau_id, clear_daily=True)
        assert saved.daily_time is None and saved.weekly_weekday == 0


def test_public_evaluation_results_are_in_the_digest(
    engine: Engine, demo: None, digest_settings: Settings, smtp_server: SmtpServer
) -> None:
    from app.campaign.evaluation import Vote, create_codes, submit_evaluation
    from app.campaign.measures import MeasureInput, create_measure
    from app.models import Evaluation, MeasureStatus, Rating

    seed(engine)
    with Session(engine) as s:
        demo_id = unit_id(s)
        measure = create_measure(s, unit_id=demo_id, data=MeasureInput(
            title="食堂菜价公示", description="每周公示", owner="总务处", deadline=None,
            progress=50, status=MeasureStatus.doing, check=5))
        assert measure.id is not None
        codes = create_codes(s, secret=TEST_SECRET, unit_id=demo_id, count=3)
        for code, rating in zip(codes[:2], (Rating.satisfied, Rating.unsatisfied), strict=True):
            submit_evaluation(s, secret=TEST_SECRET, unit_id=demo_id, code=code,
                              votes={measure.id: Vote(rating, None)}, evaluation_open=True)
        # Ratings count in the period they were made in: move them into the digest's day.
        s.execute(update(Evaluation).values(created_at=local(DAY, 10)))
        s.commit()
    tick(engine, digest_settings, smtp_server, NOW)
    text, html, _xlsx = parts(sent_message(smtp_server))
    assert "八、群众评议" in text
    assert "示范县第一初级中学：满意 1，基本满意 0，不满意 1，满意率 50%；评议码已用 2/3" in text
    assert "食堂菜价公示：满意 1，基本满意 0，不满意 1" in text
    assert soup(html).find(id="evaluations") is not None

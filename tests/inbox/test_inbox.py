"""Email intake against a real Dovecot and a real aiosmtpd: routing, anonymity, acks, follow-ups."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.db import session_scope
from app.core.errors import Conflict, Invalid
from app.inbox import mailboxes
from app.inbox.jobs import PollResult, poll_mailboxes
from app.inbox.mailboxes import MailboxSpec
from app.inbox.prepare import Preparer
from app.intake.service import lookup_receipt
from app.mail.compose import build_message
from app.main import create_app
from app.models import (
    Attachment,
    CampaignPhase,
    InboundMessage,
    InboundStatus,
    MailboxConfig,
    OutboxKind,
    OutboxMail,
    OutboxStatus,
    Submission,
    SubmissionFollowup,
    Unit,
    utcnow,
)
from app.outbox.jobs import send_due_mail
from app.outbox.service import queue_mail
from tests.conftest import make_settings, smtp_sender
from tests.factories import incoming_mail, jpeg_with_gps, unit_slugs
from tests.helpers import parsed_mail, plain_text, signed_in_admin, soup
from tests.inbox.support import OUR_ADDRESS, add_box, ingest_raw, poll
from tests.servers.dovecot import DovecotServer, free_port
from tests.servers.smtp import SmtpServer


def submissions(session: Session) -> list[Submission]:
    return list(session.exec(select(Submission).order_by(col(Submission.id))).all())


def receipt_in(ack: bytes) -> str:
    found = re.search(r"回执号：(\d{4}-\d{4}-\d{4}-\d{4})", plain_text(parsed_mail(ack)))
    assert found is not None
    return found.group(1)


def test_poll_stores_routes_acks_and_flags(
    engine: Engine, demo: None, dovecot: DovecotServer, smtp_server: SmtpServer,
    mail_settings: Settings,
) -> None:
    add_box(engine, dovecot)
    dovecot.deliver(incoming_mail(sender="named@example.test"))
    dovecot.deliver(incoming_mail(n=2, sender="anon@example.test", subject="【匿名】宿舍问题"))
    dovecot.deliver(incoming_mail(n=3, sender="plus@example.test", to="inbox+demo2@school.test"))
    result = poll(engine, mail_settings, smtp_server)
    assert result.statuses == {"ingested": 3} and result.acks_sent == 3

    with Session(engine) as session:
        named, anon, plus = submissions(session)
        units = unit_slugs(session)
        assert [units[s.unit_id] for s in (named, anon, plus)] == ["demo", "demo", "demo2"]
        assert {s.channel for s in (named, anon, plus)} == {"email"}
        assert (named.anonymous, named.name, named.contact) == (False, "李四", "named@example.test")
        assert named.text == "食堂建议\n\n希望食堂多做些蔬菜。（1）"
        assert (anon.anonymous, anon.name, anon.contact) == (True, None, None)
        assert anon.text.startswith("宿舍问题\n\n")
        rows = {r.submission_id: r for r in session.exec(select(InboundMessage)).all()}
        # The raw message names the sender: kept for named mail only.
        assert rows[named.id].raw is not None and rows[anon.id].raw is None
        assert rows[anon.id].subject is None and rows[anon.id].received_at is None
        assert all(r.seen for r in rows.values())
        acks = session.exec(select(OutboxMail)).all()
        assert {a.status for a in acks} == {OutboxStatus.sent}
        # Sent: the address and the message holding the receipt are gone.
        assert all(a.to_addr is None and a.message is None for a in acks)
        dump = b"".join(r.raw or b"" for r in rows.values()).decode(errors="replace")
        assert "anon@example.test" not in dump

    assert all("\\Seen" in flags for flags in dovecot.flags().values())
    assert "yijian" in dovecot.log()  # IMAP ID before SELECT
    by_rcpt = {m.rcpt_tos[0]: m for m in smtp_server.messages}
    assert set(by_rcpt) == {"named@example.test", "anon@example.test", "plus@example.test"}
    ack = parsed_mail(by_rcpt["anon@example.test"].data)
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == "<msg2.anon@client.example>"
    body = ack.get_body(("plain",))
    assert body is not None and "https://yijian.example/r" in body.get_content()
    with Session(engine) as session:
        view = lookup_receipt(
            session, secret=mail_settings.secret_key,
            receipt=receipt_in(by_rcpt["anon@example.test"].data),
        )
        assert view.unit_name == "示范县第一初级中学"

    again = poll(engine, mail_settings, smtp_server)
    assert again.fetched == 0 and len(smtp_server.messages) == 3
    with Session(engine) as session:
        assert len(submissions(session)) == 3


def test_mailbox_marked_anonymous_keeps_no_address(
    engine: Engine, demo: None, dovecot: DovecotServer, smtp_server: SmtpServer,
    mail_settings: Settings,
) -> None:
    add_box(engine, dovecot, anonymous=True)
    dovecot.deliver(incoming_mail(sender="who@example.test"))
    poll(engine, mail_settings, smtp_server)
    with Session(engine) as session:
        (sub,) = submissions(session)
        assert sub.anonymous and sub.name is None and sub.contact is None
        row = session.exec(select(InboundMessage)).one()
        assert row.raw is None and row.subject is None
    assert [m.rcpt_tos for m in smtp_server.messages] == [["who@example.test"]]


def test_one_ack_per_sender_per_hour_and_none_to_ourselves(
    engine: Engine, demo: None, dovecot: DovecotServer, smtp_server: SmtpServer,
    mail_settings: Settings,
) -> None:
    add_box(engine, dovecot)
    for n in range(3):
        dovecot.deliver(incoming_mail(n=n, sender="busy@example.test"))
    dovecot.deliver(incoming_mail(n=9, sender=OUR_ADDRESS))
    result = poll(engine, mail_settings, smtp_server)
    assert result.statuses == {"ingested": 4}
    assert [m.rcpt_tos for m in smtp_server.messages] == [["busy@example.test"]]
    # An admin's reply to another sender does not count against that sender's one ack.
    with session_scope(engine) as session:
        first = submissions(session)[0]
        assert first.id is not None
        address = "answered@example.test"
        queue_mail(
            session,
            kind=OutboxKind.reply,
            submission_id=first.id,
            to_addr=address,
            message=build_message(
                from_addr=OUR_ADDRESS, to_addrs=[address], subject="答复", text="已处理。",
                message_id_domain="school.test",
            ),
            send_at=utcnow(),
        )
    dovecot.deliver(incoming_mail(n=10, sender=address))
    poll(engine, mail_settings, smtp_server)
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        "answered@example.test", "answered@example.test", "busy@example.test"
    ]


def test_replies_become_followups(
    engine: Engine, demo: None, dovecot: DovecotServer, smtp_server: SmtpServer,
    mail_settings: Settings,
) -> None:
    add_box(engine, dovecot)
    dovecot.deliver(incoming_mail(sender="a@example.test", subject="【匿名】操场"))
    poll(engine, mail_settings, smtp_server)
    ack = parsed_mail(smtp_server.messages[0].data)
    code = receipt_in(smtp_server.messages[0].data)
    # A reply in the thread of our acknowledgement, and a new mail quoting the receipt code.
    dovecot.deliver(incoming_mail(n=2, sender="a@example.test", subject=str(ack["Subject"]),
                         body="补充：操场灯坏了", headers={"In-Reply-To": str(ack["Message-ID"])}))
    dovecot.deliver(incoming_mail(n=3, sender="b@example.test", subject=f"关于回执 {code}",
                         body="还想补充一点"))
    result = poll(engine, mail_settings, smtp_server)
    assert result.statuses == {"followup": 2} and result.acks_sent == 0
    with Session(engine) as session:
        (sub,) = submissions(session)
        texts = [f.text for f in session.exec(select(SubmissionFollowup)).all()]
        assert texts == ["补充：操场灯坏了（2）", "还想补充一点（3）"]
        followups = session.exec(
            select(InboundMessage).where(InboundMessage.status == InboundStatus.followup)
        ).all()
        assert {f.submission_id for f in followups} == {sub.id}
        assert all(f.raw is None for f in followups)
    # The admin sees them on the item's page, in the order they came.
    with TestClient(create_app(mail_settings), base_url="https://yijian.example") as client:
        signed_in_admin(client, engine)
        page = soup(client.get(f"/admin/items/{sub.id}").text)
        queue = soup(client.get("/admin").text)
    shown = [p.get_text() for p in page.select("article.followup p.body")]
    assert shown == ["补充：操场灯坏了（2）", "还想补充一点（3）"]
    # The queue marks the item, so a sender writing back after the reply is not missed.
    badge = queue.select_one(f"li.item[data-id='{sub.id}'] .followups")
    assert badge is not None and badge.get_text() == "发件人回信 2 封"


def poll_refused(engine: Engine, dovecot: DovecotServer, smtp_server: SmtpServer,
                 settings: Settings, refusal: str) -> PollResult:
    """One mail polled while the SMTP server refuses its acknowledgement with this reply."""
    add_box(engine, dovecot)
    dovecot.deliver(incoming_mail())
    smtp_server.refuse = refusal
    return poll(engine, settings, smtp_server)


def the_ack(session: Session) -> OutboxMail:
    return session.exec(select(OutboxMail)).one()


def test_temporary_smtp_failure_is_retried(
    engine: Engine, demo: None, dovecot: DovecotServer, smtp_server: SmtpServer,
    mail_settings: Settings,
) -> None:
    result = poll_refused(engine, dovecot, smtp_server, mail_settings, "451 4.3.0 Try again later")
    assert result.acks_failed == 1 and result.acks_sent == 0
    with Session(engine) as session:
        ack = the_ack(session)
        assert ack.status == OutboxStatus.pending and ack.attempts == 1
        assert ack.to_addr == "parent@example.test" and ack.next_attempt_at > utcnow()
        assert ack.last_error is not None and "parent@" not in ack.last_error
        # Not due yet: nothing is tried.
        send_due_mail(engine, smtp_sender(smtp_server))
        assert the_ack(session).attempts == 1
        session.execute(update(OutboxMail).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    smtp_server.refuse = None
    send_due_mail(engine, smtp_sender(smtp_server))
    with Session(engine) as session:
        ack = the_ack(session)
        assert ack.status == OutboxStatus.sent and ack.to_addr is None and ack.message is None
    assert len(smtp_server.messages) == 1


def test_permanent_smtp_failure_forgets_address(
    engine: Engine, demo: None, dovecot: DovecotServer, smtp_server: SmtpServer,
    mail_settings: Settings,
) -> None:
    poll_refused(engine, dovecot, smtp_server, mail_settings, "550 5.1.1 No such user")
    with Session(engine) as session:
        ack = the_ack(session)
        assert ack.status == OutboxStatus.failed and ack.to_addr is None and ack.message is None


def test_automated_mail_is_recorded_never_ingested_or_answered(
    engine: Engine, demo: None, dovecot: DovecotServer, smtp_server: SmtpServer,
    mail_settings: Settings, flanker: Path,
) -> None:
    add_box(engine, dovecot)
    automated = [p for p in sorted(flanker.glob("*.eml"))
                 if p.name.startswith(("bounce-", "complaints-", "disposition-", "charset-"))]
    for path in automated:
        dovecot.deliver(path.read_bytes())
    dovecot.deliver(incoming_mail(headers={"Auto-Submitted": "auto-replied"},
                                  subject="自动回复：休假"))
    result = poll(engine, mail_settings, smtp_server)
    assert result.statuses == {"automated": len(automated) + 1}
    assert smtp_server.messages == []
    with Session(engine) as session:
        assert submissions(session) == []
        assert mail_settings  # the page lists them with Chinese reasons
        views = mailboxes.list_unprocessed(session, bureau_id=_bureau(session))
        assert len(views) == len(automated) + 1
        assert {v.reason for v in views} >= {"退信", "自动回复", "已读回执", "投诉报告"}


def _bureau(session: Session) -> int:
    box = session.exec(select(MailboxConfig)).first()
    assert box is not None
    return box.bureau_id


def test_real_world_messages_are_ingested_or_quarantined(
    engine: Engine, demo: None, dovecot: DovecotServer, mail_settings: Settings, flanker: Path,
) -> None:
    add_box(engine, dovecot)
    names = ["attached-pdf.eml", "8bitmime.eml", "bilingual-simple.eml", "false-multipart.eml",
             "mailformed-headers.eml", "missing-final-boundary.eml"]
    for name in names:
        dovecot.deliver((flanker / name).read_bytes())
    result = poll(engine, mail_settings, None)
    assert result.fetched == len(names)
    # Broken MIME still yields what can be read (false-multipart: its subject only).
    assert result.statuses == {"ingested": len(names)}
    with Session(engine) as session:
        pdf = session.exec(select(Attachment)).one()
        assert pdf.content_type == "application/pdf" and pdf.filename == "附件1.pdf"
        texts = [s.text for s in submissions(session)]
        assert any("Превел" in t for t in texts)
        assert "Broken MIME" in texts


def test_attachments_follow_the_form_limits(
    engine: Engine, demo: None, dovecot: DovecotServer, mail_settings: Settings,
) -> None:
    add_box(engine, dovecot)
    photo = jpeg_with_gps()
    assert b"PhoneMaker" in photo
    files = [("张三.jpg", "image/jpeg", photo), ("virus.exe", "application/octet-stream", b"MZ")]
    files += [(f"p{i}.jpg", "image/jpeg", photo) for i in range(3)]
    dovecot.deliver(incoming_mail(files=files))
    poll(engine, mail_settings, None)
    with Session(engine) as session:
        kept = session.exec(select(Attachment).order_by(col(Attachment.id))).all()
        assert len(kept) == mail_settings.max_files
        assert all(b"PhoneMaker" not in a.data and a.content_type == "image/jpeg" for a in kept)
        assert kept[0].filename == "张三.jpg"  # a named sender keeps file names
        row = session.exec(select(InboundMessage)).one()
        assert row.status == InboundStatus.ingested
        assert row.reason == "dropped:application/octet-stream; dropped:too-many"


def test_routing_by_subject_tag_and_no_unit(
    engine: Engine, demo: None, dovecot: DovecotServer, mail_settings: Settings,
) -> None:
    add_box(engine, dovecot, unit=None)
    dovecot.deliver(incoming_mail(subject="【demo2】【匿名】厕所"))
    dovecot.deliver(incoming_mail(n=2, subject="[示范县第一初级中学] 校车"))
    dovecot.deliver(incoming_mail(n=3, to="yijian-demo@school.example", subject="别名"))
    dovecot.deliver(incoming_mail(n=4, subject="没有学校"))
    result = poll(engine, mail_settings, None)
    assert result.statuses == {"ingested": 3, "quarantined": 1}
    with Session(engine) as session:
        units = unit_slugs(session)
        stored = [(units[s.unit_id], s.anonymous, s.text.split("\n")[0])
                  for s in submissions(session)]
        assert stored == [("demo2", True, "厕所"), ("demo", False, "校车"),
                          ("demo", False, "别名")]
        row = session.exec(
            select(InboundMessage).where(InboundMessage.status == InboundStatus.quarantined)
        ).one()
        assert row.reason == "no-unit" and row.raw is not None


def test_closed_channel_is_recorded(
    engine: Engine, demo: None, dovecot: DovecotServer, smtp_server: SmtpServer,
    mail_settings: Settings,
) -> None:
    with Session(engine) as session:
        session.execute(update(CampaignPhase).values(channels="web"))
        session.commit()
    add_box(engine, dovecot)
    dovecot.deliver(incoming_mail())
    result = poll(engine, mail_settings, smtp_server)
    assert result.statuses == {"closed": 1} and smtp_server.messages == []
    assert all("\\Seen" in f for f in dovecot.flags().values())


def _box(session: Session, box_id: int) -> MailboxConfig:
    box = session.get(MailboxConfig, box_id)
    assert box is not None
    return box


def test_bad_messages_are_quarantined_and_duplicates_recorded(
    engine: Engine, demo: None, dovecot: DovecotServer, mail_settings: Settings,
) -> None:
    first = add_box(engine, dovecot)
    second = add_box(engine, dovecot, name="other")
    with Session(engine) as session, Preparer() as preparer:
        box = _box(session, first)
        outcomes = [
            ingest_raw(session, settings=mail_settings, mailbox=box, uid=uid, raw=raw,
                       preparer=preparer)
            for uid, raw in [(1, b""), (2, b"x" * (10 * 1024 * 1024 + 1)), (3, incoming_mail()),
                             (4, b"From: a@example.test\nSubject: \n\n \n")]
        ]
        assert [o.status for o in outcomes] == [
            InboundStatus.quarantined, InboundStatus.too_large, InboundStatus.ingested,
            InboundStatus.quarantined]
        # The same UID again (a re-run) changes nothing; the same mail via a Cc is a duplicate.
        replay = ingest_raw(session, settings=mail_settings, mailbox=box, uid=3,
                            raw=incoming_mail(), preparer=preparer)
        assert replay.replayed and replay.submission_id == outcomes[2].submission_id
        cc = ingest_raw(session, settings=mail_settings, mailbox=_box(session, second),
                        uidvalidity=1, uid=1, raw=incoming_mail(), preparer=preparer)
        assert cc.status == InboundStatus.duplicate
        session.commit()
        rows = session.exec(select(InboundMessage).order_by(col(InboundMessage.id))).all()
        assert [(r.status, r.reason) for r in rows] == [
            ("quarantined", "malformed:empty"), ("too_large", "too-large"),
            ("ingested", ""), ("quarantined", "invalid:text"), ("duplicate", "message-id")]
        # Mail not known to come from a named sender keeps neither its bytes nor its size.
        assert rows[1].raw is None and rows[1].size == 10 * 1024 * 1024 + 64 * 1024
        assert len(submissions(session)) == 1


def test_uidvalidity_change_restarts_without_duplicates(
    engine: Engine, demo: None, dovecot: DovecotServer, mail_settings: Settings,
) -> None:
    box_id = add_box(engine, dovecot)
    dovecot.deliver(incoming_mail())
    poll(engine, mail_settings, None)
    with Session(engine) as session:
        # As if the first pass had seen the folder under another UIDVALIDITY.
        session.execute(update(MailboxConfig).values(last_uidvalidity=1))
        session.execute(update(InboundMessage).values(uidvalidity=1))
        session.commit()
    result = poll(engine, mail_settings, None)
    assert result.statuses == {"duplicate": 1}
    with Session(engine) as session:
        assert len(submissions(session)) == 1 and _box(session, box_id).last_uid == 1


def test_connection_error_is_recorded_and_others_still_polled(
    engine: Engine, demo: None, dovecot: DovecotServer, mail_settings: Settings,
    client: TestClient,
) -> None:
    add_box(engine, dovecot, name="broken", password="wrong")
    add_box(engine, dovecot)
    with session_scope(engine) as session:
        mailboxes.add_mailbox(session, spec=MailboxSpec(
            name="closed", host="127.0.0.1", port=free_port(), security="none",
            username="u", password="p", unit_slug="demo"))
    dovecot.deliver(incoming_mail())
    result = poll_mailboxes(engine, mail_settings, None)
    assert result.statuses == {"ingested": 1} and len(result.errors) == 2
    with Session(engine) as session:
        # A generic reason for the page (not a port scanner: a refused port and a wrong
        # password read the same way each time); the server's reply goes to the log only.
        errors = {b.name: b.last_error for b in mailboxes.list_mailboxes(session)}
        assert errors == {"broken": "认证失败：请检查邮箱账号和授权码",
                          "closed": "无法连接收信服务器", "school": None}
    signed_in_admin(client, engine)
    shown = [td.get_text() for td in soup(client.get("/admin/inbox").text).select("td.error")]
    assert sorted(shown) == ["", "无法连接收信服务器", "认证失败：请检查邮箱账号和授权码"]


def test_env_mailbox_is_upserted(engine: Engine, demo: None, database_url: str) -> None:
    settings = make_settings(database_url, imap_host="imap.example.test",
                             imap_user="box@example.test", imap_password="pw", imap_unit="demo2")
    with Session(engine) as session:
        mailboxes.upsert_env_mailbox(session, settings=settings)
        moved = settings.model_copy(update={"imap_port": 995})
        mailboxes.upsert_env_mailbox(session, settings=moved)
        session.commit()
        (box,) = mailboxes.list_mailboxes(session)
        assert (box.name, box.port, box.username) == ("env", 995, "box@example.test")
        assert session.get(Unit, box.unit_id) is not None


def test_mailbox_validation(engine: Engine, demo: None) -> None:
    good = MailboxSpec(name="a", host="imap.qq.com", port=993, security="ssl",
                       username="x@qq.com", password="code")
    with Session(engine) as session:
        for bad, field in [({"name": "坏 名"}, "name"), ({"port": 0}, "port"),
                           ({"security": "tls"}, "security"), ({"password": ""}, "password"),
                           ({"host": "imap qq"}, "host"),
                           # Clear text only to this machine: nothing crosses a network.
                           ({"security": "none"}, "security"),
                           ({"security": "none", "host": "10.0.0.1"}, "security"),
                           ({"security": "none", "host": "localhost.evil.example"}, "security")]:
            with pytest.raises(Invalid) as info:
                mailboxes.add_mailbox(session, spec=MailboxSpec(**{**good.__dict__, **bad}))
            assert info.value.field == field
        for n, host in enumerate(("127.0.0.1", "localhost", "::1", "127.0.0.2")):
            mailboxes.add_mailbox(session, spec=MailboxSpec(
                **{**good.__dict__, "name": f"local{n}", "host": host, "security": "none"}))
        mailboxes.add_mailbox(session, spec=good)
        with pytest.raises(Conflict):
            mailboxes.add_mailbox(session, spec=good)

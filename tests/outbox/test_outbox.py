"""The outbox sent by several workers at once (and an operator's `inbox poll --once`):
every mail goes out once, through a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from app.core.db import claim_engine, session_scope
from app.mail.compose import build_message
from app.models import OutboxKind, OutboxMail, OutboxStatus, utcnow
from app.outbox.jobs import SendResult, send_due_mail
from app.outbox.service import CLAIM_LEASE, claim_due_mail, queue_mail
from tests.conftest import smtp_sender
from tests.factories import add_submission, new_submission
from tests.helpers import as_processes
from tests.servers.smtp import SmtpServer


def queue_acks(engine: Engine, n: int) -> None:
    with session_scope(engine) as s:
        sid = add_submission(s, new=new_submission(text="邮件来的意见：操场要修"))
        for i in range(n):
            message = build_message(
                from_addr="yijian@school.test", to_addrs=[f"parent{i}@home.test"],
                subject="已收到您的意见", text=f"回执 {i}", message_id_domain="school.test",
            )
            queue_mail(s, kind=OutboxKind.ack, submission_id=sid, to_addr=f"parent{i}@home.test",
                       message=message, send_at=utcnow())


def test_three_senders_at_once_send_each_mail_once(
    engine: Engine, database_url: str, demo: None, smtp_server: SmtpServer
) -> None:
    queue_acks(engine, 40)
    results = as_processes(database_url, 3,
                           lambda own: send_due_mail(own, smtp_sender(smtp_server)))
    assert all(isinstance(r, SendResult) for r in results), results
    recipients = [rcpt for mail in smtp_server.messages for rcpt in mail.rcpt_tos]
    assert sorted(recipients) == sorted(f"parent{i}@home.test" for i in range(40))
    assert sum(r.sent for r in results if isinstance(r, SendResult)) == 40
    with Session(engine) as s:
        rows = s.exec(select(OutboxMail)).all()
    assert all(r.status == OutboxStatus.sent and r.to_addr is None for r in rows)


def test_a_claimed_mail_waits_for_its_lease(
    engine: Engine, demo: None, smtp_server: SmtpServer
) -> None:
    queue_acks(engine, 1)
    now = utcnow()
    with claim_engine(engine) as claims:
        with session_scope(claims) as s:  # a worker claims it, then dies before sending
            assert len(claim_due_mail(s, now=now)) == 1
        with session_scope(claims) as s:
            assert claim_due_mail(s, now=now + CLAIM_LEASE - timedelta(seconds=1)) == []
        with session_scope(claims) as s:  # its lease over, the mail is sent after all
            assert len(claim_due_mail(s, now=now + CLAIM_LEASE + timedelta(seconds=1))) == 1

"""Named senders by email: the question goes out through the outbox, the sender answers by
replying (real Dovecot, the inbox's threading), and the reply mail carries a rating link."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.core.config import Settings
from app.main import create_app
from app.models import OutboxKind, OutboxMail, OutboxStatus, ReplyRatingRow, Status, Submission
from app.outbox.jobs import send_due_mail
from tests.conftest import make_settings, smtp_sender
from tests.dialogue.support import ask, reply, submit
from tests.factories import incoming_mail
from tests.helpers import parsed_mail, plain_text, signed_in_admin, soup
from tests.inbox.support import OUR_ADDRESS, add_box, poll
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpServer

SENDER = "wang@example.test"


def mail_settings(database_url: str, smtp: SmtpServer) -> Settings:
    return make_settings(
        database_url,
        mail_from=OUR_ADDRESS,
        base_url="https://yijian.example",
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_security="none",
    )


def test_a_named_sender_answers_the_question_by_replying(
    database_url: str,
    engine: Engine,
    demo: None,
    dovecot: DovecotServer,
    smtp_server: SmtpServer,
) -> None:
    settings = mail_settings(database_url, smtp_server)
    add_box(engine, dovecot)
    with TestClient(create_app(settings), base_url="https://yijian.example") as client:
        csrf = signed_in_admin(client, engine)
        _receipt, item = submit(client, engine, anonymous=False, contact=SENDER)
        ask(client, csrf, item, "请问是哪天发生的？")
        # Queued, not sent by the request: the worker sends it, once.
        assert smtp_server.messages == []
        sent = send_due_mail(engine, smtp_sender(smtp_server))
        assert sent.sent == 1 and send_due_mail(engine, smtp_sender(smtp_server)).sent == 0
        [out] = smtp_server.messages
        assert out.rcpt_tos == [SENDER]
        question = parsed_mail(out.data)
        assert "请问是哪天发生的？" in plain_text(question)
        with Session(engine) as s:
            row = s.exec(select(OutboxMail)).one()
            assert row.kind == OutboxKind.question and row.status == OutboxStatus.sent

        dovecot.deliver(
            incoming_mail(
                n=2,
                sender=SENDER,
                name="王芳",
                subject=f"Re: {question['Subject']}",
                body="上周三中午",
                headers={"In-Reply-To": str(question["Message-ID"])},
            )
        )
        assert poll(engine, settings, smtp_server).statuses == {"followup": 1}
        queue = soup(client.get("/admin?flag=unread").text)
        assert [li["data-id"] for li in queue.select("#queue li.item")] == [str(item)]
        page = soup(client.get(f"/admin/items/{item}").text)
        bodies = [a.select_one("p.body").get_text() for a in page.select("#thread ~ article")]  # type: ignore[union-attr]
        assert bodies == ["请问是哪天发生的？", "上周三中午（2）"]


def test_the_reply_mail_carries_a_rating_link(
    database_url: str, engine: Engine, demo: None, smtp_server: SmtpServer
) -> None:
    settings = mail_settings(database_url, smtp_server)
    with TestClient(create_app(settings), base_url="https://yijian.example") as client:
        csrf = signed_in_admin(client, engine)
        _receipt, item = submit(client, engine, anonymous=False, contact=SENDER)
        reply(client, csrf, item, "已处理。")
        [out] = smtp_server.messages
        text = plain_text(parsed_mail(out.data))
        found = re.search(r"https://yijian\.example(/r/rate/\d+/[0-9a-f]+)", text)
        assert found is not None, text
        link = found.group(1)
        form = soup(client.get(link).text).select_one("form.rate")
        assert form is not None
        # A forged token is refused; the real one rates once.
        assert client.get(link[:-4] + "0000").status_code == 404
        ok = client.post(link, data={"rating": "unsatisfied", "comment": "没解决"})
        assert ok.status_code == 200 and soup(ok.text).select_one(".rated") is not None
        assert client.post(link, data={"rating": "satisfied"}).status_code == 409
    with Session(engine) as s:
        assert s.exec(select(ReplyRatingRow.rating)).all() == ["unsatisfied"]
        sub = s.get(Submission, item)
        assert sub is not None and sub.status == Status.new

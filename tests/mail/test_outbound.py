from __future__ import annotations

import asyncio

import pytest

from app.mail.outbound import MailSender, MailSendError, SmtpMailSender
from tests.factories import ack_mail
from tests.helpers import sent_message
from tests.servers.dovecot import free_port
from tests.servers.smtp import SMTP_PASSWORD, SMTP_USER, SmtpServer


def test_delivers_with_login(smtp_server: SmtpServer) -> None:
    sender: MailSender = SmtpMailSender(
        smtp_server.host, smtp_server.port, "none", SMTP_USER, SMTP_PASSWORD, timeout=10
    )
    msg = ack_mail()
    asyncio.run(sender.send(msg))
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["student@example.test"]
    assert received.mail_from == "yijian@school.test"
    assert received.login == SMTP_USER
    parsed = sent_message(smtp_server)
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["In-Reply-To"] == "<orig@example.test>"


def test_delivers_without_login(smtp_server: SmtpServer) -> None:
    asyncio.run(SmtpMailSender(smtp_server.host, smtp_server.port, "none").send(ack_mail()))
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0].login is None


def test_temporary_refusal_raises(smtp_server: SmtpServer) -> None:
    smtp_server.refuse = "451 4.3.0 Try again later"
    sender = SmtpMailSender(smtp_server.host, smtp_server.port, "none", timeout=10)
    with pytest.raises(MailSendError) as info:
        asyncio.run(sender.send(ack_mail()))
    assert info.value.temporary and info.value.code == 451
    assert smtp_server.messages == []


def test_permanent_refusal_raises(smtp_server: SmtpServer) -> None:
    smtp_server.refuse = "554 5.7.1 Rejected"
    with pytest.raises(MailSendError) as info:
        asyncio.run(SmtpMailSender(smtp_server.host, smtp_server.port, "none").send(ack_mail()))
    assert not info.value.temporary and info.value.code == 554


def test_bad_login_raises(smtp_server: SmtpServer) -> None:
    sender = SmtpMailSender(smtp_server.host, smtp_server.port, "none", SMTP_USER, "wrong")
    with pytest.raises(MailSendError) as info:
        asyncio.run(sender.send(ack_mail()))
    assert not info.value.temporary


def test_unreachable_server_is_temporary() -> None:
    sender = SmtpMailSender("127.0.0.1", free_port(), "none", timeout=5)
    with pytest.raises(MailSendError) as info:
        asyncio.run(sender.send(ack_mail()))
    assert info.value.temporary


def test_ack_subject_is_one_line_whatever_the_sender_wrote() -> None:
    # An encoded line break in the sender's subject once made the acknowledgement raise, and
    # the whole mail was then quarantined with its From.
    msg = ack_mail(subject="宿舍\r\nBcc: x@evil.example\n 晚归")
    assert msg["Subject"] == "Re: 宿舍 Bcc: x@evil.example 晚归【已收到】回执 1234-5678-9012-3456"
    assert msg["Bcc"] is None

"""Every real-world fixture in ../shared/mail/flanker against README's expectations."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.mail.parse import ParsedMail, parse_message


def _parse(flanker: Path, name: str) -> ParsedMail:
    return parse_message((flanker / name).read_bytes())


def test_gb2312_enterprise_notice(flanker: Path) -> None:
    mail = _parse(flanker, "charset-gb2312.eml")
    assert mail.subject == "提示：您的企业成员暂时无法登录邮件客户端"
    assert mail.from_name == "腾讯企业邮箱"
    assert mail.from_addr == "10000@qq.com"
    assert "系统检测到邮箱账号" in mail.text
    assert "background" not in mail.text  # styles dropped
    assert mail.automated == "system-notice"


@pytest.mark.parametrize(
    "name",
    [
        "bounce-broken-mime.eml",
        "bounce-gmail-invalid-address.eml",
        "bounce-mailbox-full.eml",
        "bounce-no-mx.eml",
        "bounce-office365.eml",
    ],
)
def test_bounces(flanker: Path, name: str) -> None:
    assert _parse(flanker, name).automated == "bounce"


def test_feedback_loop(flanker: Path) -> None:
    assert _parse(flanker, "complaints-yahoo.eml").automated == "feedback-report"


def test_read_receipt(flanker: Path) -> None:
    assert _parse(flanker, "disposition-notification.eml").automated == "read-receipt"


def test_malformed_headers(flanker: Path) -> None:
    mail = _parse(flanker, "mailformed-headers.eml")
    assert mail.automated is None
    assert mail.from_addr == "headers@gmail.com"
    assert mail.from_name.startswith("Юникод запрещен")  # UTF-8 with one broken byte
    assert "Hello" in mail.text
    assert mail.message_id is None and mail.dedup_key.startswith("sha256:")


def test_missing_final_boundary(flanker: Path) -> None:
    mail = _parse(flanker, "missing-final-boundary.eml")
    assert mail.text == "Some body"
    assert "CloseBoundaryNotFoundDefect" in mail.defects
    assert mail.recipients == ["bob@example.com", "hithere@example.com"]


def test_false_multipart(flanker: Path) -> None:
    mail = _parse(flanker, "false-multipart.eml")
    assert mail.subject == "Broken MIME"
    assert mail.from_addr == "broken.mime@notreallymultipart.com"
    assert mail.automated is None
    assert mail.defects  # recorded, not raised


def test_from_encoding(flanker: Path) -> None:
    mail = _parse(flanker, "from-encoding.eml")
    # Raw Latin-1 byte in the display name: not UTF-8, and a lone high byte is not GB.
    assert mail.from_name == "Ingo Lütkebohle"
    assert mail.references == ["<Pine.BSF.3.95q.970712135859.28530B-100000@valis.worldgate.com>"]
    assert "> If you have a real uid" not in mail.text
    assert "switching to an EUID of nobody" in mail.text
    # It is an apache.org mailing-list copy ("Precedence: bulk"): recorded, not ingested.
    assert mail.automated == "bulk"


def test_bilingual(flanker: Path) -> None:
    mail = _parse(flanker, "bilingual-simple.eml")
    assert mail.subject == "Simple text. How are you? Как ты поживаешь?"
    assert mail.text == "This line is in English\nА эта линия по-русски."
    assert mail.automated is None


def test_8bitmime(flanker: Path) -> None:
    mail = _parse(flanker, "8bitmime.eml")
    assert mail.text.startswith("Превел")  # same word as the HTML alternative
    assert mail.recipients == ["xxx@example.net", "yyy@example.net"]
    assert mail.date is not None and mail.date.utcoffset() is not None


def test_attached_pdf(flanker: Path) -> None:
    mail = _parse(flanker, "attached-pdf.eml")
    assert mail.text == "Test - body content"
    [pdf] = mail.attachments
    assert pdf.filename == "test.pdf" and pdf.content_type == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")


def test_every_fixture_parses(flanker: Path) -> None:
    for path in sorted(flanker.glob("*.eml")):
        mail = parse_message(path.read_bytes())
        assert mail.size == path.stat().st_size

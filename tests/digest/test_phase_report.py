"""At the end of a campaign phase the digest carries that phase's report, once (issue 18.4)."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from docx import Document
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.campaign.service import create_campaign
from app.core.config import Settings
from app.core.db import session_scope
from app.digest.jobs import send_due_digests
from app.digest.schedule import save_setting
from app.models import Digest, DigestStatus, Role
from app.units.service import default_bureau
from tests.conftest import smtp_sender
from tests.factories import add_submission, new_submission
from tests.helpers import parsed_mail
from tests.servers.smtp import SmtpServer

TZ = ZoneInfo("Asia/Shanghai")
SOLICIT_START = date(2026, 11, 16)
SOLICIT_END = date(2026, 11, 25)  # a Wednesday
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=TZ)


def campaign(engine: Engine, *, weekly: bool, send_when_empty: bool) -> None:
    """A campaign whose 征求意见 phase runs 16-25 November; the daily digest at 08:00."""
    with session_scope(engine) as s:
        bureau = default_bureau(s)
        assert bureau.id is not None
        create_campaign(
            s,
            bureau_id=bureau.id,
            title="大讨论活动",
            intro="",
            solicit_start=SOLICIT_START,
            solicit_days=10,
        )
        save_setting(
            s,
            bureau_id=bureau.id,
            recipients="office@bureau.test",
            daily_time="08:00",
            weekly_weekday=0 if weekly else None,
            send_when_empty=send_when_empty,
        )


def reports(msg: EmailMessage) -> list[EmailMessage]:
    return [a for a in msg.iter_attachments() if a.get_content_type() == DOCX]


def test_the_phase_report_goes_out_once_with_the_digest_of_its_last_day(
    engine: Engine, demo: None, digest_settings: Settings, smtp_server: SmtpServer
) -> None:
    campaign(engine, weekly=True, send_when_empty=True)
    with session_scope(engine) as s:
        for day in (20, 25):
            new = new_submission(created_at=at(day, 11), role=Role.staff, check_open=False)
            add_submission(s, new=new, check=3)
    sender = smtp_sender(smtp_server)
    sent_by_day: dict[str, list[EmailMessage]] = {}
    # 25 November: the daily digest of the 24th and the week 16-22 (due since Monday);
    # 30 November: the daily digest and the week 23-29, which holds the phase end too.
    for day in (25, 26, 27, 30):
        before = len(smtp_server.messages)
        send_due_digests(engine, digest_settings, sender, at(day))
        new_mail = [parsed_mail(m.data) for m in smtp_server.messages[before:]]
        sent_by_day[str(day)] = new_mail
    assert [len(v) for v in sent_by_day.values()] == [2, 1, 1, 2]
    carried = [(day, m) for day, mails in sent_by_day.items() for m in mails if reports(m)]
    assert [day for day, _m in carried] == ["26"]  # the digest of 25 November only
    [(_, mail)] = carried
    [attachment] = reports(mail)
    assert attachment.get_filename() == "征求意见情况汇总-查找差距·征求意见-20261116-20261125.docx"
    data = attachment.get_payload(decode=True)
    assert isinstance(data, bytes)
    doc = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert doc.paragraphs[0].text == "示范县教育体育局关于大讨论活动征求意见情况的汇总报告"
    assert "2026年11月16日至2026年11月25日" in text and "共收到意见建议2条" in text
    assert "（三）工作作风方面（2条）" in text
    with Session(engine) as s:
        rows = s.exec(select(Digest).order_by(Digest.period_start, Digest.period_kind)).all()
        carrying = [r.period_key for r in rows if "phase_reports" in json.loads(r.totals)]
    assert carrying == ["2026-11-25"]


def test_a_phase_end_is_sent_even_when_nothing_new_came_in(
    engine: Engine, demo: None, digest_settings: Settings, smtp_server: SmtpServer
) -> None:
    campaign(engine, weekly=False, send_when_empty=False)
    sender = smtp_sender(smtp_server)
    outcomes = send_due_digests(engine, digest_settings, sender, at(26))
    assert [o.status for o in outcomes] == [DigestStatus.sent]
    assert len(reports(parsed_mail(smtp_server.messages[0].data))) == 1
    outcomes = send_due_digests(engine, digest_settings, sender, at(27))
    assert [o.status for o in outcomes] == [DigestStatus.skipped]
    assert len(smtp_server.messages) == 1

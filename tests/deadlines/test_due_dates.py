"""Every item gets its promised answer day at intake, on every channel, from the unit's
answer time in working days."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from app.campaign.offline import enter_letter, received_at
from app.core.config import Settings
from app.core.db import session_scope
from app.core.time import today_local
from app.inbox import mailboxes
from app.inbox.mailboxes import MailboxSpec
from app.inbox.prepare import Preparer
from app.intake.service import SubmissionInput
from app.models import Channel, InboundStatus, MailboxConfig, Submission, Unit
from app.workdays.service import add_working_days
from tests.conftest import TEST_SECRET
from tests.factories import add_submission, incoming_mail, new_submission, post_form
from tests.helpers import receipt_of, soup
from tests.inbox.support import ingest_raw


def answer_in(engine: Engine, days: int) -> None:
    with session_scope(engine) as s:
        s.execute(update(Unit).where(col(Unit.slug) == "demo").values(answer_days=days))


def test_every_channel_gets_the_units_promised_day(
    engine: Engine, demo: None, client: TestClient, settings: Settings
) -> None:
    answer_in(engine, 3)  # not the default five, so the unit's setting is what counts
    expected = add_working_days(today_local(), 3)
    assert post_form(client, text="表单：操场积水").status_code == 200
    api = client.post("/api/v1/units/demo/submissions", json={"text": "接口：路灯坏了"})
    assert api.status_code == 201
    with session_scope(engine) as s:
        letter = SubmissionInput(text="来信：校车太挤", role="家长", anonymous=True)
        enter_letter(s, secret=TEST_SECRET, slug="demo", data=letter, received_on=today_local())
    with session_scope(engine) as s:
        spec = MailboxSpec(
            name="school", host="127.0.0.1", port=1, security="none", username="u",
            password="p", unit_slug="demo", anonymous=False,
        )
        box_id = mailboxes.add_mailbox(s, spec=spec).id
    with Session(engine) as s, Preparer() as preparer:
        mail_settings = settings.model_copy(update={"mail_from": "yijian@school.test"})
        box = s.get(MailboxConfig, box_id)
        assert box is not None
        outcome = ingest_raw(s, settings=mail_settings, mailbox=box, uid=1,
                             raw=incoming_mail(), preparer=preparer)
        assert outcome.status == InboundStatus.ingested
        s.commit()
    with Session(engine) as s:
        rows = s.exec(select(Submission).order_by(col(Submission.id))).all()
    assert [(r.channel, r.due_on) for r in rows] == [
        (Channel.web, expected),
        (Channel.web, expected),
        (Channel.letter, expected),
        (Channel.email, expected),
    ]


def test_a_letter_received_before_the_national_day_holiday_is_due_after_it(
    engine: Engine, demo: None
) -> None:
    # Received Wednesday 30 September 2026: 8, 9, 10 (make-up Saturday), 12, 13 October.
    with session_scope(engine) as s:
        new = new_submission(
            channel=Channel.letter, created_at=received_at(date(2026, 9, 30)), check_open=False
        )
        sid = add_submission(s, new=new)
    with Session(engine) as s:
        sub = s.get(Submission, sid)
        assert sub is not None and sub.due_on == date(2026, 10, 13)


def test_the_receipt_page_shows_the_promised_day(
    engine: Engine, demo: None, client: TestClient
) -> None:
    receipt = receipt_of(post_form(client, text="食堂的菜太咸").text)
    due = add_working_days(today_local(), 5)
    page = client.post("/r", data={"receipt": receipt})
    node = soup(page.text).find(id="due-on")
    assert node is not None and node.get_text() == f"{due.year}年{due.month}月{due.day}日"
    assert "承诺答复日期" in page.text
    english = client.post("/r?lang=en", data={"receipt": receipt}).text
    node = soup(english).find(id="due-on")
    assert node is not None and node.get_text() == f"{due.year}-{due.month}-{due.day}"
    assert "Promised answer date" in english

"""Replies by email, below the item page: the worker's hold, refusals, no mail server."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.core.errors import Invalid
from app.models import AdminUser, AuditLog, OutboxMail, Reply, utcnow
from app.outbox.service import claim_due_mail
from app.review.replies import REPLY_HOLD, ReplyOutcome, reply_and_send, reply_to_item
from tests.conftest import TEST_SECRET, make_settings
from tests.factories import add_admin, insert_submissions

NAMED = {"anonymous": False, "name": "张三", "contact": "zhang@example.org"}


def chief_and_item(engine: Engine) -> tuple[AdminUser, int]:
    chief = add_admin(engine)
    (sid,) = insert_submissions(engine, rows=[NAMED])
    with Session(engine) as s:
        user = s.get(AdminUser, chief)
        assert user is not None
        return user, sid


def test_a_fresh_reply_mail_is_held_from_the_worker(demo: None, engine: Engine) -> None:
    chief, sid = chief_and_item(engine)
    with Session(engine) as s:
        saved = reply_to_item(
            s,
            user=chief,
            submission_id=sid,
            body="已在校门口公示。",
            public=False,
            from_addr="yijian@school.example",
            base_url="https://yijian.example",
            secret=TEST_SECRET,
        )
        s.commit()
        assert saved.wanted and saved.outbox_id is not None and saved.message is not None
        # The request sends it itself; were the worker to take it now, it would go out twice.
        assert claim_due_mail(s, now=utcnow()) == []
        row = s.get(OutboxMail, saved.outbox_id)
        assert row is not None
        assert abs(row.next_attempt_at - row.created_at - REPLY_HOLD) < timedelta(seconds=5)


def test_refused_or_unmailed_replies(
    demo: None, engine: Engine, database_url: str
) -> None:
    chief, sid = chief_and_item(engine)
    settings = make_settings(database_url, mail_from="yijian@school.example")

    def reply(body: str) -> ReplyOutcome:
        return asyncio.run(
            reply_and_send(
                engine,
                user=chief,
                submission_id=sid,
                body=body,
                public=False,
                sender=None,
                settings=settings,
            )
        )

    with pytest.raises(Invalid):
        reply("   ")
    with Session(engine) as s:
        assert s.exec(select(Reply)).all() == []
    # An address but no mail server: the reply is kept, no mail is queued, the audit says so.
    assert reply("收到。") == ReplyOutcome.nomail
    with Session(engine) as s:
        assert len(s.exec(select(Reply)).all()) == 1
        assert s.exec(select(OutboxMail)).all() == []
        mailed = s.exec(select(AuditLog).where(AuditLog.action == "reply_email")).one()
        assert '"sent": false' in mailed.detail

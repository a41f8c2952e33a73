"""One crafted email stops nothing (docs/threat-model.md, "One crafted email"): it is parsed
outside any transaction, within a time budget, oversize mail is never downloaded, and the
poller moves on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from imapclient import IMAPClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.inbox import jobs, prepare
from app.inbox.jobs import poll_mailboxes
from app.inbox.mailboxes import reason_label
from app.mail.imap import Fetched, Mailbox
from app.models import InboundMessage, InboundStatus, Submission
from tests.factories import incoming_mail
from tests.inbox.support import add_box, poll
from tests.servers.dovecot import DovecotServer

MB = 1024 * 1024


def _hostile_html() -> bytes:
    # Hundreds of thousands of inline tags: seconds of (linear) work, over a 1 s budget.
    msg = EmailMessage()
    msg["From"] = "evil@example.test"
    msg["To"] = "inbox@school.test"
    msg["Subject"] = "建议"
    msg["Message-ID"] = "<hostile@example.test>"
    msg.set_content("<p>" + "<i> </i>" * (6 * MB // 8), subtype="html")
    return msg.as_bytes()


def _records(engine: Engine) -> list[InboundMessage]:
    with Session(engine) as session:
        query = select(InboundMessage).order_by(col(InboundMessage.uid))
        return list(session.exec(query).all())


def test_message_over_its_budget_is_quarantined_and_the_poll_moves_on(
    engine: Engine, demo: None, dovecot: DovecotServer, mail_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(prepare, "MESSAGE_SECONDS", 1.0)
    add_box(engine, dovecot)
    dovecot.deliver(incoming_mail(n=1))
    dovecot.deliver(_hostile_html())
    dovecot.deliver(incoming_mail(n=3))
    result = poll(engine, mail_settings, None)
    assert result.statuses == {"ingested": 2, "quarantined": 1}
    hostile = _records(engine)[1]
    assert (hostile.status, hostile.reason) == (InboundStatus.quarantined, "timeout:1s")
    assert reason_label(hostile.reason) == "处理超时（1s）"
    assert all("\\Seen" in flags for flags in dovecot.flags().values())
    # Recorded, so a restarted worker never replays it.
    assert poll(engine, mail_settings, None).fetched == 0


def test_web_submission_during_a_hostile_poll_is_not_kept_waiting(
    engine: Engine, demo: None, dovecot: DovecotServer, mail_settings: Settings,
    client: TestClient, monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_box(engine, dovecot)
    dovecot.deliver(incoming_mail(n=1))
    # Before: parsed inside the poll's write transaction, after the first message's insert,
    # for hours (the attribution pattern on millions of blanks).
    dovecot.deliver(incoming_mail(n=2, body="在 2024年5月1日 张三 写道" + " " * 3 * MB + "x"))
    fetched = threading.Event()
    fetch = Mailbox.fetch

    def fetch_and_tell(self: Mailbox, *args: Any, **kwargs: Any) -> Iterator[Fetched]:
        yield from fetch(self, *args, **kwargs)
        fetched.set()

    monkeypatch.setattr(Mailbox, "fetch", fetch_and_tell)
    poller = threading.Thread(
        target=poll_mailboxes, args=(engine, mail_settings, None), daemon=True
    )
    poller.start()
    assert fetched.wait(60)
    time.sleep(0.5)  # into the parse of the hostile message
    started = time.monotonic()
    answer = client.post("/api/v1/units/demo/submissions", json={"text": "操场灯坏了。"})
    waited = time.monotonic() - started
    assert answer.status_code == 201
    # Well under the 30 s that SQLite lets a writer wait for the lock.
    assert waited < 10
    poller.join(120)
    assert not poller.is_alive()
    # The hostile mail is recorded like any other (its text is far over the length limit).
    assert [(r.status, r.reason) for r in _records(engine)] == [
        (InboundStatus.ingested, ""), (InboundStatus.quarantined, "invalid:text")]
    with Session(engine) as session:
        assert len(session.exec(select(Submission)).all()) == 2


def test_oversize_mail_is_skipped_without_downloading(
    engine: Engine, demo: None, dovecot: DovecotServer, mail_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_box(engine, dovecot)
    big = ("big.bin", "application/octet-stream", b"\0" * (prepare.MAX_MESSAGE_BYTES + MB))
    dovecot.deliver(incoming_mail(n=1, files=[big]))
    dovecot.deliver(incoming_mail(n=2))
    requested: list[tuple[list[int], list[str]]] = []
    fetch = IMAPClient.fetch

    def spy(self: IMAPClient, messages: Sequence[int], data: Sequence[str],
            *args: Any, **kwargs: Any) -> Any:
        requested.append((list(messages), list(data)))
        return fetch(self, messages, data, *args, **kwargs)

    monkeypatch.setattr(IMAPClient, "fetch", spy)
    result = poll(engine, mail_settings, None)
    assert result.statuses == {"ingested": 1, "too_large": 1}
    big_uid, small_uid = sorted(dovecot.flags())
    downloads = [uids for uids, data in requested if "BODY.PEEK[]" in data]
    assert downloads == [[small_uid]]
    skipped = _records(engine)[0]
    assert (skipped.uid, skipped.status, skipped.raw) == (big_uid, InboundStatus.too_large, None)
    assert reason_label(skipped.reason) == "超过 10 MB（未下载）"
    assert all("\\Seen" in flags for flags in dovecot.flags().values())


def test_a_pass_out_of_time_leaves_the_rest_for_the_next(
    engine: Engine, demo: None, dovecot: DovecotServer, mail_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A flood of slow messages must not keep the worker's other jobs (digests) waiting for
    # hours: a pass stops preparing when its time is up (here at once, after one message).
    monkeypatch.setattr(jobs, "PASS_SECONDS", 0.0)
    add_box(engine, dovecot)
    for n in (1, 2, 3):
        dovecot.deliver(incoming_mail(n=n))
    passes = [poll(engine, mail_settings, None).statuses for _ in range(4)]
    assert passes == [{"ingested": 1}, {"ingested": 1}, {"ingested": 1}, {}]
    assert [r.status for r in _records(engine)] == [InboundStatus.ingested] * 3
    assert all("\\Seen" in flags for flags in dovecot.flags().values())

"""Several pollers on one database and one real mailbox (two workers and an operator's
`inbox poll --once`): each message is ingested once and each sender acknowledged once."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Engine
from sqlmodel import Session, func, select

from app.core.config import Settings
from app.core.db import exclusive
from app.inbox.jobs import PollResult, poll_mailboxes
from app.models import InboundMessage, MailboxConfig, Submission
from tests.conftest import make_settings, smtp_sender
from tests.factories import incoming_mail
from tests.helpers import as_processes
from tests.inbox.support import add_box
from tests.servers.dovecot import DovecotServer, free_port
from tests.servers.smtp import SmtpServer

MESSAGES = 30


def test_three_pollers_ingest_and_acknowledge_each_mail_once(
    engine: Engine, database_url: str, demo: None, dovecot: DovecotServer,
    smtp_server: SmtpServer, mail_settings: Settings,
) -> None:
    add_box(engine, dovecot)
    for n in range(MESSAGES):
        dovecot.deliver(incoming_mail(n=n, sender=f"parent{n}@example.test"))

    def worker(own: Engine) -> list[PollResult]:
        # A second pass finds nothing new and acknowledges nothing.
        return [poll_mailboxes(own, mail_settings, smtp_sender(smtp_server)) for _ in range(2)]

    outcomes = as_processes(database_url, 3, worker)
    assert all(isinstance(o, list) for o in outcomes), outcomes
    results = [r for o in outcomes if isinstance(o, list) for r in o]
    assert all(r.errors == [] for r in results)
    assert sum(r.fetched for r in results) == MESSAGES  # nobody fetched another's mail
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Submission)).one() == MESSAGES
        assert s.exec(select(func.count()).select_from(InboundMessage)).one() == MESSAGES
    acked = Counter(rcpt for mail in smtp_server.messages for rcpt in mail.rcpt_tos)
    assert acked == Counter(f"parent{n}@example.test" for n in range(MESSAGES))


def test_a_mailbox_being_polled_is_passed_by(
    engine: Engine, demo: None, dovecot: DovecotServer, mail_settings: Settings
) -> None:
    box = add_box(engine, dovecot)
    dovecot.deliver(incoming_mail(n=1))
    with exclusive(engine, f"inbox-mailbox-{box}") as held:  # another process polls it
        assert held
        result = poll_mailboxes(engine, mail_settings, None)
    assert (result.mailboxes, result.busy, result.fetched) == (0, 1, 0)
    assert "正由其他进程收取" in result.summary()
    assert poll_mailboxes(engine, mail_settings, None).fetched == 1


def test_two_workers_starting_at_once_make_one_env_mailbox(
    engine: Engine, database_url: str, demo: None
) -> None:
    # A server that refuses at once: the poll records the error, the row is what counts.
    settings = make_settings(database_url, imap_host="127.0.0.1",
                             imap_port=free_port(), imap_security="none",
                             imap_user="box@example.test", imap_password="pw")
    outcomes = as_processes(database_url, 2, lambda own: poll_mailboxes(own, settings, None))
    assert all(isinstance(o, PollResult) for o in outcomes), outcomes
    with Session(engine) as s:
        assert len(s.exec(select(MailboxConfig)).all()) == 1

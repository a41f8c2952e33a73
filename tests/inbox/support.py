"""Email intake test helpers: mailboxes on the test Dovecot, polling, and feeding raw
messages to the ingest step the way the poller does (prepared first)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import session_scope
from app.inbox import ingest, mailboxes
from app.inbox.jobs import PollResult, poll_mailboxes
from app.inbox.mailboxes import MailboxSpec
from app.inbox.prepare import Limits, Preparer
from app.mail.imap import Fetched
from app.models import MailboxConfig
from tests.conftest import smtp_sender
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpServer

OUR_ADDRESS = "yijian@school.test"


def add_box(
    engine: Engine,
    server: DovecotServer,
    *,
    name: str = "school",
    unit: str | None = "demo",
    anonymous: bool = False,
    password: str | None = None,
) -> int:
    """A mailbox on the test Dovecot (its password unless another is given); its id."""
    with session_scope(engine) as session:
        spec = MailboxSpec(
            name=name,
            host=server.host,
            port=server.port,
            security="none",
            username=server.user,
            password=server.password if password is None else password,
            unit_slug=unit,
            anonymous=anonymous,
        )
        box = mailboxes.add_mailbox(session, spec=spec)
        assert box.id is not None
        return box.id


def poll(engine: Engine, settings: Settings, smtp: SmtpServer | None) -> PollResult:
    """One poll of every mailbox, acknowledging through `smtp` if given; no errors allowed."""
    result = poll_mailboxes(engine, settings, smtp_sender(smtp) if smtp else None)
    assert result.errors == []
    return result


def ingest_raw(
    session: Session,
    *,
    settings: Settings,
    mailbox: MailboxConfig,
    uid: int,
    raw: bytes,
    uidvalidity: int = 7,
    preparer: Preparer,
) -> ingest.Ingested:
    """Prepare one raw message in the preparer's child, then ingest it without an ack."""
    fetched = Fetched(uid, raw, len(raw))
    limits = Limits(
        anonymous_mailbox=mailbox.anonymous,
        max_files=settings.max_files,
        max_upload_bytes=settings.max_upload_bytes,
    )
    prepared = preparer.prepare(fetched, limits=limits)
    return ingest.ingest_message(
        session,
        settings=settings,
        mailbox=mailbox,
        uidvalidity=uidvalidity,
        fetched=fetched,
        prepared=prepared,
        acks=None,
    )

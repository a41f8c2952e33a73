"""Anonymous mail leaves nothing linkable (docs/threat-model.md, "Email intake"): no row and no
byte of the database file holds an anonymous sender's address, its keyed hash or their Date
header, whatever happened to the message."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import Engine, select
from sqlmodel import Session, SQLModel

from app.cli import alembic_config
from app.core.config import Settings
from app.core.db import make_engine, session_scope
from app.inbox import mailboxes
from app.inbox.mailboxes import MailboxSpec
from app.models import InboundMessage, InboundStatus, OutboxMail, Submission
from app.outbox.service import sender_hash
from app.units.service import ensure_demo
from tests.conftest import fresh_database_url, migrate
from tests.factories import add_submission, incoming_mail
from tests.inbox.support import add_box, poll
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpServer

# Each anonymous sender's own Date header; seconds no clock of ours would write.
DATES = {
    "anon@example.test": "Thu, 3 Dec 2026 09:17:43 +0800",
    "newline@example.test": "Thu, 3 Dec 2026 09:18:47 +0800",
    "toolong@example.test": "Thu, 3 Dec 2026 09:19:53 +0800",
    "both@example.test": "Thu, 3 Dec 2026 09:21:29 +0800",
}
FACTORY_DATE = b"Wed, 1 May 2024 10:00:00 +0800"


def _date_forms(header: str) -> list[str]:
    """How a Date header could be stored: as written, or as a time in Beijing or UTC."""
    local = header.split()[4]
    hour, minute, second = (int(p) for p in local.split(":"))
    utc = f"{hour - 8:02d}:{minute:02d}:{second:02d}"
    return [header, local, utc, f"{minute:02d}:{second:02d}"]


def _table_text(engine: Engine) -> str:
    """Every value of every row of every table, as text."""
    parts: list[str] = []
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes):
                        parts.append(value.decode("utf-8", "replace"))
                    elif isinstance(value, datetime):
                        parts.append(value.isoformat())
                    parts.append(str(value))
    return "\n".join(parts)


def _newline_subject() -> str:
    # 【匿名】 then an encoded line break: the acknowledgement's Subject could not be built.
    encoded = base64.b64encode("【匿名】宿舍\r\nX-Note: 晚归".encode()).decode()
    return f"=?utf-8?b?{encoded}?="


def test_anonymous_mail_leaves_no_address_hash_or_date(
    engine: Engine, demo: None, dovecot: DovecotServer, smtp_server: SmtpServer,
    mail_settings: Settings, database_url: str,
) -> None:
    add_box(engine, dovecot)
    too_long = "字" * (mail_settings.max_text_chars + 1)  # quarantined, as invalid
    for n, (sender, subject, body) in enumerate(
        [("anon@example.test", "【匿名】食堂", "饭菜太咸。"),
         ("newline@example.test", _newline_subject(), "宿舍太吵。"),
         ("toolong@example.test", "【匿名】操场", too_long),
         ("both@example.test", "【匿名】宿舍", "热水不够。")], start=1,
    ):
        raw = incoming_mail(n=n, sender=sender, subject=subject, body=body)
        dovecot.deliver(raw.replace(FACTORY_DATE, DATES[sender].encode()))
    # The same address also writes under its name: that row may keep it, nothing may tie the
    # anonymous one to it.
    dovecot.deliver(incoming_mail(n=9, sender="both@example.test", subject="署名建议"))
    result = poll(engine, mail_settings, smtp_server)
    assert result.statuses == {"ingested": 4, "quarantined": 1}
    # Every anonymous sender got a receipt (the newline sender too); the named mail from an
    # address acknowledged within the hour got none.
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        "anon@example.test", "both@example.test", "newline@example.test"]

    with Session(engine) as session:
        rows = session.exec(select(InboundMessage)).scalars().all()
        named = [r for r in rows if r.subject]
        anonymous = [r for r in rows if not r.subject]
        assert len(named) == 1 and len(anonymous) == 4
        assert all(r.raw is None and r.received_at is None and r.size % 65536 == 0
                   for r in anonymous)
        assert {r.status for r in anonymous} == {InboundStatus.ingested, InboundStatus.quarantined}
        assert all(r.sender_hash is None for r in rows)
        assert all(m.sender_hash is None for m in session.exec(select(OutboxMail)).scalars())
        contacts = {s.contact for s in session.exec(select(Submission)).scalars()}
        assert contacts == {None, "both@example.test"}

    dump = _table_text(engine)
    for address, date in DATES.items():
        digest = sender_hash(secret=mail_settings.secret_key, address=address)
        assert digest not in dump
        assert not [form for form in _date_forms(date) if form in dump], address
        if address != "both@example.test":
            assert address not in dump
    if database_url.startswith("sqlite"):
        # Deleted and overwritten values too: secure_delete zeroes them in the file.
        engine.dispose()
        path = Path(database_url.split("///", 1)[1])
        data = b"".join(p.read_bytes() for p in path.parent.glob(f"{path.name}*"))
        # The named mail's subject, kept in clear: the grep works (its contact is encrypted).
        assert "署名建议".encode() in data
        for address, date in DATES.items():
            digest = sender_hash(secret=mail_settings.secret_key, address=address)
            assert digest.encode() not in data
            assert date.encode() not in data
            if address != "both@example.test":
                assert address.encode() not in data, address


def test_migration_0012_forgets_hashes_dates_and_sizes(database_url: str, tmp_path: Path) -> None:
    url = fresh_database_url(tmp_path)
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as s:
        ensure_demo(s)
        box = mailboxes.add_mailbox(s, spec=MailboxSpec(
            name="school", host="127.0.0.1", port=143, security="none", username="a@b.c",
            password="x"))
        assert box.id is not None
        sub = add_submission(s)
        when = datetime(2026, 12, 3, 1, 17, 43, tzinfo=UTC)
        s.add(OutboxMail(submission_id=sub, message_id="<m@x>", sender_hash="h" * 64))
        for uid, subject in ((1, None), (2, "署名")):
            s.add(InboundMessage(mailbox_id=box.id, uidvalidity=1, uid=uid, subject=subject,
                                 status=InboundStatus.ingested, size=70000, raw=b"From: x",
                                 sender_hash="h" * 64, received_at=when))
    command.downgrade(alembic_config(url), "0011")
    migrate(url, "0012")
    migrate(url)  # up to head again: today's model reads raw encrypted (0017)
    with Session(engine) as s:
        anon, named = s.exec(select(InboundMessage).order_by(InboundMessage.uid)).scalars()
        assert (anon.raw, anon.received_at, anon.size) == (None, None, 131072)
        assert (named.raw, named.size, named.received_at) == (b"From: x", 70000, when)
        assert anon.sender_hash is named.sender_hash is None
        assert s.exec(select(OutboxMail.sender_hash)).scalars().all() == [None]
    engine.dispose()

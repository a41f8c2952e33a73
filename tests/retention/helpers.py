"""Items closed some days ago, with every kind of identifying data retention removes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Engine, update
from sqlmodel import Session, SQLModel, col, select

from app.core.db import session_scope
from app.core.time import local_midnight, today_local
from app.intake.service import store_submission
from app.models import (
    Attachment,
    DialogueMessage,
    EventKind,
    InboundMessage,
    InboundStatus,
    MailboxConfig,
    Status,
    Submission,
    SubmissionEvent,
    Unit,
)
from tests.conftest import TEST_SECRET
from tests.factories import new_submission


@dataclass(frozen=True)
class Item:
    id: int
    receipt: str
    markers: tuple[str, ...]  # what the purge must remove
    text: str  # what it must keep


def closed_item(
    engine: Engine, tag: str, *, closed_days_ago: int | None, event: bool = True
) -> Item:
    """A named web item with a file, a raw mail and a sender message with a file; closed that
    many days ago (None: still open), by a 办结 step or, without event, its last change."""
    name, contact = f"NAME-{tag}", f"CONTACT-{tag}@example.test"
    text = f"TEXT-{tag} 食堂的菜太咸了"
    file_marker, raw_marker, subject = f"FILE-{tag}", f"RAW-{tag}", f"SUBJECT-{tag}"
    with session_scope(engine) as s:
        stored = store_submission(
            s,
            secret=TEST_SECRET,
            new=new_submission(text=text, anonymous=False, name=name, contact=contact),
        )
        sid = stored.id
        s.add(
            Attachment(
                submission_id=sid,
                filename=f"{file_marker}.jpg",
                content_type="image/jpeg",
                size=10,
                sha256=f"{file_marker}-sha".ljust(64, "0"),
                data=f"{file_marker}-bytes".encode(),
            )
        )
        s.add(DialogueMessage(submission_id=sid, from_sender=True, body=f"MSG-{tag}", files=1))
        s.add(
            Attachment(
                submission_id=sid,
                filename=f"{file_marker}-msg.pdf",
                content_type="application/pdf",
                size=10,
                sha256="1" * 64,
                data=f"{file_marker}-msg-bytes".encode(),
            )
        )
        unit = s.exec(select(Unit).where(Unit.slug == "demo")).one()
        box = s.exec(select(MailboxConfig)).first()
        if box is None:
            box = MailboxConfig(
                bureau_id=unit.bureau_id,
                name="box",
                host="imap.example.test",
                port=993,
                security="ssl",
                username="inbox@example.test",
                password="secret",
            )
            s.add(box)
            s.flush()
        assert box.id is not None
        s.add(
            InboundMessage(
                mailbox_id=box.id,
                uidvalidity=1,
                uid=sid,
                status=InboundStatus.ingested,
                submission_id=sid,
                subject=subject,
                raw=raw_marker.encode(),
            )
        )
        if closed_days_ago is not None:
            at = local_midnight(today_local() - timedelta(days=closed_days_ago)) + timedelta(
                hours=10
            )
            s.execute(
                update(Submission)
                .where(col(Submission.id) == sid)
                .values(status=Status.closed.value, updated_at=at)
            )
            if event:
                s.add(SubmissionEvent(submission_id=sid, kind=EventKind.closed, created_at=at))
    markers = (name, contact, file_marker, raw_marker, subject)
    return Item(id=sid, receipt=stored.receipt, markers=markers, text=text)


def dump(engine: Engine) -> str:
    """Every row of every table as the app reads it (encrypted columns decrypted)."""
    out: list[str] = []
    with Session(engine) as s:
        for table in SQLModel.metadata.sorted_tables:
            out += [repr(tuple(row)) for row in s.execute(table.select()).all()]
    return "\n".join(out)


def today() -> date:
    return today_local()

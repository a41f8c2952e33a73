"""Test data, built one way for every test: units, admins, submissions (through the public
form, the intake service or as raw rows), email messages and photos.

Factories write with the engine or session given first and take everything else by keyword;
the defaults are the demo data the `demo` fixture makes (units "demo" and "demo2"). What a
test asserts on, it passes explicitly.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.message import EmailMessage
from email.utils import formataddr

import httpx2 as httpx
from fastapi.testclient import TestClient
from fpdf import FPDF
from PIL import Image
from sqlalchemy import Engine, insert, update
from sqlmodel import Session, col, select

from app.accounts.service import create_admin
from app.campaign import evaluation, measures, offline, roster
from app.core.config import Settings
from app.core.db import session_scope
from app.core.time import TZ, today_local
from app.intake.service import NewSubmission, SubmissionInput, store_submission
from app.mail.compose import build_ack
from app.models import AdminRole, Bureau, Channel, Role, Status, Submission, Unit
from app.workdays.service import DEFAULT_ANSWER_WORKING_DAYS, add_working_days
from tests.conftest import TEST_SECRET, make_settings
from tests.servers.smtp import SmtpServer

PASSWORD = "correct horse battery"
TEXT = "建议食堂公开菜价和进货渠道。"
# An attached file: (file name, content type, data).
File = tuple[str, str, bytes]
# The default time of inserted rows (plus a minute per row): 10:00 in Beijing.
ROW_TIME = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)


# Units


def unit_id(session: Session, *, slug: str = "demo") -> int:
    """The id of the unit with this slug."""
    found = session.exec(select(Unit.id).where(Unit.slug == slug)).one()
    assert found is not None
    return found


def unit_slugs(session: Session) -> dict[int, str]:
    """Every unit's slug, by unit id."""
    return {u.id: u.slug for u in session.exec(select(Unit)).all() if u.id is not None}


# Admins


def add_admin(
    engine: Engine,
    *,
    username: str = "chief",
    password: str = PASSWORD,
    role: AdminRole = AdminRole.bureau_admin,
    unit_slug: str | None = None,
) -> int:
    """An admin account of the first bureau, written straight to the database; its id."""
    with session_scope(engine) as s:
        bureau = s.exec(select(Bureau)).first()
        assert bureau is not None and bureau.id is not None
        user = create_admin(
            s,
            username=username,
            password=password,
            role=role,
            bureau_id=bureau.id,
            unit_id=None if unit_slug is None else unit_id(s, slug=unit_slug),
        )
        assert user.id is not None
        return user.id


# Submissions


def post_form(
    client: TestClient,
    *,
    slug: str = "demo",
    text: str = TEXT,
    role: str | None = Role.parent.value,
    anonymous: bool = True,
    name: str | None = None,
    contact: str | None = None,
    key: str | None = None,
    files: Sequence[File] = (),
) -> httpx.Response:
    """A suggestion sent through the public form, as a browser without JavaScript sends it:
    a field left None is not sent, nor is the anonymous box when unticked."""
    fields = {
        "text": text,
        "role": role,
        "anonymous": "1" if anonymous else None,
        "name": name,
        "contact": contact,
        "key": key,
    }
    data = {field: value for field, value in fields.items() if value is not None}
    uploads = [("files", (filename, content, ctype)) for filename, ctype, content in files]
    return client.post(f"/u/{slug}", data=data, files=uploads or None)


def new_submission(
    *,
    text: str = TEXT,
    slug: str = "demo",
    channel: Channel = Channel.web,
    role: Role = Role.parent,
    anonymous: bool = True,
    name: str | None = None,
    contact: str | None = None,
    idempotency_key: str | None = None,
    created_at: datetime | None = None,
    check_open: bool = True,
) -> NewSubmission:
    """A suggestion as a channel hands it to the intake service (anonymous parent, web)."""
    data = SubmissionInput(
        text=text, role=role.value, anonymous=anonymous, name=name, contact=contact
    )
    return NewSubmission(
        slug=slug,
        channel=channel,
        data=data,
        idempotency_key=idempotency_key,
        created_at=created_at,
        check_open=check_open,
    )


def add_submission(
    session: Session,
    *,
    new: NewSubmission | None = None,
    check: int | None = None,
    status: Status | None = None,
) -> int:
    """Store a suggestion through the intake service (untagged), in the session's transaction;
    its id. `check` and `status` then set what a reviewer would have set."""
    stored = store_submission(session, secret=TEST_SECRET, new=new or new_submission())
    values: dict[str, object] = {}
    if check is not None:
        values["check"] = check
    if status is not None:
        values["status"] = status.value
    if values:
        session.execute(
            update(Submission).where(col(Submission.id) == stored.id).values(**values)
        )
    return stored.id


def insert_submissions(engine: Engine, *, rows: Sequence[Mapping[str, object]]) -> list[int]:
    """Submission rows inserted directly, as any channel leaves them, and committed; their ids.

    Each row holds column values over the defaults (row n: an anonymous parent's new web
    opinion "意见 n" to the demo unit), plus `unit` (a slug) and `at` (created and updated
    then; by default ROW_TIME + n minutes).
    """
    ids: list[int] = []
    with session_scope(engine) as s:
        units = {slug: uid for uid, slug in unit_slugs(s).items()}
        for n, row in enumerate(rows):
            values = dict(row)
            at = values.pop("at", ROW_TIME + timedelta(minutes=n))
            slug = str(values.pop("unit", "demo"))
            defaults: dict[str, object] = {
                "unit_id": units[slug],
                "channel": Channel.web.value,
                "kind": "opinion",
                "role": Role.parent.value,
                "anonymous": True,
                "text": f"意见 {n}",
                "status": Status.new.value,
                "receipt_hash": uuid.uuid4().hex,
                "created_at": at,
                "updated_at": at,
                # As intake sets it: the received day (China) plus the default answer time.
                "due_on": add_working_days(
                    at.astimezone(TZ).date(), DEFAULT_ANSWER_WORKING_DAYS
                ),
            }
            statement = insert(Submission).values(**(defaults | values))
            ids.append(s.execute(statement.returning(col(Submission.id))).scalar_one())
    return ids


def seed_yesterday(engine: Engine) -> str:
    """One staff suggestion (check 3) at noon yesterday, China time: what a daily digest due
    today reports. Returns that day, YYYY-MM-DD."""
    yesterday = today_local() - timedelta(days=1)
    noon = datetime(yesterday.year, yesterday.month, yesterday.day, 12, tzinfo=TZ)
    with session_scope(engine) as s:
        new = new_submission(created_at=noon, role=Role.staff, check_open=False)
        add_submission(s, new=new, check=3)
    return yesterday.isoformat()


def two_teachers_to_remind(engine: Engine, smtp: SmtpServer) -> tuple[Settings, int]:
    """Settings that send mail through the test SMTP server, and the demo unit's id with
    two roster teachers who have an email and no idea yet."""
    settings = make_settings(
        str(engine.url),
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_security="none",
        mail_from="office@school.example",
    )
    with session_scope(engine) as s:
        uid = unit_id(s)
        data = "姓名,邮箱\n钱老师,q@s.example\n孙老师,sun@s.example\n".encode()
        roster.import_roster(s, unit_id=uid, filename="r.csv", data=data, secret=TEST_SECRET)
    return settings, uid


# Campaign


def add_measure(
    session: Session,
    *,
    unit_id: int,
    title: str = "食堂公示菜谱",
    progress: int = 50,
    submission_ids: Sequence[int] = (),
) -> int:
    """A measure under way (五查 5, no deadline) answering these suggestions; its id."""
    data = measures.validate_measure(
        title=title,
        description="",
        owner="",
        deadline="",
        progress=progress,
        status="doing",
        check=5,
    )
    measure = measures.create_measure(
        session, unit_id=unit_id, data=data, submission_ids=submission_ids
    )
    assert measure.id is not None
    return measure.id


def measure_on_board(
    engine: Engine,
    *,
    letter: SubmissionInput | None = None,
    title: str = "食堂公示菜谱",
    progress: int = 50,
    codes: int = 2,
) -> tuple[int, int, list[str]]:
    """A measure of the demo unit answering a letter received today (by default an anonymous
    parent's), and `codes` evaluation codes, evaluation still closed: the unit's id, the
    measure's id and the plain codes."""
    letter = letter or SubmissionInput(text=TEXT, role=Role.parent.value, anonymous=True)
    with session_scope(engine) as s:
        uid = unit_id(s)
        stored = offline.enter_letter(
            s, secret=TEST_SECRET, slug="demo", data=letter, received_on=today_local()
        )
        mid = add_measure(
            s, unit_id=uid, title=title, progress=progress, submission_ids=[stored.id]
        )
        plain = evaluation.create_codes(s, secret=TEST_SECRET, unit_id=uid, count=codes)
    return uid, mid, plain


# Mail


def incoming_mail(
    *,
    n: int = 1,
    sender: str = "parent@example.test",
    name: str = "李四",
    to: str = "inbox@school.test",
    subject: str = "食堂建议",
    body: str = "希望食堂多做些蔬菜。",
    headers: Mapping[str, str] | None = None,
    files: Sequence[File] = (),
) -> bytes:
    """The n-th message from a sender, as a mail client writes it: an encoded display name,
    a UTF-8 base64 body ending in "（n）", and the Message-ID
    <msg{n}.{the sender's local part}@client.example>."""
    msg = EmailMessage()
    msg["From"] = formataddr((str(Header(name, "utf-8").encode()), sender))
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Wed, 1 May 2024 10:00:00 +0800"
    msg["Message-ID"] = f"<msg{n}.{sender.split('@')[0]}@client.example>"
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(f"{body}（{n}）")
    for filename, content_type, data in files:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def ack_mail(
    *,
    to_addr: str = "student@example.test",
    in_reply_to: str = "<orig@example.test>",
    references: Sequence[str] = (),
    subject: str = "食堂饭菜太咸",
    receipt_code: str = "1234-5678-9012-3456",
    status_url: str = "https://yijian.example/s/abc",
    unit_name: str = "第一中学",
    from_addr: str = "yijian@school.test",
) -> EmailMessage:
    """Our acknowledgement of a mailed suggestion (Message-IDs @school.test)."""
    return build_ack(
        to_addr=to_addr,
        in_reply_to=in_reply_to,
        references=list(references),
        subject=subject,
        receipt_code=receipt_code,
        status_url=status_url,
        unit_name=unit_name,
        from_addr=from_addr,
        message_id_domain="school.test",
    )


# Files


def jpeg_with_gps() -> bytes:
    """A phone's photo: EXIF naming the maker ("PhoneMaker") and where it was taken (GPS)."""
    image = Image.new("RGB", (64, 48), "red")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 20.0), 3: "E", 4: (116.0, 23.0, 29.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    assert b"PhoneMaker" in out.getvalue()
    return out.getvalue()


def one_page_pdf(text: str = "See the attached notice") -> bytes:
    """A plain one-page PDF with a line of text, as any office program exports it."""
    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=14)
    doc.cell(text=text)
    return bytes(doc.output())

"""我为教育发展献良策: the staff roster, personal links, compliance and reminders."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import itertools
import json
import re
import secrets
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, cast

from openpyxl import load_workbook
from sqlalchemy import CursorResult, func, or_, update
from sqlmodel import Session, col, select

from app.core.errors import Invalid, NotFound
from app.documents.tables import Cell
from app.intake.service import (
    MAX_NAME,
    NewSubmission,
    Stored,
    clean_text,
    store_submission,
    validate_submission,
)
from app.mail.address import is_email_address
from app.mail.compose import build_message
from app.mail.outbound import MailSender, MailSendError
from app.models import (
    Channel,
    Kind,
    Role,
    RosterImport,
    RosterPerson,
    RosterSubmission,
    Unit,
    utcnow,
)
from app.tagging import Tagger

MAX_ROWS = 2000
MAX_COLUMNS = 50
# A roster of 2,000 people unpacks to well under 1 MB; 25 MB leaves room for logos and styles.
MAX_XLSX_UNPACKED = 25 * 1024 * 1024
MAX_POST = 100
_TOKEN = re.compile(r"^[a-z2-7]{26}$")
NAME_HEADERS = ("姓名", "name")
POST_HEADERS = ("职务", "岗位", "post")
EMAIL_HEADERS = ("邮箱", "电子邮箱", "email")


@dataclass(frozen=True)
class RosterRow:
    line: int
    name: str
    post: str
    email: str | None


@dataclass(frozen=True)
class RosterPreview:
    rows: list[RosterRow]
    errors: list[str]


def _hmac(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def person_token(*, secret: str, nonce: str) -> str:
    """The personal link token: 130 bits from HMAC(secret, nonce), in lower-case base32."""
    digest = hmac.new(secret.encode(), f"idea-link:{nonce}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:26]


def hash_person_token(*, secret: str, token: str) -> str:
    """What is stored and looked up: an HMAC of the token."""
    return _hmac(secret, f"idea-token:{token}")


def idea_url(*, base_url: str, secret: str, person: RosterPerson) -> str:
    """The person's own link to the idea form."""
    return f"{base_url}/idea/{person_token(secret=secret, nonce=person.token_nonce)}"


def _xlsx_rows(data: bytes, limit: int) -> list[list[str]]:
    unreadable = "无法读取这个 Excel 文件，请另存为 .xlsx 或 CSV 后再上传。"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_XLSX_UNPACKED:
            # A few MB of zip can unpack to gigabytes of XML: judge it by its listing.
            raise Invalid("这个 Excel 文件解压后过大，请只保留名单一张表，或另存为 CSV 后再上传。")
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise Invalid(unreadable) from exc
    try:
        # Rows are read one at a time and the reading stops at the limit; columns are
        # capped too, since a sheet's stated size pads every row up to 16,384 cells.
        rows = book.worksheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True)
        return [
            ["" if v is None else str(v).strip() for v in row]
            for row in itertools.islice(rows, limit)
        ]
    except (zipfile.BadZipFile, SyntaxError, KeyError, ValueError, OSError) as exc:
        raise Invalid(unreadable) from exc
    finally:
        book.close()


def _rows_of(filename: str, data: bytes, limit: int) -> list[list[str]]:
    if filename.lower().endswith(".xlsx") or data.startswith(b"PK"):
        return _xlsx_rows(data, limit)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Invalid("无法识别 CSV 文件的编码，请用 UTF-8 保存。")
    rows = csv.reader(io.StringIO(text))
    return [[cell.strip() for cell in row] for row in itertools.islice(rows, limit)]


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    return next((lowered.index(n) for n in names if n in lowered), None)


def parse_roster(*, filename: str, data: bytes) -> RosterPreview:
    """Read a roster (xlsx or CSV: 姓名, 职务, 邮箱 columns) and list each bad row in Chinese."""
    # The header, the rows allowed, and one more to tell that there are too many.
    table = _rows_of(filename, data, MAX_ROWS + 2)
    if len(table) - 1 > MAX_ROWS:
        raise Invalid(f"一次最多导入 {MAX_ROWS} 人（表头下最多 {MAX_ROWS} 行），请分批导入。")
    if not table or not any(table[0]):
        raise Invalid("文件是空的，第1行应为表头：姓名、职务、邮箱。")
    header = table[0]
    name_col = _column(header, NAME_HEADERS)
    if name_col is None:
        raise Invalid("第1行表头缺少“姓名”列（表头应为：姓名、职务、邮箱）。")
    post_col = _column(header, POST_HEADERS)
    email_col = _column(header, EMAIL_HEADERS)
    rows: list[RosterRow] = []
    errors: list[str] = []
    seen: dict[str, int] = {}

    def cell(row: list[str], index: int | None) -> str:
        return clean_text(row[index]) if index is not None and index < len(row) else ""

    for line, raw in enumerate(table[1:], start=2):
        if not any(c.strip() for c in raw):
            continue
        name, post, email = cell(raw, name_col), cell(raw, post_col), cell(raw, email_col)
        problems = []
        if not name:
            problems.append("姓名为空")
        elif len(name) > MAX_NAME:
            problems.append(f"姓名超过 {MAX_NAME} 字")
        if len(post) > MAX_POST:
            problems.append(f"职务超过 {MAX_POST} 字")
        if email and not is_email_address(email):
            problems.append(f"邮箱格式不正确（{email[:60]}）")
        key = f"{name}|{email.lower()}"
        if name and key in seen:
            problems.append(f"与第{seen[key]}行重复")
        if problems:
            errors.append(f"第{line}行：" + "；".join(problems))
            continue
        seen[key] = line
        rows.append(RosterRow(line, name, post, email or None))
    if not rows and not errors:
        raise Invalid("文件里没有人员，请在表头下面逐行填写姓名、职务、邮箱。")
    return RosterPreview(rows=rows, errors=errors)


def stage_roster_import(
    session: Session, *, unit_id: int, actor_id: int | None, preview: RosterPreview
) -> RosterImport:
    """Keep a previewed import until the admin confirms it."""
    if preview.errors:
        raise Invalid("名单中有错误的行，请修改后重新上传。")
    pending = RosterImport(
        unit_id=unit_id,
        actor_id=actor_id,
        rows=json.dumps([[r.name, r.post, r.email] for r in preview.rows], ensure_ascii=False),
    )
    session.add(pending)
    session.flush()
    return pending


def confirm_roster_import(
    session: Session, *, import_id: int, unit_ids: Sequence[int], secret: str
) -> list[RosterPerson]:
    """Add the people of a staged import (skipping those already listed) and drop the stage."""
    pending = session.get(RosterImport, import_id)
    if pending is None or pending.unit_id not in unit_ids:
        raise NotFound("这次导入已确认或已失效，请重新上传名单。")
    rows = [(str(n), str(p), e if e is None else str(e)) for n, p, e in json.loads(pending.rows)]
    people = add_people(session, unit_id=pending.unit_id, rows=rows, secret=secret)
    session.delete(pending)
    return people


def add_people(
    session: Session, *, unit_id: int, rows: Sequence[tuple[str, str, str | None]], secret: str
) -> list[RosterPerson]:
    """Add roster people, each with a fresh link; someone already listed is left alone."""
    existing = {
        (p.name, (p.email or "").lower())
        for p in session.exec(select(RosterPerson).where(RosterPerson.unit_id == unit_id))
    }
    added = []
    for name, post, email in rows:
        if (name, (email or "").lower()) in existing:
            continue
        nonce = secrets.token_hex(16)
        token = person_token(secret=secret, nonce=nonce)
        person = RosterPerson(
            unit_id=unit_id,
            name=name,
            post=post,
            email=email,
            token_nonce=nonce,
            token_hash=hash_person_token(secret=secret, token=token),
        )
        session.add(person)
        added.append(person)
    session.flush()
    return added


def import_roster(
    session: Session, *, unit_id: int, filename: str, data: bytes, secret: str
) -> list[RosterPerson]:
    """Parse and add a roster in one go (the CLI); refuse the whole file if a row is bad."""
    preview = parse_roster(filename=filename, data=data)
    if preview.errors:
        raise Invalid("名单中有错误的行，未导入任何人：\n" + "\n".join(preview.errors))
    rows = [(r.name, r.post, r.email) for r in preview.rows]
    return add_people(session, unit_id=unit_id, rows=rows, secret=secret)


def get_person_by_token(session: Session, *, secret: str, token: str) -> tuple[RosterPerson, Unit]:
    """The roster person owning a personal link, with their unit."""
    if not _TOKEN.match(token):
        raise NotFound("这个献策链接无效，请核对邮件或通知中的链接。")
    row = session.exec(
        select(RosterPerson, Unit)
        .join(Unit, col(Unit.id) == RosterPerson.unit_id)
        .where(RosterPerson.token_hash == hash_person_token(secret=secret, token=token))
    ).first()
    if row is None:
        raise NotFound("这个献策链接无效，请核对邮件或通知中的链接。")
    return row


def submit_idea(
    session: Session,
    *,
    secret: str,
    token: str,
    text: str | None,
    max_chars: int,
    idempotency_key: str | None = None,
    tagger: Tagger | None = None,
) -> Stored:
    """Store a named idea from a roster person's link (kind idea, role 教职工)."""
    person, unit = get_person_by_token(session, secret=secret, token=token)
    assert person.id is not None
    data = validate_submission(
        text=text,
        role=Role.staff.value,
        anonymous=False,
        name=person.name,
        contact=None,
        max_chars=max_chars,
    )
    new = NewSubmission(
        slug=unit.slug,
        channel=Channel.web,
        data=data,
        kind=Kind.idea,
        idempotency_key=idempotency_key,
    )
    stored = store_submission(session, secret=secret, new=new, tagger=tagger)
    if not stored.replayed:
        session.add(RosterSubmission(submission_id=stored.id, person_id=person.id))
    session.flush()
    return stored


@dataclass(frozen=True)
class ComplianceRow:
    person_id: int
    unit_id: int
    unit_name: str
    name: str
    post: str
    email: str | None
    ideas: int
    last_reminded_at: datetime | None


@dataclass(frozen=True)
class UnitCompliance:
    unit_id: int
    unit_name: str
    people: int
    with_ideas: int

    @property
    def without(self) -> int:
        return self.people - self.with_ideas


def compliance_rows(session: Session, *, unit_ids: Sequence[int]) -> list[ComplianceRow]:
    """Every roster person of these units with their number of ideas, by unit and name."""
    counts = (
        select(RosterSubmission.person_id, func.count().label("n"))
        .group_by(col(RosterSubmission.person_id))
        .subquery()
    )
    rows = session.exec(
        select(RosterPerson, Unit.name, counts.c.n)
        .join(Unit, col(Unit.id) == RosterPerson.unit_id)
        .outerjoin(counts, counts.c.person_id == RosterPerson.id)
        .where(col(RosterPerson.unit_id).in_(list(unit_ids)))
        .order_by(col(Unit.name), col(RosterPerson.name), col(RosterPerson.id))
    ).all()
    result = []
    for person, unit_name, n in rows:
        assert person.id is not None
        result.append(
            ComplianceRow(
                person.id,
                person.unit_id,
                unit_name,
                person.name,
                person.post,
                person.email,
                int(n or 0),
                person.last_reminded_at,
            )
        )
    return result


def compliance_by_unit(rows: Sequence[ComplianceRow]) -> list[UnitCompliance]:
    """Totals per unit: people listed, and how many sent at least one idea."""
    units: dict[int, UnitCompliance] = {}
    for r in rows:
        u = units.get(r.unit_id) or UnitCompliance(r.unit_id, r.unit_name, 0, 0)
        units[r.unit_id] = UnitCompliance(
            u.unit_id, u.unit_name, u.people + 1, u.with_ideas + (1 if r.ideas else 0)
        )
    return list(units.values())


COMPLIANCE_HEADERS = ["单位", "姓名", "职务", "邮箱", "已提建议数", "状态", "上次提醒"]


def compliance_table(rows: Sequence[ComplianceRow]) -> list[list[Cell]]:
    """The export rows (for rows_xlsx / rows_csv)."""
    return [
        [
            r.unit_name,
            r.name,
            r.post,
            r.email or "",
            r.ideas,
            "已提交" if r.ideas else "未提交",
            r.last_reminded_at,
        ]
        for r in rows
    ]


@dataclass(frozen=True)
class Reminder:
    person_id: int
    name: str
    email: str
    unit_name: str
    url: str
    # When the person was reminded before this run claimed them (see claim_reminders).
    previous: datetime | None = None


def due_reminders(
    session: Session,
    *,
    unit_ids: Sequence[int],
    secret: str,
    base_url: str,
    every_days: int,
    now: datetime | None = None,
) -> list[Reminder]:
    """People with an email and no idea yet, not reminded in the last `every_days` days."""
    cutoff = (now or utcnow()) - timedelta(days=every_days)
    people = {
        p.id: p
        for p in session.exec(
            select(RosterPerson).where(col(RosterPerson.unit_id).in_(list(unit_ids)))
        )
    }
    due = []
    for row in compliance_rows(session, unit_ids=unit_ids):
        person = people[row.person_id]
        if row.ideas or not row.email:
            continue
        if row.last_reminded_at is not None and row.last_reminded_at > cutoff:
            continue
        due.append(
            Reminder(
                row.person_id,
                row.name,
                row.email,
                row.unit_name,
                idea_url(base_url=base_url, secret=secret, person=person),
                row.last_reminded_at,
            )
        )
    return due


def claim_reminders(
    session: Session,
    *,
    reminders: Sequence[Reminder],
    every_days: int,
    now: datetime | None = None,
) -> list[Reminder]:
    """Stamp the people of due reminders as reminded now, unless another run just did.

    Call it after ending the transaction that found them and commit before sending: a
    second run meanwhile (a double click on the button, the CLI from cron) then sends
    nothing twice. Its conditional write comes first in the transaction, so on SQLite a
    concurrent claim waits for the first one and sees its stamps instead of failing.
    """
    when = now or utcnow()
    cutoff = when - timedelta(days=every_days)
    claimed = []
    for reminder in reminders:
        stamped = cast(
            "CursorResult[Any]",
            session.execute(
                update(RosterPerson)
                .where(
                    col(RosterPerson.id) == reminder.person_id,
                    or_(
                        col(RosterPerson.last_reminded_at).is_(None),
                        col(RosterPerson.last_reminded_at) <= cutoff,
                    ),
                )
                .values(last_reminded_at=when)
            ),
        )
        if stamped.rowcount == 1:
            claimed.append(reminder)
    return claimed


def release_reminders(session: Session, *, reminders: Sequence[Reminder]) -> None:
    """Undo the claim of reminders that could not be sent, so the next run tries again."""
    for reminder in reminders:
        session.execute(
            update(RosterPerson)
            .where(col(RosterPerson.id) == reminder.person_id)
            .values(last_reminded_at=reminder.previous)
        )


def reminder_message(reminder: Reminder, *, from_addr: str) -> EmailMessage:
    """The Chinese reminder email with the person's own link."""
    text = (
        f"{reminder.name}老师：\n\n"
        f"“我为教育发展献良策”活动正在进行，{reminder.unit_name}期待听到您的意见和建议。\n"
        "请通过下面您的专属链接提交（链接只属于您，请勿转发）：\n\n"
        f"{reminder.url}\n\n"
        "感谢您的支持！\n（本邮件由系统自动发送）\n"
    )
    domain = from_addr.rsplit("@", 1)[-1]
    return build_message(
        from_addr=from_addr,
        to_addrs=[reminder.email],
        subject="【提醒】我为教育发展献良策",
        text=text,
        message_id_domain=domain,
        headers={"Auto-Submitted": "auto-generated"},
    )


@dataclass(frozen=True)
class ReminderRun:
    sent: list[int]
    failed: list[str]
    unsent: list[Reminder]  # to hand to release_reminders


async def send_reminders(
    sender: MailSender, reminders: Sequence[Reminder], *, from_addr: str
) -> ReminderRun:
    """Send each reminder; a failed address is reported and retried on the next run."""
    sent, failed, unsent = [], [], []
    for reminder in reminders:
        try:
            await sender.send(reminder_message(reminder, from_addr=from_addr))
        except MailSendError as exc:
            failed.append(f"{reminder.name}：{exc}")
            unsent.append(reminder)
            continue
        sent.append(reminder.person_id)
    return ReminderRun(sent=sent, failed=failed, unsent=unsent)

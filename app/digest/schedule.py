"""When the digest goes out: periods (a day, an ISO week), the bureau's settings, what is due."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.core.errors import Invalid, NotFound
from app.core.time import TZ
from app.mail.address import is_email_address
from app.models import (
    Bureau,
    Digest,
    DigestKind,
    DigestSetting,
    utcnow,
)
from app.units.service import default_bureau

DEFAULT_WEEKLY_TIME = "08:00"
WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DAY_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEK_KEY = re.compile(r"^(\d{4})-W(\d{2})$")

@dataclass(frozen=True)
class Period:
    """A local (Asia/Shanghai) day or ISO week; start/end are aware UTC instants."""

    kind: DigestKind
    key: str
    first_day: date
    last_day: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), TZ).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time(), TZ).astimezone(UTC)

    @property
    def label(self) -> str:
        if self.kind == DigestKind.day:
            d = self.first_day
            return f"{d.year}年{d.month}月{d.day}日（{WEEKDAY_NAMES[d.weekday()]}）"
        year, week, _ = self.first_day.isocalendar()
        a, b = self.first_day, self.last_day
        return f"{year}年第{week}周（{a.month}月{a.day}日—{b.month}月{b.day}日）"

    @property
    def noun(self) -> str:
        return "日" if self.kind == DigestKind.day else "周"

    def previous(self) -> Period:
        step = timedelta(days=1 if self.kind == DigestKind.day else 7)
        return make_period(self.kind, self.first_day - step)


def make_period(kind: DigestKind, day: date) -> Period:
    """The day, or the ISO week (Monday to Sunday), that contains `day`."""
    if kind == DigestKind.day:
        return Period(kind, day.isoformat(), day, day)
    monday = day - timedelta(days=day.weekday())
    year, week, _ = monday.isocalendar()
    return Period(kind, f"{year}-W{week:02d}", monday, monday + timedelta(days=6))


def parse_period(*, day: str | None = None, week: str | None = None) -> Period:
    """A period from 'YYYY-MM-DD' or 'YYYY-Www'; raise Invalid with a Chinese message."""
    if (day is None) == (week is None):
        raise Invalid("请指定日期（YYYY-MM-DD）或周（YYYY-Www）之一。", field="period")
    if day is not None:
        try:
            if not _DAY_KEY.match(day):
                raise ValueError(day)
            return make_period(DigestKind.day, date.fromisoformat(day))
        except ValueError:
            message = f"日期格式不对：{day}（应为 2026-11-26 这样）。"
            raise Invalid(message, field="period") from None
    assert week is not None
    m = _WEEK_KEY.match(week)
    try:
        if m is None:
            raise ValueError(week)
        return make_period(DigestKind.week, date.fromisocalendar(int(m[1]), int(m[2]), 1))
    except ValueError:
        raise Invalid(f"周的格式不对：{week}（应为 2026-W48 这样）。", field="week") from None


def period_of(digest: Digest) -> Period:
    """The period a digest row stands for."""
    kind = DigestKind(digest.period_kind)
    if kind == DigestKind.day:
        return parse_period(day=digest.period_key)
    return parse_period(week=digest.period_key)


def latest_completed(kind: DigestKind, *, now: datetime) -> Period:
    """The last whole day or ISO week before `now` (local time)."""
    today = now.astimezone(TZ).date()
    step = timedelta(days=1 if kind == DigestKind.day else 7)
    return make_period(kind, today - step)


def _at(day: date, hhmm: str) -> datetime:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), TZ)


def due_periods(setting: DigestSetting, *, now: datetime) -> list[Period]:
    """The latest period of each configured kind whose sending time has come.

    Daily at HH:MM: yesterday becomes due at HH:MM today. Weekly on weekday W: the previous
    ISO week becomes due on W at the daily time (08:00 without one).
    """
    local = now.astimezone(TZ)
    today = local.date()
    periods: list[Period] = []
    if setting.daily_time:
        back = 1 if local >= _at(today, setting.daily_time) else 2
        periods.append(make_period(DigestKind.day, today - timedelta(days=back)))
    if setting.weekly_weekday is not None:
        monday = today - timedelta(days=today.weekday())
        moment = _at(
            monday + timedelta(days=setting.weekly_weekday),
            setting.daily_time or DEFAULT_WEEKLY_TIME,
        )
        back = 7 if local >= moment else 14
        periods.append(make_period(DigestKind.week, monday - timedelta(days=back)))
    return periods


def parse_recipients(text: str) -> list[str]:
    """Addresses from a comma/semicolon/space separated list; raise Invalid on a bad one."""
    found = [part for part in re.split(r"[,;，；\s]+", text.strip()) if part]
    for address in found:
        if not is_email_address(address):
            raise Invalid(f"邮箱地址格式不对：{address}", field="recipients")
    return found


def get_setting(session: Session, *, bureau_id: int) -> DigestSetting | None:
    """A bureau's digest settings, if any were saved."""
    return session.exec(select(DigestSetting).where(DigestSetting.bureau_id == bureau_id)).first()


def save_setting(
    session: Session,
    *,
    bureau_id: int,
    recipients: str | None = None,
    daily_time: str | None = None,
    weekly_weekday: int | None = None,
    send_when_empty: bool | None = None,
    enabled: bool | None = None,
    clear_daily: bool = False,
    clear_weekly: bool = False,
) -> DigestSetting:
    """Create or update a bureau's digest settings; only the given values change."""
    setting = get_setting(session, bureau_id=bureau_id)
    if setting is None:
        if session.get(Bureau, bureau_id) is None:
            raise NotFound("没有找到这个教育局。")
        setting = _insert_setting(session, bureau_id=bureau_id)
    if recipients is not None:
        setting.recipients = ", ".join(parse_recipients(recipients))
    if clear_daily:
        setting.daily_time = None
    elif daily_time is not None:
        if not _HHMM.match(daily_time.strip()):
            raise Invalid("每日发送时间应为 HH:MM，例如 08:00。", field="daily_time")
        setting.daily_time = daily_time.strip()
    if clear_weekly:
        setting.weekly_weekday = None
    elif weekly_weekday is not None:
        if not 0 <= weekly_weekday <= 6:
            raise Invalid("每周发送日应为周一到周日之一。", field="weekly_weekday")
        setting.weekly_weekday = weekly_weekday
    if send_when_empty is not None:
        setting.send_when_empty = send_when_empty
    if enabled is not None:
        setting.enabled = enabled
    setting.updated_at = utcnow()
    session.add(setting)
    session.flush()
    return setting


def _insert_setting(session: Session, *, bureau_id: int) -> DigestSetting:
    """A new settings row, or the one another worker inserted since we looked."""
    row = DigestSetting(bureau_id=bureau_id)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        found = get_setting(session, bureau_id=bureau_id)
        assert found is not None
        return found
    return row


def ensure_default_setting(session: Session, *, recipients: str | None) -> DigestSetting | None:
    """Seed the default bureau's settings from YIJIAN_DIGEST_TO (daily at 08:00), once.

    Settings saved later (CLI or admin page) win over the environment.
    """
    if not recipients:
        return None
    try:
        bureau = default_bureau(session)
    except NotFound:
        return None
    assert bureau.id is not None
    existing = get_setting(session, bureau_id=bureau.id)
    if existing is not None:
        return existing
    return save_setting(session, bureau_id=bureau.id, recipients=recipients, daily_time="08:00")



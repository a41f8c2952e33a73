"""China's clock: every campaign date, deadline and digest period is meant in Asia/Shanghai.

Times are stored in UTC (app.models.utcnow); days are read and shown in China's time zone.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from app.core.errors import Invalid

TZ = ZoneInfo("Asia/Shanghai")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def today_local() -> date:
    """Today's date in China."""
    return datetime.now(TZ).date()


def local_midnight(day: date) -> datetime:
    """The start of a day in China (UTC+8), as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=TZ)


def chinese_date(day: date) -> str:
    """A day as Chinese pages and mails write it: 2026年12月7日."""
    return f"{day.year}年{day.month}月{day.day}日"


def parse_day(value: str | None, *, field: str, label: str = "日期") -> date:
    """A YYYY-MM-DD date from a form or URL; Invalid with a Chinese message otherwise."""
    text = (value or "").strip()
    if not text:
        raise Invalid(f"请填写{label}（年-月-日）。", field=field)
    if _DAY.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise Invalid(f"{label}应是 年-月-日 格式的日期，例如 2026-03-01。", field=field)


def to_minute(at: datetime) -> datetime:
    """The time with seconds and below dropped: the precision every submission time is kept at."""
    return at.replace(second=0, microsecond=0)

"""A varied set of items across the 2026 Spring Festival, and the figures expected of it,
counted here item by item (Python over the inputs, chinese_calendar directly), not in SQL."""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped]
from sqlalchemy import Engine, insert

from app.core.db import session_scope
from app.models import Channel, Reply, Role, Status
from tests.factories import insert_submissions

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIRST = date(2026, 2, 2)
LAST = date(2026, 3, 13)
OPEN = ("new", "classified", "forwarded")
CHECKS: tuple[int | None, ...] = (1, 2, 3, 4, 5, 0, None)


@dataclass(frozen=True)
class Item:
    unit: str
    check: int | None
    channel: str
    role: str
    anonymous: bool
    status: str
    at: datetime
    updated: datetime
    reply_at: datetime | None


def local_day(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


def at_noon(day: date) -> datetime:
    """Noon in China on that day, as UTC."""
    return datetime.combine(day, datetime.min.time(), SHANGHAI).replace(hour=12).astimezone(UTC)


def working_day_after(day: date, n: int) -> date:
    while n:
        day += timedelta(days=1)
        n -= chinese_calendar.is_workday(day)
    return day


def working_days(a: date, b: date) -> int:
    return sum(
        chinese_calendar.is_workday(a + timedelta(days=k)) for k in range(1, (b - a).days + 1)
    )


def make_items(seed: int = 18, count: int = 160) -> list[Item]:
    rng = random.Random(seed)
    items = []
    for _ in range(count):
        # Some just before local midnight, to catch a UTC day taken for China's.
        local = datetime.combine(
            FIRST + timedelta(days=rng.randint(-3, (LAST - FIRST).days + 3)),
            datetime.min.time(),
            SHANGHAI,
        ) + timedelta(hours=rng.choice([0.5, 9, 15, 23.5]))
        at = local.astimezone(UTC)
        status = rng.choice([s.value for s in Status])
        later = at + timedelta(hours=rng.randint(2, 24 * 14))
        reply = (status in ("replied", "closed") and rng.random() < 0.8) or rng.random() < 0.1
        items.append(
            Item(
                unit=rng.choice(["demo", "demo2"]),
                check=rng.choice(CHECKS),
                channel=rng.choice([c.value for c in Channel]),
                role=rng.choice([r.value for r in Role]),
                anonymous=rng.random() < 0.7,
                status=status,
                at=at,
                updated=later + timedelta(hours=rng.randint(0, 48)),
                reply_at=later if reply else None,
            )
        )
    return items


def store(engine: Engine, items: list[Item]) -> None:
    ids = insert_submissions(
        engine,
        rows=[
            {
                "unit": i.unit,
                "check": i.check,
                "channel": i.channel,
                "role": i.role,
                "anonymous": i.anonymous,
                "name": None if i.anonymous else "张三",
                "status": i.status,
                "at": i.at,
                "updated_at": i.updated,
            }
            for i in items
        ],
    )
    replies = [
        # A second, later reply must not move the first answer.
        {"submission_id": sid, "body": "答复", "created_at": when}
        for sid, i in zip(ids, items, strict=True)
        if i.reply_at is not None
        for when in (i.reply_at, i.reply_at + timedelta(days=9))
    ]
    if replies:
        with session_scope(engine) as s:
            s.execute(insert(Reply), replies)


def in_period(items: list[Item], first: date = FIRST, last: date = LAST) -> list[Item]:
    return [i for i in items if first <= local_day(i.at) <= last]


def answered(i: Item) -> bool:
    return i.status in ("replied", "closed") or i.reply_at is not None


def is_open(i: Item) -> bool:
    return i.status in OPEN and not answered(i)


def deadline(i: Item) -> date:
    return working_day_after(local_day(i.at), 5)


def overdue(i: Item, today: date) -> bool:
    return is_open(i) and deadline(i) < today


def figures(items: list[Item], today: date) -> dict[str, int]:
    return {
        "received": len(items),
        "answered": sum(answered(i) for i in items),
        "closed": sum(i.status == "closed" for i in items),
        "open": sum(is_open(i) for i in items),
        "overdue": sum(overdue(i, today) for i in items),
    }


def answer_day(i: Item) -> date:
    if i.reply_at is not None:
        return local_day(i.reply_at)
    return local_day(i.updated)


def on_time_rate(items: list[Item], today: date) -> float | None:
    done = [i for i in items if answered(i)]
    judged = len(done) + sum(overdue(i, today) for i in items)
    if not judged:
        return None
    return sum(answer_day(i) <= deadline(i) for i in done) / judged


def median_to_reply(items: list[Item]) -> float | None:
    waits = [max(0, working_days(local_day(i.at), answer_day(i))) for i in items if answered(i)]
    return statistics.median(waits) if waits else None


def median_to_close(items: list[Item]) -> float | None:
    waits = [
        max(0, working_days(local_day(i.at), local_day(i.updated)))
        for i in items
        if i.status == "closed"
    ]
    return statistics.median(waits) if waits else None

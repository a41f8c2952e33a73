"""The digest's 热点问题 section against a count made from the letters themselves."""

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from app.digest.content import build_digest, render_digest
from app.digest.schedule import make_period
from app.groups.jobs import group_new_items
from app.models import DigestKind
from app.units.service import default_bureau
from tests.factories import insert_submissions
from tests.groups.corpus import CONCERNS, OTHERS
from tests.helpers import soup

TZ = ZoneInfo("Asia/Shanghai")
WEEK = make_period(DigestKind.week, date(2026, 11, 25))
# Concern -> (letters in the week before, letters in the digest's week).
PLAN = {0: (3, 6), 1: (0, 4), 2: (2, 2)}


def test_hot_section_counts_the_largest_and_fastest_growing_groups(
    engine: Engine, demo: None
) -> None:
    rows: list[dict[str, object]] = []
    concern_of: list[tuple[int, bool]] = []  # (concern, in this week) per row
    for concern, (before, now) in PLAN.items():
        texts = iter(CONCERNS[concern])
        for n in range(before + now):
            week_start = WEEK.first_day - timedelta(days=7 if n < before else 0)
            at = datetime.combine(week_start + timedelta(days=n % 7), datetime.min.time(), TZ)
            rows.append({"text": next(texts), "at": at + timedelta(hours=9), "unit": "demo"})
            concern_of.append((concern, n >= before))
    rows += [{"text": t, "at": WEEK.start + timedelta(hours=2)} for t in OTHERS[:3]]
    insert_submissions(engine, rows=rows)
    group_new_items(engine)

    this_week = Counter(c for c, now in concern_of if now)
    last_week = Counter(c for c, now in concern_of if not now)
    with Session(engine) as s:
        bureau = default_bureau(s)
        assert bureau.id is not None
        content = build_digest(s, bureau_id=bureau.id, period=WEEK)
    _, text, html = render_digest(content, base_url="https://yijian.example")
    table = soup(html).select_one("#hot")
    assert table is not None

    def figures(kind: str) -> list[tuple[int, int, str]]:
        return [
            (int(tr.select("td")[1].text), int(tr.select("td")[2].text), tr.select("td")[3].text)
            for tr in table.select(f"tr.hot-{kind}")
        ]

    largest = sorted(this_week, key=lambda c: -this_week[c])
    assert figures("largest") == [
        (this_week[c], last_week[c], f"{this_week[c] - last_week[c]:+d}") for c in largest
    ]
    growing = sorted(
        (c for c in this_week if this_week[c] > last_week[c]),
        key=lambda c: -(this_week[c] - last_week[c]),
    )
    assert figures("growing") == [
        (this_week[c], last_week[c], f"{this_week[c] - last_week[c]:+d}") for c in growing
    ]
    assert "热点问题" in text and "增长最快" in text
    assert all(
        a["href"].startswith("https://yijian.example/admin?group=") for a in table.select("a")
    )

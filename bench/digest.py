"""How long building one digest takes for a week with 200,000 submissions (SQLite file).

Run: .venv/bin/python -m bench.digest [--rows 200000]
Prints the seeding time, the build time of build_digest (figures) and render_digest, then
the attachment: the capped workbook the digest mails beside the whole period's workbook
(what the digest attached before the cap, the baseline), each built in a child process
so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from alembic import command
from sqlalchemy import insert
from sqlmodel import Session

from app.cli import alembic_config
from app.core.db import make_engine
from app.digest.content import ATTACHED_TEXT_BUDGET, build_digest, digest_xlsx, render_digest
from app.digest.schedule import parse_period
from app.models import Bureau, Channel, Reply, Role, Status, Submission, Unit

TZ = ZoneInfo("Asia/Shanghai")
WEEK = "2026-W48"


def seed(url: str, rows: int) -> int:
    engine = make_engine(url)
    rng = random.Random(1)
    with Session(engine) as s:
        bureau = Bureau(name="基准县教育局")
        s.add(bureau)
        s.flush()
        assert bureau.id is not None
        units = [Unit(bureau_id=bureau.id, slug=f"school-{i}", name=f"第{i}学校")
                 for i in range(40)]
        s.add_all(units)
        s.flush()
        unit_ids = [u.id for u in units]
        first = datetime.combine(date(2026, 11, 23), datetime.min.time(), TZ)
        span = 7 * 86400
        checks = [None, 0, 1, 2, 3, 4, 5]
        batch = []
        for n in range(rows + rows // 10):
            # A tenth of the rows fall in the two weeks before, for "previous" and overdue.
            offset = rng.randrange(span) - (rng.randrange(span * 2) + 1 if n >= rows else 0)
            when = first + timedelta(seconds=offset)
            anonymous = rng.random() < 0.7
            batch.append({
                "unit_id": rng.choice(unit_ids), "channel": rng.choice(list(Channel)).value,
                "kind": "opinion", "role": rng.choice(list(Role)).value, "anonymous": anonymous,
                "name": None if anonymous else "某老师", "contact": None,
                "text": "食堂饭菜太咸，希望改进。" * rng.randrange(1, 8),
                "check": rng.choice(checks), "status": rng.choice(list(Status)).value,
                "receipt_hash": f"{n:064x}", "created_at": when, "updated_at": when,
            })
            if len(batch) == 20000:
                s.execute(insert(Submission), batch)
                batch = []
        if batch:
            s.execute(insert(Submission), batch)
        s.execute(insert(Reply), [{"submission_id": i, "body": "已答复",
                                   "created_at": first} for i in range(1, rows, 7)])
        s.commit()
        bureau_id = bureau.id
    engine.dispose()
    return bureau_id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        command.upgrade(alembic_config(url), "head")
        t0 = time.perf_counter()
        bureau_id = seed(url, args.rows)
        print(f"seeded {args.rows + args.rows // 10} submissions in "
              f"{time.perf_counter() - t0:.1f} s")
        engine = make_engine(url)
        period = parse_period(week=WEEK)
        for attempt in range(3):
            with Session(engine) as s:
                t0 = time.perf_counter()
                content = build_digest(s, bureau_id=bureau_id, period=period)
                built = time.perf_counter() - t0
                t0 = time.perf_counter()
                render_digest(content, base_url="https://yijian.example")
                rendered = time.perf_counter() - t0
            print(f"run {attempt + 1}: build_digest {built:.3f} s, render_digest "
                  f"{rendered:.3f} s (total {content.total}, overdue {content.overdue_count})")
        engine.dispose()
        ctx = multiprocessing.get_context("spawn")
        for label, budget in (("whole period (baseline)", 10**12),
                              ("capped (digest)", ATTACHED_TEXT_BUDGET)):
            with ctx.Pool(1) as pool:
                seconds, size, attached, total, peak = pool.apply(
                    build_attachment, (url, bureau_id, budget))
            # Base64 in the mail: four bytes for every three.
            print(f"xlsx {label}: {seconds:.1f} s, {attached} of {total} items, "
                  f"{size / 1e6:.1f} MB ({size * 4 / 3 / 1e6:.1f} MB in the mail), "
                  f"peak RSS {peak / 1024:.0f} MB")


def build_attachment(url: str, bureau_id: int, budget: int) -> tuple[float, int, int, int, int]:
    engine = make_engine(url)
    with Session(engine) as s:
        content = build_digest(s, bureau_id=bureau_id, period=parse_period(week=WEEK))
        t0 = time.perf_counter()
        workbook = digest_xlsx(s, content=content, budget=budget)
        seconds = time.perf_counter() - t0
    engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return seconds, len(workbook.data), workbook.attached, workbook.total, peak


if __name__ == "__main__":
    main()

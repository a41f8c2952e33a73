"""Time the stats page (/admin/stats) on a big database: 200,000 submissions, a third answered.

Run: .venv/bin/python -m bench.stats [--rows 200000] [--url postgresql+psycopg://...]
A temp SQLite file, then the empty PostgreSQL database of --url if given. Times the app's
start-up (which reads every item into the stats page's columns, app/stats/store.py), then for
each page the first request and the median and worst of the next 14, for the whole span, a
month and one unit; then the pages again right after other writers changed items (one item,
and 1,000 at once), so every figure is counted anew. Beside a baseline measured in the same
run on the same data: the review queue's first page (bureau admin, all units). Goal: under
300 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert, update
from sqlmodel import col

from app.core import crypto
from app.core.config import Settings
from app.core.crypto import Keyring, generate_key
from app.core.db import make_engine
from app.core.time import TZ
from app.main import create_app
from app.models import Channel, Reply, Role, Status, Submission
from app.stats.store import ItemStore
from app.workdays.service import DEFAULT_ANSWER_WORKING_DAYS, add_working_days
from bench.queue import PASSWORD, prepare_units

# One key for the seed and the app, installed before seeding writes names and contacts.
DATA_KEY = generate_key()
crypto.install(Keyring.from_text([DATA_KEY]))
START = datetime(2025, 3, 1, tzinfo=UTC)
STEP_SECONDS = 40  # 200,000 rows span about 93 days


@cache
def _promised(day: date) -> date:
    return add_working_days(day, DEFAULT_ANSWER_WORKING_DAYS)


def due_on(at: datetime) -> date:
    return _promised(at.astimezone(TZ).date())


def seed(url: str, rows: int) -> None:
    engine, units = prepare_units(url, 38)
    rng = random.Random(7)
    roles = [r.value for r in Role]
    statuses = [s.value for s in Status]
    channels = [c.value for c in Channel]
    batch: list[dict[str, object]] = []
    replies: list[dict[str, object]] = []
    with engine.begin() as conn:
        for n in range(rows):
            at = START + timedelta(seconds=n * STEP_SECONDS + rng.randint(0, 30))
            status = rng.choice(statuses)
            later = at + timedelta(hours=rng.randint(1, 24 * 12))
            replied = status in (Status.replied.value, Status.closed.value) or rng.random() < 0.05
            batch.append(
                {
                    "id": n + 1,
                    "unit_id": rng.choice(units),
                    "channel": rng.choice(channels),
                    "kind": "opinion",
                    "role": rng.choice(roles),
                    "anonymous": rng.random() < 0.8,
                    "text": "希望学校改进食堂管理。",
                    "check": rng.choice([None, 0, 1, 2, 3, 4, 5]),
                    "status": status,
                    "receipt_hash": f"{n:064x}",
                    "created_at": at,
                    "updated_at": later if status != Status.new.value else at,
                    # As review.service.add_reply keeps it.
                    "first_reply_at": later if replied else None,
                    # As intake sets it: the unit's five working days from the day of receipt.
                    "due_on": due_on(at),
                }
            )
            if replied:
                replies.append({"submission_id": n + 1, "body": "已答复。", "created_at": later})
            if len(batch) == 10_000:
                conn.execute(insert(Submission.__table__), batch)  # type: ignore[attr-defined]
                batch = []
        if batch:
            conn.execute(insert(Submission.__table__), batch)  # type: ignore[attr-defined]
        for i in range(0, len(replies), 10_000):
            conn.execute(insert(Reply.__table__), replies[i : i + 10_000])  # type: ignore[attr-defined]
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "SELECT setval('submission_id_seq', (SELECT max(id) FROM submission))"
            )
        conn.exec_driver_sql("ANALYZE")
    if engine.dialect.name == "postgresql":
        # As autovacuum leaves a table after bulk inserts (visibility map set), so index-only
        # scans need no heap visits; SQLite has no such state.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def timed(client: TestClient, url: str, runs: int = 15) -> tuple[float, float, float]:
    """The first request (cold: nothing cached), then the median and worst of the rest."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.text[:500]
    rest = times[1:] or times
    return times[0], statistics.median(rest), max(rest)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--url", help="an empty PostgreSQL database to time after SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.rows, Path(tmp))
        if args.url:
            run(args.url, args.rows, Path(tmp))


def run(url: str, rows: int, tmp: Path) -> None:
    """Seed one database and time every page on it."""
    t0 = time.perf_counter()
    seed(url, rows)
    print(f"seeded {rows} rows in {time.perf_counter() - t0:.1f} s ({url.split(':')[0]})")
    settings = Settings(
        env="test",
        secret_key="b" * 40,
        data_key=DATA_KEY,
        database_url=url,
        data_dir=tmp,
        rate_limit="off",
        _env_file=None,
    )
    last = (START + timedelta(seconds=rows * STEP_SECONDS)).date()
    span = f"from={START.date()}&to={last}"
    month = f"from={date(2025, 4, 1)}&to={date(2025, 4, 30)}"
    writer = make_engine(url)
    loads = []
    for _ in range(3):
        t0 = time.perf_counter()
        ItemStore().preload(writer)
        loads.append((time.perf_counter() - t0) * 1000)
    label = "every item read into memory (start-up)"
    print(f"{label:40s} median {statistics.median(loads):6.1f} ms")
    with TestClient(create_app(settings)) as client:
        r = client.post("/admin/login", data={"username": "bench", "password": PASSWORD})
        assert r.status_code == 200
        pages = {
            "baseline: queue first page (all units)": "/admin",
            f"stats, whole span ({rows} items)": f"/admin/stats?{span}",
            "stats, one month": f"/admin/stats?{month}",
            "stats, one unit, whole span": f"/admin/stats?{span}&unit=demo",
            "stats xlsx, whole span": f"/admin/stats.xlsx?{span}",
            "public bureau page (current campaign)": "/stats",
        }
        for label, path in pages.items():
            cold, median, worst = timed(client, path)
            print(
                f"{label:40s} first {cold:7.1f} ms   then median {median:6.1f} ms"
                f"   max {worst:6.1f} ms"
            )
        # Another writer (intake, a reviewer, the reply trigger) changes items between two
        # views: the page reads what changed and counts every figure again.
        rng = random.Random(11)
        for changed in (1, 1000):
            for label, path in pages.items():
                if not path.startswith("/admin/stats?"):
                    continue
                times = []
                for _ in range(7):
                    first = rng.randint(1, rows - changed)
                    with writer.begin() as conn:
                        conn.execute(
                            update(Submission)
                            .where(col(Submission.id).between(first, first + changed - 1))
                            .values(status=rng.choice(["closed", "replied", "new"]))
                        )
                    times.append(timed(client, path, runs=1)[0])
                print(
                    f"{label:40s} after {changed:4d} changed  median"
                    f" {statistics.median(times):6.1f} ms   max {max(times):6.1f} ms"
                )
        writer.dispose()


if __name__ == "__main__":
    main()

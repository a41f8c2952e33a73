"""Time the review queue on a big database: 200,000 submissions in a temp SQLite file.

Run: .venv/bin/python bench/queue.py [rows]
Prints the median and worst time of each page, served through the real app (TestClient).
"""
# ruff: noqa: E402 - the imports wait until sys.path no longer shadows the stdlib queue module

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file (queue.py) would shadow the standard library's queue module.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import random
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert
from sqlmodel import Session, select

from app.accounts.service import create_admin
from app.cli import alembic_config
from app.core import crypto
from app.core.config import Settings
from app.core.crypto import Keyring, generate_key
from app.core.db import make_engine
from app.main import create_app
from app.models import AdminRole, Channel, Role, Status, Submission, SubmissionConcern, Unit
from app.units.service import add_unit, ensure_demo

# One key for the seed and the app, installed before seeding writes names and contacts.
DATA_KEY = generate_key()
crypto.install(Keyring.from_text([DATA_KEY]))
PASSWORD = "bench password 123"
WORDS = ["食堂", "作业", "校车", "课后服务", "收费", "老师态度", "安全", "操场", "图书馆", "家长会"]


def prepare_units(url: str, schools: int) -> tuple[Engine, list[int]]:
    """A migrated database with the demo data, `schools` more schools and the bureau admin
    "bench"; its engine and every unit's id."""
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    with Session(engine) as s:
        ensure_demo(s)
        for i in range(schools):
            add_unit(s, slug=f"school-{i:02d}", name=f"示范县第{i + 3}小学")
        units = [u.id for u in s.exec(select(Unit)).all() if u.id is not None]
        bureau_id = s.exec(select(Unit)).first().bureau_id  # type: ignore[union-attr]
        create_admin(
            s, username="bench", password=PASSWORD, role=AdminRole.bureau_admin, bureau_id=bureau_id
        )
        s.commit()
    return engine, units


def seed(url: str, rows: int) -> None:
    engine, units = prepare_units(url, 18)
    rng = random.Random(4)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    roles = [r.value for r in Role]
    statuses = [s.value for s in Status]
    channels = [c.value for c in Channel]
    batch = []
    concerns = []  # a third of the items also speak to a second check (兼涉)
    with engine.begin() as conn:
        for n in range(rows):
            at = start + timedelta(seconds=n * 40 + rng.randint(0, 30))
            anonymous = rng.random() < 0.8
            batch.append(
                {
                    "unit_id": rng.choice(units),
                    "channel": rng.choice(channels),
                    "kind": "opinion",
                    "role": rng.choice(roles),
                    "anonymous": anonymous,
                    "name": None if anonymous else "张老师",
                    "contact": None,
                    "text": f"关于{rng.choice(WORDS)}的意见：希望学校改进{rng.choice(WORDS)}。" * 3,
                    "check": (check := rng.randint(0, 5)),
                    "check_score": round(rng.random(), 3),
                    "check_evidence": '["改进"]',
                    "status": rng.choice(statuses),
                    "receipt_hash": f"{n:064x}",
                    "created_at": at,
                    "updated_at": at,
                }
            )
            concerns.append({"submission_id": n + 1, "check": check, "rank": 0})
            if rng.random() < 0.3:
                also = rng.choice([c for c in range(1, 6) if c != check])
                concerns.append({"submission_id": n + 1, "check": also, "rank": 1})
            if len(batch) == 10_000:
                conn.execute(insert(Submission.__table__), batch)  # type: ignore[attr-defined]
                batch = []
        if batch:
            conn.execute(insert(Submission.__table__), batch)  # type: ignore[attr-defined]
        conn.execute(insert(SubmissionConcern.__table__), concerns)  # type: ignore[attr-defined]
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def timed(client: TestClient, url: str, runs: int = 15) -> tuple[float, float, str]:
    times = []
    text = ""
    for _ in range(runs):
        t0 = time.perf_counter()
        r = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.text[:500]
        text = r.text
    return statistics.median(times), max(times), text


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        t0 = time.perf_counter()
        seed(url, rows)
        print(f"seeded {rows} rows in {time.perf_counter() - t0:.1f} s")
        settings = Settings(
            env="test",
            secret_key="b" * 40,
            data_key=DATA_KEY,
            database_url=url,
            data_dir=Path(tmp),
            rate_limit="off",
            _env_file=None,
        )  # type: ignore[call-arg]
        with TestClient(create_app(settings)) as client:
            r = client.post(
                "/admin/login",
                data={"username": "bench", "password": PASSWORD},
                follow_redirects=False,  # the first /admin below must count from cold
            )
            assert r.status_code == 303
            cold, _, first = timed(client, "/admin", runs=1)
            print(f"{'first page, cold (counts computed)':48s} {cold:7.1f} ms")
            cursor = re.search(r'after=([0-9-]+)" id="next-page"', first)
            assert cursor is not None
            pages = {
                "first page (bureau admin, all units)": "/admin",
                "second page (cursor)": f"/admin?after={cursor.group(1)}",
                "filtered: check=3": "/admin?check=3",
                "filtered: unit + status": "/admin?unit=demo&status=new",
                "filtered: check + channel + role + anonymous": (
                    "/admin?check=2&channel=web&role=家长&anonymous=1"
                ),
                "filtered: date range, oldest first": (
                    "/admin?from=2025-04-01&to=2025-04-30&sort=old"
                ),
                "兼涉 filter: also=4": "/admin?also=4",
                "兼涉 filter: also=4 + check=2 + unit": "/admin?also=4&check=2&unit=demo",
                "text search q=校车 (substring scan)": "/admin?q=校车",
                "text search, rare word": "/admin?q=不存在的词",
            }
            for label, path in pages.items():
                median, worst, _ = timed(client, path)
                print(f"{label:48s} median {median:7.1f} ms   max {worst:7.1f} ms")


if __name__ == "__main__":
    main()

"""Grouping cost per new item beside the plain intake of an item, at 10k and 200k items.

Run: .venv/bin/python -m bench.groups [rows] [database-url]
Without a URL, a temp SQLite file. The database is seeded with `rows` items of a bureau of
20 schools (letters on ~2,000 concerns, several wordings each, all in the last 90 days),
their band keys and member rows written in bulk; then, per new item, timed one after the
other: storing it through the intake service and committing (the baseline), and grouping
it (candidate lookup, exact check, band insert) and committing. Prints medians, p95, the
candidates checked and the process's peak memory.
"""

from __future__ import annotations

import multiprocessing
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from multiprocessing.synchronize import Event
from pathlib import Path

from alembic import command
from sqlalchemy import Engine, func, insert, select, text
from sqlmodel import Session, col

from app.cli import alembic_config
from app.core.db import make_engine
from app.groups import service as groups
from app.groups.jobs import group_new_items
from app.groups.similarity import band_keys, shingles
from app.intake.service import NewSubmission, SubmissionInput, store_submission
from app.models import Channel, ConcernBand, ConcernMember, Role, Submission, Unit, utcnow
from app.units.service import add_unit, ensure_demo

PLACES = ["食堂", "校车", "宿舍", "操场", "厕所", "图书馆", "实验室", "教室", "校门口", "小卖部"]
ISSUES = [
    "价格太贵，一份要{n}元",
    "卫生太差，有苍蝇",
    "经常迟到{n}分钟",
    "漏水好几天没人修",
    "灯坏了{n}盏",
    "收费{n}元没有收据",
    "开放时间太短",
    "设施老化存在安全隐患",
    "排队要等{n}分钟",
    "噪音太大影响休息",
]
FRAMES = [
    "{x}，希望学校尽快解决。",
    "尊敬的领导：我是家长，反映{x}的问题，希望给个说法。",
    "{x}！请教育局管一管。",
    "孩子说{x}，我们家长很着急，恳请学校重视。",
    "关于{x}：已经反映过多次，至今没有改进。",
]
SAMPLES = 200


def letter(rng: random.Random, concern: int) -> str:
    """One sender's wording of concern number `concern`."""
    local = random.Random(concern)
    place, issue = local.choice(PLACES), local.choice(ISSUES).format(n=local.randint(3, 60))
    grade = f"{local.randint(1, 9)}年级{local.randint(1, 12)}班"
    return rng.choice(FRAMES).format(x=f"{grade}{place}{issue}")


def seed(url: str, rows: int, rng: random.Random) -> tuple[Engine, int, int]:
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    with Session(engine) as s:
        ensure_demo(s)
        for i in range(18):
            add_unit(s, slug=f"school-{i:02d}", name=f"示范县第{i + 3}小学")
        s.commit()
        units = [(u.id, u.bureau_id) for u in s.scalars(select(Unit)) if u.id is not None]
    bureau = units[0][1]
    unit_ids = [uid for uid, _ in units]
    concerns = max(50, rows // 100)
    now = utcnow()
    batch = 5000
    for first in range(0, rows, batch):
        subs, bands, members = [], [], []
        for n in range(first, min(rows, first + batch)):
            body = letter(rng, rng.randrange(concerns))
            at = now - timedelta(minutes=rng.randrange(90 * 24 * 60))
            subs.append(
                {
                    "id": n + 1,
                    "unit_id": rng.choice(unit_ids),
                    "channel": "web",
                    "kind": "opinion",
                    "role": Role.parent.value,
                    "anonymous": True,
                    "text": body,
                    "status": "new",
                    "receipt_hash": f"bench-{n}",
                    "created_at": at,
                    "updated_at": at,
                }
            )
            members.append({"submission_id": n + 1, "group_id": None, "split": False})
            bands += [
                {"bureau_id": bureau, "band": k, "submission_id": n + 1}
                for k in set(band_keys(shingles(body)))
            ]
        with engine.begin() as conn:
            conn.execute(insert(Submission), subs)
            conn.execute(insert(ConcernMember), members)
            conn.execute(insert(ConcernBand), bands)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('submission_id_seq', :n)"), {"n": rows})
            conn.execute(text("ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
    return engine, concerns, bureau


def new_item(body: str) -> NewSubmission:
    """An anonymous parent's web letter to the demo school, as intake receives it."""
    return NewSubmission(
        slug="demo",
        channel=Channel.web,
        data=SubmissionInput(text=body, role=Role.parent.value, anonymous=True),
        idempotency_key=None,
        created_at=None,
        check_open=False,
    )


def store_one(engine: Engine, body: str) -> tuple[float, int]:
    """Store one letter through the intake service and commit: (milliseconds, its id).
    On SQLite `engine` begins IMMEDIATE, as the intake writer process does."""
    with Session(engine) as s:
        t = time.perf_counter()
        stored = store_submission(s, secret="bench-secret", new=new_item(body))
        s.commit()
        return (time.perf_counter() - t) * 1000, stored.id


def keep_grouping(url: str, paced: bool, stop: Event) -> None:
    """The worker's grouping job without a pause between runs, in a process of its own."""
    engine = make_engine(url)
    rest = time.sleep if paced else (lambda _seconds: None)
    while not stop.is_set():
        group_new_items(engine, rest=rest)
    engine.dispose()


def intake_beside_the_job(
    url: str, intake: Engine, rng: random.Random, concerns: int, *, paced: bool
) -> list[float]:
    """Intake times while the grouping job runs nonstop in another process, as the worker
    does beside the web process: each new item gives it more work."""
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    worker = context.Process(target=keep_grouping, args=(url, paced, stop))
    worker.start()
    try:
        time.sleep(2)  # let it import and start working
        return [store_one(intake, letter(rng, rng.randrange(concerns)))[0] for _ in range(SAMPLES)]
    finally:
        stop.set()
        worker.join()


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * q))]


def run(url: str, rows: int) -> None:
    rng = random.Random(17)
    t0 = time.perf_counter()
    engine, concerns, bureau = seed(url, rows, rng)
    seeded = time.perf_counter() - t0
    intake = make_engine(url, immediate=engine.dialect.name == "sqlite")
    intake_ms, group_ms, checked, new_ids = [], [], [], []
    with Session(engine) as s:
        bands = s.scalar(select(func.count()).select_from(ConcernBand))
    for i in range(SAMPLES):
        body = letter(rng, rng.randrange(concerns))
        took, stored_id = store_one(intake, body)
        intake_ms.append(took)
        new_ids.append(stored_id)
        with Session(engine) as s:
            sub = s.get(Submission, stored_id)
            assert sub is not None
            t = time.perf_counter()
            groups.group_item(s, submission=sub)
            s.commit()
            group_ms.append((time.perf_counter() - t) * 1000)
            if i < 20:
                found = groups.candidate_ids(
                    s, bureau_id=bureau, keys=band_keys(shingles(body)), now=utcnow()
                )
                checked.append(len(found))
    # The worker's job: the items stored since its last run, BATCH items per commit.
    new_ids += [store_one(intake, letter(rng, rng.randrange(concerns)))[1] for _ in range(SAMPLES)]
    t = time.perf_counter()
    assert group_new_items(engine).grouped == SAMPLES
    batch_ms = (time.perf_counter() - t) * 1000 / SAMPLES
    beside = {
        paced: intake_beside_the_job(url, intake, rng, concerns, paced=paced)
        for paced in (False, True)
    }
    with Session(engine) as s:
        grouped = s.scalar(
            select(func.count())
            .select_from(ConcernMember)
            .where(
                col(ConcernMember.group_id).is_not(None),
                col(ConcernMember.submission_id).in_(new_ids),
            )
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{engine.dialect.name} rows={rows} band rows={bands} (seeded in {seeded:.0f} s)\n"
        f"  intake (store + commit) per item: median {statistics.median(intake_ms):.2f} ms, "
        f"p95 {pct(intake_ms, 0.95):.2f} ms\n"
        f"  the same while the grouping job runs nonstop in another process: median "
        f"{statistics.median(beside[False]):.2f} ms, p95 {pct(beside[False], 0.95):.2f} ms; "
        f"paced (rests as long as each item took): median "
        f"{statistics.median(beside[True]):.2f} ms, p95 {pct(beside[True], 0.95):.2f} ms\n"
        f"  grouping (lookup + check + bands + commit) per item: median "
        f"{statistics.median(group_ms):.2f} ms, p95 {pct(group_ms, 0.95):.2f} ms\n"
        f"  grouping in the worker's job ({SAMPLES} pending, a write commit each): "
        f"{batch_ms:.2f} ms per item\n"
        f"  candidates checked per item: median {statistics.median(checked):.0f}, "
        f"max {max(checked)}; new items that joined a group {grouped}/{2 * SAMPLES}\n"
        f"  peak RSS {peak:.0f} MB"
    )
    engine.dispose()
    intake.dispose()


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    if len(sys.argv) > 2:
        run(sys.argv[2], rows)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", rows)


if __name__ == "__main__":
    main()

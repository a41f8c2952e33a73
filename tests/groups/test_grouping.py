import zlib
from datetime import timedelta
from itertools import combinations

from sqlalchemy import Engine, select
from sqlmodel import col

from app.core.db import session_scope
from app.groups.jobs import group_new_items
from app.groups.service import fast_growing_groups
from app.models import ConcernMember, Status, utcnow
from tests.factories import insert_submissions
from tests.groups.corpus import CONCERNS, OTHERS


def labelled() -> list[tuple[int, str]]:
    """Every corpus letter with its concern (others each their own), interleaved as senders
    would write them in."""
    letters = [(c, t) for c, texts in enumerate(CONCERNS) for t in texts]
    letters += [(100 + n, t) for n, t in enumerate(OTHERS)]
    return sorted(letters, key=lambda x: (zlib.crc32(x[1].encode()) % 7, x[1]))


def groups_of(engine: Engine, ids: list[int]) -> dict[int, int | None]:
    with session_scope(engine) as s:
        rows = s.execute(
            select(col(ConcernMember.submission_id), col(ConcernMember.group_id)).where(
                col(ConcernMember.submission_id).in_(ids)
            )
        ).all()
    return {sid: gid for sid, gid in rows}


def test_paraphrases_group_and_other_concerns_stay_apart(engine: Engine, demo: None) -> None:
    letters = labelled()
    now = utcnow()
    ids = insert_submissions(
        engine,
        rows=[
            {"text": t, "unit": "demo" if n % 2 else "demo2", "at": now - timedelta(hours=n)}
            for n, (_, t) in enumerate(letters)
        ],
    )
    assert group_new_items(engine).grouped == len(ids)
    assert group_new_items(engine).grouped == 0  # each item looked at once
    found = groups_of(engine, ids)
    concern = {sid: c for sid, (c, _) in zip(ids, letters, strict=True)}
    tp = fp = fn = 0
    for a, b in combinations(ids, 2):
        same = concern[a] == concern[b]
        together = found[a] is not None and found[a] == found[b]
        tp += same and together
        fp += together and not same
        fn += same and not together
    assert (tp, fp, fn) == (sum(len(c) * (len(c) - 1) // 2 for c in CONCERNS), 0, 0)
    assert all(found[sid] is None for sid in ids if concern[sid] >= 100)


def test_old_closed_items_are_not_grouped_with(engine: Engine, demo: None) -> None:
    old = utcnow() - timedelta(days=120)
    first = insert_submissions(
        engine, rows=[{"text": CONCERNS[0][0], "at": old, "status": Status.closed.value}]
    )
    group_new_items(engine)
    second = insert_submissions(engine, rows=[{"text": CONCERNS[0][0]}])
    group_new_items(engine)
    assert groups_of(engine, first + second) == {first[0]: None, second[0]: None}


def test_fast_growing_groups_counts_new_members(engine: Engine, demo: None) -> None:
    now = utcnow()
    texts = CONCERNS[0]
    ids = insert_submissions(
        engine,
        rows=[
            {"text": t, "at": now - timedelta(days=3 if n < 4 else 0, minutes=n)}
            for n, t in enumerate(texts)
        ],
    )
    group_new_items(engine)
    gid = groups_of(engine, ids)[ids[0]]
    with session_scope(engine) as s:
        since = now - timedelta(hours=24)
        assert fast_growing_groups(s, since=since, min_new=len(texts) - 4) == [
            (gid, len(texts) - 4)
        ]
        assert fast_growing_groups(s, since=since, min_new=len(texts) - 3) == []


def test_the_job_rests_after_each_item_as_long_as_it_took(engine: Engine, demo: None) -> None:
    """Pacing: a burst of letters must not hold a core the web process needs for intake."""
    insert_submissions(engine, rows=[{"text": t} for t in CONCERNS[0][:4]])
    rests: list[float] = []
    assert group_new_items(engine, rest=rests.append).grouped == 4
    assert len(rests) == 4 and all(r > 0 for r in rests)
    assert group_new_items(engine, rest=rests.append).grouped == 0
    assert len(rests) == 4

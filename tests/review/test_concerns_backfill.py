"""`yijian tagger concerns --backfill`: items stored before concerns were kept get theirs,
in batches, once."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.models import SubmissionConcern
from tests.conftest import run_cli, server_env
from tests.factories import insert_submissions
from tests.review.test_concerns import LETTER


def stored(engine: Engine) -> list[tuple[int, int, int, float | None, str | None]]:
    with Session(engine) as s:
        rows = s.exec(
            select(SubmissionConcern).order_by(
                col(SubmissionConcern.submission_id), col(SubmissionConcern.rank)
            )
        ).all()
        return [(r.submission_id, r.check, r.rank, r.share, r.sentences) for r in rows]


def test_backfill_fills_older_items_once(database_url: str, engine: Engine, demo: None) -> None:
    tagged, corrected, untagged, short = insert_submissions(
        engine,
        rows=[
            {"text": LETTER, "check": 5, "tagger": "ngram:old"},
            # An admin's check stays primary whatever the tagger reads now.
            {"text": LETTER, "check": 2, "tagger": "admin"},
            {"text": LETTER},
            {"text": "食堂饭菜太贵", "check": 5, "tagger": "ngram:old"},
        ],
    )
    env = server_env(database_url)
    count = run_cli(env, "tagger", "concerns")
    assert count.returncode == 0, count.stderr
    assert "3 条意见还没有兼涉信息" in count.stdout
    first = run_cli(env, "tagger", "concerns", "--backfill", "--batch", "2")
    assert first.returncode == 0, first.stderr
    assert "已补全 3 条" in first.stdout
    rows = stored(engine)
    by_item: dict[int, list[int]] = {}
    for sid, check, _, _, _ in rows:
        by_item.setdefault(sid, []).append(check)
    assert set(by_item) == {tagged, corrected, short}  # the untagged item waits for its tag
    assert by_item[tagged][0] == 5 and len(by_item[tagged]) >= 2
    assert by_item[corrected][0] == 2 and set(by_item[tagged]) <= set(by_item[corrected])
    assert by_item[short] == [5]
    again = run_cli(env, "tagger", "concerns", "--backfill")
    assert again.returncode == 0 and "已补全 0 条" in again.stdout
    assert stored(engine) == rows
    assert untagged not in by_item

"""Tagging as the app uses it: on every stored submission, the API, the CLI, retraining."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.campaign.service import get_intake_state
from app.core.errors import Closed, Conflict
from app.intake.service import NewSubmission, store_submissions
from app.models import Submission, TaggerModel
from app.tagging.corrections import correct_tag
from tests.conftest import TEST_SECRET, run_cli, server_env
from tests.factories import add_submission, new_submission, post_form


def test_submissions_are_tagged_when_stored(
    client: TestClient, demo: None, session: Session
) -> None:
    post_form(client, text="有老师周末在家里办收费补习班，要求学生必须参加。")
    client.post("/api/v1/units/demo/submissions", json={"text": "谢谢学校！"})
    rows = session.exec(select(Submission).order_by(Submission.id)).all()  # type: ignore[arg-type]
    assert [r.check for r in rows] == [4, 0]
    assert rows[0].tagger is not None and rows[0].tagger.startswith("ngram:")
    assert rows[0].check_score is not None and 0 < rows[0].check_score <= 1
    assert json.loads(rows[0].check_evidence or "[]")


def test_one_batch_with_a_repeated_key_stores_one(
    database_url: str, engine: Engine, demo: None, session: Session
) -> None:
    state = get_intake_state(session, slug="demo")
    new = new_submission(text="建议增加校车", idempotency_key="k" * 12)
    closed = new_submission(text="建议增加校车")
    shut = state.__class__(**{**state.__dict__, "open_channels": frozenset()})
    results = store_submissions(
        session, secret=TEST_SECRET, items=[(new, state), (new, state), (closed, shut)]
    )
    session.commit()
    assert results[0].receipt == results[1].receipt  # type: ignore[union-attr]
    assert results[1].replayed  # type: ignore[union-attr]
    assert isinstance(results[2], Closed)
    assert len(session.exec(select(Submission)).all()) == 1


def test_a_key_stored_before_replays_in_a_later_batch(
    database_url: str, engine: Engine, demo: None, session: Session
) -> None:
    state = get_intake_state(session, slug="demo")

    def new(text: str, key: str) -> NewSubmission:
        return new_submission(text=text, idempotency_key=key)

    first = store_submissions(
        session, secret=TEST_SECRET, items=[(new("建议增加校车", "a" * 12), state)]
    )
    session.commit()
    later = store_submissions(
        session,
        secret=TEST_SECRET,
        items=[
            (new("建议增加校车", "a" * 12), state),  # stored before: replay
            (new("建议增加校车", "a" * 12), state),  # and again in the same batch
            (new("别的内容", "a" * 12), state),  # same key, other text: refused
            (new("食堂饭菜太咸", "b" * 12), state),  # new
        ],
    )
    session.commit()
    receipt = first[0].receipt  # type: ignore[union-attr]
    assert [getattr(r, "receipt", None) for r in later[:2]] == [receipt, receipt]
    assert all(r.replayed for r in later[:2])  # type: ignore[union-attr]
    assert isinstance(later[2], Conflict)
    assert not later[3].replayed  # type: ignore[union-attr]
    texts = sorted(s.text for s in session.exec(select(Submission)).all())
    assert texts == sorted(["建议增加校车", "食堂饭菜太咸"])


def test_tag_api(client: TestClient) -> None:
    r = client.post("/api/v1/tag", json={"id": "a1", "text": "校车太挤，接送时间不合理"})
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == "a1" and body["check"] == 5
    assert set(body["scores"]) == {"0", "1", "2", "3", "4", "5"} and body["evidence"]
    assert client.post("/api/v1/tag", json={"text": "x" * 20001}).status_code == 422
    assert client.post("/api/v1/tag", content=b"nope").status_code == 422


def test_tag_cli(database_url: str) -> None:
    lines = "\n".join(
        [
            json.dumps({"id": 1, "text": "食堂饭菜太贵"}),
            "not json",
            json.dumps({"id": 3, "text": ""}),
            json.dumps({"id": 4, "text": "你好"}),
        ]
    )
    out = run_cli(server_env(database_url), "tag", stdin=lines)
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    assert [r.get("id") for r in rows] == [1, None, 3, 4]
    assert rows[0]["check"] == 5 and "error" in rows[1] and "error" in rows[2]
    assert rows[3]["check"] == 0


def test_retrain_learns_admin_corrections(
    database_url: str, engine: Engine, demo: None, session: Session
) -> None:
    text = "希望学校多组织老师去先进学校跟岗学习"
    env = server_env(database_url)
    before = run_cli(env, "tag", stdin=json.dumps({"text": text}))
    old = json.loads(before.stdout)["check"]
    new_check = 3 if old != 3 else 2
    for _ in range(3):  # corrections repeated by several admins weigh in training
        item = session.get(Submission, add_submission(session, new=new_submission(text=text)))
        assert item is not None
        correct_tag(session, submission=item, check=new_check, actor_id=None)
    session.commit()
    done = run_cli(env, "tagger", "retrain")
    assert done.returncode == 0 and "3 条人工更正" in done.stdout, done.stderr
    assert session.exec(select(TaggerModel.file_name)).all()  # in the database
    after = run_cli(env, "tag", stdin=json.dumps({"text": text}))
    assert json.loads(after.stdout)["check"] == new_check

"""Public evaluation without a trail to the person: a rating keeps no link to its code (codes
are printed, and often handed out, in order), and typed codes are guesses like receipts."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, col, select

from app.campaign import evaluation
from app.cli import alembic_config
from app.core.db import make_engine, session_scope
from app.main import create_app
from app.models import Evaluation, EvaluationCode, Rating
from app.units.service import ensure_demo
from tests.campaign.test_evaluation import setup_unit, votes
from tests.conftest import TEST_SECRET, fresh_database_url, make_settings


def test_a_rating_cannot_be_traced_to_its_code(engine: Engine, demo: None) -> None:
    uid, ids, codes = setup_unit(engine, count=3)
    with session_scope(engine) as s:
        evaluation.submit_evaluation(
            s,
            secret=TEST_SECRET,
            unit_id=uid,
            code=codes[1],  # the second sheet of the pile
            votes=votes(ids, Rating.unsatisfied),
            evaluation_open=True,
        )
    referred = {fk["referred_table"] for fk in inspect(engine).get_foreign_keys("evaluation")}
    assert referred == {"measure"}
    with Session(engine) as s:
        rows = s.exec(select(EvaluationCode).order_by(col(EvaluationCode.id))).all()
        ratings = s.exec(select(Evaluation)).all()
        results = evaluation.evaluation_results(s, unit_ids=[uid])
    # The used code differs from its unused neighbours in the flag alone: no time of use.
    differing = {
        name
        for name in EvaluationCode.model_fields
        if name not in {"id", "code_hash"}
        and getattr(rows[1], name) != getattr(rows[0], name) == getattr(rows[2], name)
    }
    assert differing == {"used"} and [r.used for r in rows] == [False, True, False]
    # A rating's time is kept to the minute, like an anonymous submission's.
    assert all(r.created_at.second == 0 and r.created_at.microsecond == 0 for r in ratings)
    assert results[0].used == 1  # still once per code


def test_typed_codes_are_rate_limited(
    database_url: str, engine: Engine, demo: None
) -> None:
    app = create_app(make_settings(database_url, receipt_lookup_limit="3/min"))
    with TestClient(app) as c:
        guesses = [c.get(f"/u/demo/evaluate?code={n:016d}") for n in range(4)]
        assert [r.status_code for r in guesses[:3]] != [429] * 3
        assert guesses[3].status_code == 429 and "查询太频繁" in guesses[3].text
        # The page itself, without a code, is not a guess.
        assert c.get("/u/demo/evaluate").status_code == 200


def _insert(conn: object, sql: str, **values: object) -> None:
    conn.execute(text(sql), values)  # type: ignore[attr-defined]


def test_the_migration_keeps_which_codes_were_used(database_url: str, tmp_path: Path) -> None:
    url = fresh_database_url(tmp_path)
    config = alembic_config(url)
    command.upgrade(config, "0009")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            at = {"t": "2026-12-01 08:00:00"}
            _insert(
                conn, "INSERT INTO bureau (id, name, created_at) VALUES (1, '教育局', :t)", **at
            )
            _insert(
                conn,
                "INSERT INTO unit (id, bureau_id, slug, name, created_at)"
                " VALUES (1, 1, 'demo', '示范县实验小学', :t)",
                **at,
            )
            for n, used_at in enumerate([None, "2026-12-02 09:13:27.123456", None], start=1):
                _insert(
                    conn,
                    "INSERT INTO evaluation_code (id, unit_id, code_hash, created_at, used_at)"
                    " VALUES (:n, 1, :h, :t, :u)",
                    n=n,
                    h=f"hash{n}",
                    t="2026-12-01 08:00:00",
                    u=used_at,
                )
        command.upgrade(config, "0010")
        with engine.connect() as conn:
            used = conn.execute(text("SELECT id, used FROM evaluation_code ORDER BY id")).all()
        assert [(i, bool(u)) for i, u in used] == [(1, False), (2, True), (3, False)]
        command.downgrade(config, "0009")
        command.upgrade(config, "head")
    finally:
        engine.dispose()


def test_downgrading_refuses_to_invent_links(database_url: str, tmp_path: Path) -> None:
    url = fresh_database_url(tmp_path)
    command.upgrade(alembic_config(url), "head")
    other = make_engine(url)
    try:
        with session_scope(other) as s:
            ensure_demo(s)
        uid, ids, codes = setup_unit(other, count=1)
        with session_scope(other) as s:
            evaluation.submit_evaluation(
                s,
                secret=TEST_SECRET,
                unit_id=uid,
                code=codes[0],
                votes=votes(ids),
                evaluation_open=True,
            )
        with pytest.raises(RuntimeError, match="cannot be downgraded"):
            command.downgrade(alembic_config(url), "0009")
    finally:
        other.dispose()

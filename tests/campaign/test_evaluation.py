"""One-time evaluation codes: stored hashed, used once, never twice even at the same moment."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.campaign import evaluation
from app.core.db import make_engine, session_scope
from app.core.errors import Closed, Conflict, Invalid, NotFound, UserError
from app.models import Evaluation, EvaluationCode, Rating, utcnow
from tests.conftest import TEST_SECRET
from tests.factories import add_measure, unit_id


def setup_unit(engine: Engine, count: int = 3) -> tuple[int, list[int], list[str]]:
    with session_scope(engine) as s:
        uid = unit_id(s)
        titles = ("食堂公示菜谱", "延长图书馆开放时间")
        ids = [add_measure(s, unit_id=uid, title=title) for title in titles]
        codes = evaluation.create_codes(s, secret=TEST_SECRET, unit_id=uid, count=count)
        return uid, ids, codes


def votes(ids: list[int], rating: Rating = Rating.satisfied) -> dict[int, evaluation.Vote]:
    return {mid: evaluation.Vote(rating, None) for mid in ids}


def test_codes_are_random_and_stored_hashed(engine: Engine, demo: None) -> None:
    _uid, _ids, codes = setup_unit(engine, count=50)
    assert len(set(codes)) == 50
    assert all(re.fullmatch("[A-Z2-7]{16}", c) for c in codes)
    with Session(engine) as s:
        stored = {r.code_hash for r in s.exec(select(EvaluationCode))}
    assert len(stored) == 50 and not set(codes) & stored
    assert evaluation.hash_code(secret=TEST_SECRET, code=codes[0]) in stored
    # Typed with spaces, dashes or in lower case, it is the same code.
    grouped = "-".join(codes[0][i : i + 4] for i in range(0, 16, 4)).lower()
    assert evaluation.normalise_code(grouped) == codes[0]
    for bad in ("", "ABC", "0" * 16, codes[0] + "A"):
        with pytest.raises(Invalid):
            evaluation.normalise_code(bad)
    with Session(engine) as s, pytest.raises(Invalid):
        evaluation.create_codes(s, secret=TEST_SECRET, unit_id=1, count=0)


def test_a_code_rates_every_measure_once(engine: Engine, demo: None) -> None:
    uid, ids, codes = setup_unit(engine)
    form = {f"rating_{ids[0]}": "satisfied", f"rating_{ids[1]}": "unsatisfied"}
    form[f"comment_{ids[1]}"] = "  还没看到变化  "
    parsed = evaluation.validate_votes(measure_ids=ids, form=form)
    assert parsed[ids[1]] == evaluation.Vote(Rating.unsatisfied, "还没看到变化")
    with pytest.raises(Invalid, match="第2项"):
        evaluation.validate_votes(measure_ids=ids, form={f"rating_{ids[0]}": "satisfied"})
    with session_scope(engine) as s:
        with pytest.raises(Closed):
            evaluation.submit_evaluation(
                s,
                secret=TEST_SECRET,
                unit_id=uid,
                code=codes[0],
                votes=parsed,
                evaluation_open=False,
            )
        n = evaluation.submit_evaluation(
            s, secret=TEST_SECRET, unit_id=uid, code=codes[0], votes=parsed, evaluation_open=True
        )
        assert n == 2
    with Session(engine) as s:
        with pytest.raises(Conflict, match="已经使用过"):
            evaluation.check_code(s, secret=TEST_SECRET, unit_id=uid, code=codes[0])
        with pytest.raises(Conflict, match="已经使用过"):
            evaluation.submit_evaluation(
                s,
                secret=TEST_SECRET,
                unit_id=uid,
                code=codes[0],
                votes=parsed,
                evaluation_open=True,
            )
        s.rollback()
        with pytest.raises(NotFound):
            evaluation.check_code(s, secret=TEST_SECRET, unit_id=uid, code="A" * 16)
        with pytest.raises(NotFound):
            evaluation.check_code(s, secret=TEST_SECRET, unit_id=uid + 1, code=codes[1])
        # A vote list that no longer matches the measures is refused, and the code stays unused.
        with pytest.raises(Invalid, match="刷新"):
            evaluation.submit_evaluation(
                s,
                secret=TEST_SECRET,
                unit_id=uid,
                code=codes[1],
                votes=votes(ids[:1]),
                evaluation_open=True,
            )
        s.rollback()
        evaluation.check_code(s, secret=TEST_SECRET, unit_id=uid, code=codes[1])
        assert len(s.exec(select(Evaluation)).all()) == 2


def test_results_per_measure_and_unit(engine: Engine, demo: None) -> None:
    uid, ids, codes = setup_unit(engine, count=4)
    with session_scope(engine) as s:
        for code, rating in zip(
            codes[:3], [Rating.satisfied, Rating.basic, Rating.unsatisfied], strict=True
        ):
            evaluation.submit_evaluation(
                s,
                secret=TEST_SECRET,
                unit_id=uid,
                code=code,
                votes=votes(ids, rating),
                evaluation_open=True,
            )
    with Session(engine) as s:
        demo2 = unit_id(s, slug="demo2")
        first, second = evaluation.evaluation_results(s, unit_ids=[uid, demo2])
        assert (first.unit_name, second.unit_name) == ("示范县实验小学", "示范县第一初级中学")
        assert (first.codes, first.used, first.total, first.measures) == (0, 0, 0, [])
        assert (second.codes, second.used, second.total) == (4, 3, 6)
        assert [m.title for m in second.measures] == ["食堂公示菜谱", "延长图书馆开放时间"]
        one = second.measures[0]
        assert one.counts == {Rating.satisfied: 1, Rating.basic: 1, Rating.unsatisfied: 1}
        assert one.satisfaction == pytest.approx(2 / 3)
        now = utcnow()
        [past] = evaluation.evaluation_results(
            s, unit_ids=[uid], period=(now - timedelta(days=30), now - timedelta(days=1))
        )
        assert past.total == 0 and past.satisfaction is None and past.codes == 4


def write_engine(url: str) -> Engine:
    # The app's writes go through an IMMEDIATE-transaction engine on SQLite (see create_app).
    return make_engine(url, immediate=url.startswith("sqlite"))


def test_concurrent_double_use_is_refused(database_url: str, engine: Engine, demo: None) -> None:
    uid, ids, codes = setup_unit(engine)
    writer = write_engine(database_url)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def use() -> None:
        with Session(writer) as s:
            barrier.wait()
            try:
                evaluation.submit_evaluation(
                    s,
                    secret=TEST_SECRET,
                    unit_id=uid,
                    code=codes[0],
                    votes=votes(ids),
                    evaluation_open=True,
                )
                s.commit()
                outcomes.append("ok")
            except UserError as exc:
                s.rollback()
                outcomes.append(exc)

    for _round in range(3):
        threads = [threading.Thread(target=use) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes.pop(0)
        barrier.reset()
    writer.dispose()
    assert sum(1 for o in outcomes if o == "ok") == 3
    refused = [o for o in outcomes if o != "ok"]
    assert len(refused) == 3 and all(isinstance(o, Conflict) for o in refused)
    with Session(engine) as s:
        assert len(s.exec(select(Evaluation)).all()) == 3 * len(ids)

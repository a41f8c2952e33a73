"""Campaign pages through the app: public board, evaluation, idea links; admin pages."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.db import session_scope
from app.models import Evaluation, RosterSubmission, Submission, Unit
from app.services import evaluation, measures, offline, roster
from app.services.campaigns import EVALUATION, set_override, today_local
from app.services.submissions import SubmissionInput
from tests.conftest import TEST_SECRET
from tests.helpers import RECEIPT_RE, form_key, soup


def seed_measure(engine: Engine) -> tuple[int, int, list[str]]:
    with session_scope(engine) as s:
        unit = s.exec(select(Unit).where(Unit.slug == "demo")).one()
        assert unit.id is not None
        letter = offline.enter_letter(
            s,
            secret=TEST_SECRET,
            slug="demo",
            data=SubmissionInput(
                text="希望食堂公开每周菜谱和价格。",
                role="家长",
                anonymous=False,
                name="周女士",
                contact="13912345678",
            ),
            received_on=today_local(),
        )
        data = measures.validate_measure(
            title="食堂每周公示菜谱",
            description="每周五公布下周菜谱。",
            owner="后勤处",
            deadline="",
            progress="60",
            status="doing",
            check="5",
        )
        m = measures.create_measure(s, unit_id=unit.id, data=data, submission_ids=[letter.id])
        codes = evaluation.create_codes(s, secret=TEST_SECRET, unit_id=unit.id, count=2)
        assert m.id is not None
        return unit.id, m.id, codes


def test_board_shows_measures_without_identities(
    client: TestClient, engine: Engine, demo: None
) -> None:
    seed_measure(engine)
    r = client.get("/u/demo/board")
    assert r.status_code == 200
    page = soup(r.text)
    assert "食堂每周公示菜谱" in page.text and "60%" in page.text
    assert "希望食堂公开每周菜谱和价格。" in page.text
    assert "周女士" not in r.text and "13912345678" not in r.text and "家长" not in page.text
    assert "查找差距·征求意见" in page.text
    assert client.get("/u/nowhere/board").status_code == 404


def test_evaluation_flow_and_reuse(client: TestClient, engine: Engine, demo: None) -> None:
    uid, mid, codes = seed_measure(engine)
    closed = client.get(f"/u/demo/evaluate?code={codes[0]}")
    assert closed.status_code == 200 and soup(closed.text).find(id="eval-closed")
    with session_scope(engine) as s:
        set_override(s, unit_id=uid, channel=EVALUATION, is_open=True)
    bad = client.get("/u/demo/evaluate?code=AAAA-AAAA-AAAA-AAAA")
    assert bad.status_code == 404 and "没有这个评议码" in bad.text
    page = client.get(f"/u/demo/evaluate?code={codes[0].lower()}")
    assert page.status_code == 200
    form = soup(page.text).find("form", id="evaluate")
    assert form is not None and form.find("input", {"name": "code"})["value"] == codes[0]
    missing = client.post("/u/demo/evaluate", data={"code": codes[0]})
    assert missing.status_code == 422 and "请对第1项措施作出评价" in missing.text
    done = client.post(
        "/u/demo/evaluate",
        data={"code": codes[0], f"rating_{mid}": "basic", f"comment_{mid}": "菜价偏高"},
    )
    assert done.status_code == 200 and soup(done.text).find(id="evaluated")
    again = client.post("/u/demo/evaluate", data={"code": codes[0], f"rating_{mid}": "satisfied"})
    assert again.status_code == 409 and "已经使用过" in again.text
    with Session(engine) as s:
        [row] = s.exec(select(Evaluation)).all()
        assert (row.rating, row.comment) == ("basic", "菜价偏高")


def test_idea_link_stores_a_named_idea(client: TestClient, engine: Engine, demo: None) -> None:
    with session_scope(engine) as s:
        unit = s.exec(select(Unit).where(Unit.slug == "demo")).one()
        assert unit.id is not None
        [person] = roster.add_people(
            s, unit_id=unit.id, rows=[("吴主任", "教科室主任", None)], secret=TEST_SECRET
        )
        url = roster.idea_url(base_url="", secret=TEST_SECRET, person=person)
    assert client.get("/idea/" + "b" * 26).status_code == 404
    page = client.get(url)
    assert page.status_code == 200 and "吴主任" in page.text
    key = form_key(page.text)
    empty = client.post(url, data={"text": "  ", "key": key})
    assert empty.status_code == 422 and "请填写" in empty.text
    ok = client.post(url, data={"text": "建议组建学科教研共同体。", "key": key})
    assert ok.status_code == 200
    receipt = soup(ok.text).find(id="receipt")
    assert receipt is not None and RECEIPT_RE.match(receipt.get_text(strip=True))
    # The same key again (a double tap) stores nothing new.
    assert (
        client.post(url, data={"text": "建议组建学科教研共同体。", "key": key}).status_code == 200
    )
    with Session(engine) as s:
        [sub] = s.exec(select(Submission)).all()
        assert (sub.kind, sub.name, sub.role, sub.anonymous) == ("idea", "吴主任", "教职工", False)
        assert len(s.exec(select(RosterSubmission)).all()) == 1

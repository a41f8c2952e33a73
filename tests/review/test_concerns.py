"""Concerns (兼涉): a letter about two problems is stored with both, found by the secondary
filter within the admin's scope, highlighted on the item page, reordered by a correction."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from app.core.db import session_scope
from app.intake.service import store_submission
from app.models import CHECK_NAMES, AdminRole, Submission, SubmissionConcern
from app.tagging import load_tagger
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, add_admin, new_submission, post_form
from tests.helpers import login, soup

# Fees (工作纪律) and the canteen (服务社会): two problems in one letter.
LETTER = (
    "尊敬的领导：我是初二学生家长。"
    "学校每学期额外收取资料费三百元，还不开收据，这是乱收费。"
    "食堂的饭菜又贵又难吃，孩子经常吃不饱，希望改善伙食。"
)


def concerns_of(engine: Engine, submission_id: int) -> list[SubmissionConcern]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(SubmissionConcern)
                .where(col(SubmissionConcern.submission_id) == submission_id)
                .order_by(col(SubmissionConcern.rank))
            ).all()
        )


def submit_letter(client: TestClient, engine: Engine, *, slug: str = "demo") -> Submission:
    assert post_form(client, text=LETTER, slug=slug).status_code == 200
    with Session(engine) as s:
        sub = s.exec(select(Submission).order_by(col(Submission.id).desc())).first()
    assert sub is not None
    return sub


def queue_ids(client: TestClient, query: str) -> list[int]:
    page = client.get(f"/admin?{query}")
    assert page.status_code == 200, page.text
    return [int(li["data-id"]) for li in soup(page.text).select("#queue li.item")]


def test_a_letter_about_two_problems_keeps_both(
    client: TestClient, chief: str, engine: Engine
) -> None:
    sub = submit_letter(client, engine)
    rows = concerns_of(engine, sub.id or 0)
    assert len(rows) >= 2
    assert rows[0].check == sub.check and [r.rank for r in rows] == list(range(len(rows)))
    assert {4, 5} <= {r.check for r in rows}
    for row in rows[1:]:
        sentences = json.loads(row.sentences or "[]")
        assert sentences and all(q in LETTER for q in sentences)
        assert row.share is not None and 0 < row.share <= 1


def test_the_secondary_filter_finds_it_and_shows_chips(
    client: TestClient, chief: str, engine: Engine
) -> None:
    sub = submit_letter(client, engine)
    assert post_form(client, text="建议学校多组织春游活动。").status_code == 200
    primary, secondary = (r.check for r in concerns_of(engine, sub.id or 0)[:2])
    assert queue_ids(client, f"also={secondary}") == [sub.id]
    # The primary check is not a secondary one, and the filters combine.
    assert queue_ids(client, f"also={primary}") == []
    assert queue_ids(client, f"also={secondary}&check={primary}") == [sub.id]
    other = next(c for c in range(1, 6) if c not in (primary, secondary))
    assert queue_ids(client, f"also={secondary}&check={other}") == []
    assert queue_ids(client, f"also={secondary}&unit=demo2") == []
    page = soup(client.get(f"/admin?also={secondary}").text)
    assert f"兼涉：{CHECK_NAMES[secondary]}" in page.select_one("#also-filter").text
    chips = page.select(f'#queue li[data-id="{sub.id}"] a.also-link')
    assert chips and chips[0].text == f"兼涉：{CHECK_NAMES[secondary]}"
    chosen = page.select_one("#also-select option[selected]")
    assert chosen is not None and chosen["value"] == str(secondary)


def test_bad_secondary_filter_is_a_clear_400(client: TestClient, chief: str) -> None:
    for bad in ("0", "9", "x"):
        page = client.get(f"/admin?also={bad}")
        assert page.status_code == 422 and "兼涉类别只能是 1 到 5" in page.text


def test_the_secondary_filter_keeps_to_the_admins_scope(
    client: TestClient, demo: None, engine: Engine
) -> None:
    add_admin(engine, username="other", role=AdminRole.unit_admin, unit_slug="demo2")
    add_admin(engine, username="head", role=AdminRole.unit_admin, unit_slug="demo")
    sub = submit_letter(client, engine)
    with session_scope(engine) as s:
        new = new_submission(text=LETTER)
        new.to_bureau = True
        bureau_item = store_submission(
            s, secret=TEST_SECRET, new=new, tagger=load_tagger("ngram")
        ).id
    secondary = concerns_of(engine, sub.id or 0)[1].check
    assert concerns_of(engine, bureau_item)[1].check == secondary
    login(client, "other", PASSWORD)
    assert queue_ids(client, f"also={secondary}") == []
    client.cookies.clear()
    login(client, "head", PASSWORD)
    assert queue_ids(client, f"also={secondary}") == [sub.id]
    client.cookies.clear()
    add_admin(engine, username="chief")
    login(client, "chief", PASSWORD)
    assert queue_ids(client, f"also={secondary}") == [bureau_item, sub.id]


def test_the_item_page_marks_each_concerns_sentences(
    client: TestClient, chief: str, engine: Engine
) -> None:
    sub = submit_letter(client, engine)
    rows = concerns_of(engine, sub.id or 0)
    page = soup(client.get(f"/admin/items/{sub.id}").text)
    text = page.select_one("#text")
    assert text.get_text() == LETTER  # the letter itself is unchanged around the marks
    marked = {(int(m["data-check"]), m.get_text()) for m in text.select("mark.concern")}
    stored = {(r.check, q) for r in rows for q in json.loads(r.sentences or "[]")}
    assert marked == stored and len({c for c, _ in marked}) >= 2
    for mark in text.select("mark.concern"):
        check = int(mark["data-check"])
        # Not colour alone: the check's name goes with the mark and in the class.
        assert mark["data-name"] == mark["title"] == CHECK_NAMES[check]
        assert f"k{check}" in mark["class"]
    items = page.select("#concerns li")
    assert [int(li["data-check"]) for li in items] == [r.check for r in rows]
    assert [li.select_one(".concern-rank").text for li in items] == ["主要"] + ["兼涉"] * (
        len(rows) - 1
    )
    assert items[0].select_one(".check").text == CHECK_NAMES[rows[0].check]


def test_an_item_without_concerns_shows_its_single_check(
    client: TestClient, chief: str, engine: Engine
) -> None:
    sub = submit_letter(client, engine)
    with session_scope(engine) as s:
        s.execute(SubmissionConcern.__table__.delete())  # type: ignore[attr-defined]
    page = soup(client.get(f"/admin/items/{sub.id}").text)
    assert page.select_one("#concerns") is None and not page.select("#text mark")
    assert page.select_one("#text").get_text() == LETTER
    assert page.select_one("#check .check").text == CHECK_NAMES[sub.check or 0]


def test_a_correction_makes_the_admins_check_primary(
    client: TestClient, chief: str, engine: Engine
) -> None:
    sub = submit_letter(client, engine)
    first, second = (r.check for r in concerns_of(engine, sub.id or 0)[:2])
    r = client.post(f"/admin/items/{sub.id}/retag", data={"csrf": chief, "check": str(second)})
    assert r.status_code == 200
    after = concerns_of(engine, sub.id or 0)
    # The corrected check leads; the old primary, which the tagger quoted sentences for, stays.
    assert [c.check for c in after][:2] == [second, first]
    assert [c.rank for c in after] == list(range(len(after)))
    assert queue_ids(client, f"also={first}") == [sub.id]
    assert queue_ids(client, f"also={second}") == []
    # A check the letter was not seen to speak to: it leads with no share; the rest stay.
    third = next(c for c in range(1, 6) if c not in {x.check for x in after})
    client.post(f"/admin/items/{sub.id}/retag", data={"csrf": chief, "check": str(third)})
    again = concerns_of(engine, sub.id or 0)
    assert again[0].check == third and again[0].share is None
    assert [c.check for c in again[1:]] == [c.check for c in after]


def test_a_correction_drops_a_primary_the_tagger_quoted_nothing_for(
    client: TestClient, chief: str, engine: Engine
) -> None:
    assert post_form(client, text="食堂饭菜太贵").status_code == 200
    with Session(engine) as s:
        sid = s.exec(select(func.max(Submission.id))).one()
    before = concerns_of(engine, sid)
    assert len(before) == 1 and json.loads(before[0].sentences or "[]") == []
    new = next(c for c in range(1, 6) if c != before[0].check)
    client.post(f"/admin/items/{sid}/retag", data={"csrf": chief, "check": str(new)})
    assert [(c.check, c.rank) for c in concerns_of(engine, sid)] == [(new, 0)]


def test_a_masked_copy_marks_only_what_it_shows_unchanged(
    client: TestClient, demo: None, engine: Engine
) -> None:
    # The bureau forwards its item masked: the school must not read a quoted original
    # sentence, so only sentences standing unchanged in the masked copy are marked.
    add_admin(engine, username="head", role=AdminRole.unit_admin, unit_slug="demo")
    with session_scope(engine) as s:
        new = new_submission(text=LETTER)
        new.to_bureau = True
        sid = store_submission(s, secret=TEST_SECRET, new=new, tagger=load_tagger("ngram")).id
    rows = concerns_of(engine, sid)
    hidden = json.loads(rows[1].sentences or "[]")[0]
    masked = LETTER.replace(hidden, "〔已遮盖〕")
    with session_scope(engine) as s:
        item = s.get(Submission, sid)
        assert item is not None
        item.masked_text = masked
        s.add(item)
    login(client, "head", PASSWORD)
    page = client.get(f"/admin/items/{sid}")
    assert page.status_code == 200 and hidden not in page.text
    text = soup(page.text).select_one("#text")
    assert text.get_text() == masked
    shown = {m.get_text() for m in text.select("mark.concern")}
    assert shown and all(q in masked for q in shown)

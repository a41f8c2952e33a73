"""Flagging at intake on every channel, the queue's top, and clearing a false alarm."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from app.alerts import detect
from app.alerts.service import MODELS, flag_new_items, retrain_model, scan_urgent
from app.core.db import session_scope
from app.models import AdminRole, AuditLog, Channel, Submission, UrgentFlag
from tests.factories import PASSWORD, add_admin, add_submission, new_submission, post_form
from tests.helpers import login, signed_in_admin, soup

URGENT = "班主任因为孩子作业没写完，扇了他两个耳光，孩子不敢上学了。"
ORDINARY = "希望学校食堂多做几个素菜，价格也可以再便宜一点。"
SIMILAR = "老师叫女学生晚上陪他，说是补课。"  # no lexicon term: the learned part decides


def flag_of(engine: Engine, sid: int) -> UrgentFlag | None:
    with Session(engine) as s:
        return s.exec(select(UrgentFlag).where(UrgentFlag.submission_id == sid)).first()


def queue_rows(client: TestClient) -> list[tuple[int, str | None]]:
    page = soup(client.get("/admin").text)
    return [
        (int(str(li["data-id"])), (f.get_text() if (f := li.select_one(".urgent-flag")) else None))
        for li in page.select("#queue li.item")
    ]


def test_every_channel_flags_at_intake(engine: Engine, demo: None) -> None:
    with session_scope(engine) as s:
        ids = {
            channel: add_submission(s, new=new_submission(text=URGENT, channel=channel))
            for channel in Channel
        }
        plain = add_submission(s, new=new_submission(text=ORDINARY))
    for sid in ids.values():
        flag = flag_of(engine, sid)
        assert flag is not None and json.loads(flag.categories) == ["corporal"]
        assert "耳光" in json.loads(flag.evidence) and not flag.cleared
        assert flag.created_at.second == 0 and flag.created_at.microsecond == 0
    assert flag_of(engine, plain) is None


def test_urgent_items_stand_on_top_of_the_queue_marked(
    client: TestClient, engine: Engine, demo: None
) -> None:
    signed_in_admin(client, engine)
    assert post_form(client, text=URGENT).status_code == 200
    for i in range(3):
        assert post_form(client, text=f"{ORDINARY}（{i}）").status_code == 200
    rows = queue_rows(client)
    assert len(rows) == 4
    assert rows[0][1] is not None and "紧急" in rows[0][1] and "体罚/打骂学生" in rows[0][1]
    assert all(label is None for _, label in rows[1:])
    # The old order and the filters still hold: oldest first puts the urgent one on top too,
    # and a filter that leaves it out leaves it out.
    old = soup(client.get("/admin?sort=old").text).select("#queue li.item")
    assert old[0].select_one(".urgent-flag") is not None
    searched = soup(client.get("/admin", params={"q": "素菜"}).text).select("#queue li.item")
    assert len(searched) == 3 and not any(li.select_one(".urgent-flag") for li in searched)
    # Once closed (or answered) it takes its place in the order again: the oldest, last.
    with session_scope(engine) as s:
        s.execute(
            update(Submission).where(col(Submission.id) == rows[0][0]).values(status="closed")
        )
    after = queue_rows(client)
    assert after[-1][0] == rows[0][0] and all(label is None for _, label in after)


def test_an_admin_clears_a_false_alarm_with_a_reason(
    client: TestClient, engine: Engine, demo: None
) -> None:
    csrf = signed_in_admin(client, engine)
    text = "孩子说体育课上罚站一节课太累了，能不能改成跑步。"
    post_form(client, text=text)
    post_form(client, text=ORDINARY)
    sid = queue_rows(client)[0][0]
    item = soup(client.get(f"/admin/items/{sid}").text)
    assert item.select_one("#urgent .urgent-flag") is not None
    assert item.select_one("#urgent-clear-form") is not None

    refused = client.post(f"/admin/alerts/items/{sid}/clear", data={"csrf": csrf, "reason": " "})
    assert refused.status_code == 422
    assert "请写明解除紧急标记的原因" in soup(refused.text).select_one("#clear-error").get_text()

    done = client.post(
        f"/admin/alerts/items/{sid}/clear",
        data={"csrf": csrf, "reason": "家长建议，不是体罚"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    flag = flag_of(engine, sid)
    assert flag is not None and flag.cleared and flag.cleared_reason == "家长建议，不是体罚"
    rows = queue_rows(client)
    assert all(label is None for _, label in rows)
    assert [r for r, _ in rows] == sorted((r for r, _ in rows), reverse=True)
    cleared_page = soup(client.get(f"/admin/items/{sid}").text)
    assert "已解除紧急标记" in cleared_page.select_one("#urgent").get_text()
    with Session(engine) as s:
        audit = s.exec(select(AuditLog).where(AuditLog.action == "urgent_cleared")).one()
    assert audit.submission_id == sid and "家长建议" in audit.detail
    again = client.post(f"/admin/alerts/items/{sid}/clear", data={"csrf": csrf, "reason": "x"})
    assert again.status_code == 422


def test_a_cleared_false_alarm_trains_the_learned_part(engine: Engine, demo: None) -> None:
    # Flagged by the learned part only (no lexicon term); an admin says it is harmless.
    text = "那个男老师总是午休时叫女孩子陪他，说是补课。"
    assert detect.lexicon_hits(text) == {}
    with session_scope(engine) as s:
        sid = add_submission(s, new=new_submission(text=text))
    flag = flag_of(engine, sid)
    assert flag is not None and flag.source == "model"
    with session_scope(engine) as s:
        s.exec(select(UrgentFlag)).one().cleared = True
        retrain_model(s)
    MODELS.forget()
    with Session(engine) as s:  # what every write does at most every MODEL_CHECK_SECONDS
        MODELS.refresh(s)
    try:
        with session_scope(engine) as s:
            sid2 = add_submission(s, new=new_submission(text=text + "（再次反映）"))
        assert flag_of(engine, sid2) is None
        with session_scope(engine) as s:  # another sender's similar incident still is
            sid3 = add_submission(s, new=new_submission(text=SIMILAR))
        assert flag_of(engine, sid3) is not None and detect.lexicon_hits(SIMILAR) == {}
        with session_scope(engine) as s:  # the lexicon still decides what it knows
            assert (
                flag_new_items(s, items=[(sid2, hit) for hit in scan_urgent([URGENT]) if hit]) == 1
            )
    finally:
        MODELS.forget()


def test_a_reviewer_cannot_clear_an_item_not_assigned_to_them(
    client: TestClient, engine: Engine, demo: None
) -> None:
    add_admin(engine, username="rev", role=AdminRole.reviewer, unit_slug="demo")
    with session_scope(engine) as s:
        sid = add_submission(s, new=new_submission(text=URGENT))
    csrf = login(client, "rev", PASSWORD)
    resp = client.post(f"/admin/alerts/items/{sid}/clear", data={"csrf": csrf, "reason": "误报"})
    assert resp.status_code in (403, 404)
    flag = flag_of(engine, sid)
    assert flag is not None and not flag.cleared
    with Session(engine) as s:
        assert (
            s.exec(select(AuditLog).where(col(AuditLog.action) == "urgent_cleared")).first() is None
        )

"""Campaign pages through the app: public board, evaluation, idea links; admin pages."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.campaign import roster
from app.campaign.service import EVALUATION, set_override
from app.core.db import session_scope
from app.core.time import today_local
from app.intake.service import SubmissionInput
from app.main import create_app
from app.models import (
    AdminRole,
    Attachment,
    Evaluation,
    EvaluationCode,
    Measure,
    Role,
    RosterPerson,
    RosterSubmission,
    Submission,
)
from tests.conftest import TEST_SECRET
from tests.factories import (
    PASSWORD,
    add_admin,
    measure_on_board,
    two_teachers_to_remind,
    unit_id,
)
from tests.helpers import RECEIPT_RE, form_key, login, signed_in_admin, soup
from tests.servers.smtp import SmtpServer


def test_board_shows_measures_without_identities(
    client: TestClient, engine: Engine, demo: None
) -> None:
    letter = SubmissionInput(
        text="希望食堂公开每周菜谱和价格。",
        role=Role.parent.value,
        anonymous=False,
        name="周女士",
        contact="13912345678",
    )
    measure_on_board(engine, letter=letter, title="食堂每周公示菜谱", progress=60)
    r = client.get("/u/demo/board")
    assert r.status_code == 200
    page = soup(r.text)
    assert "食堂每周公示菜谱" in page.text and "60%" in page.text
    assert "希望食堂公开每周菜谱和价格。" in page.text
    assert "周女士" not in r.text and "13912345678" not in r.text and "家长" not in page.text
    assert "查找差距·征求意见" in page.text
    assert client.get("/u/nowhere/board").status_code == 404


def test_evaluation_flow_and_reuse(client: TestClient, engine: Engine, demo: None) -> None:
    uid, mid, codes = measure_on_board(engine)
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
        [person] = roster.add_people(
            s, unit_id=unit_id(s), rows=[("吴主任", "教科室主任", None)], secret=TEST_SECRET
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


def test_admin_campaign_pages(client: TestClient, engine: Engine, demo: None) -> None:
    csrf = signed_in_admin(client, engine)
    home = soup(client.get("/admin").text)
    nav = [a.get_text() for a in home.select(".admin-nav a")]
    assert {"录入", "中层献策", "整改措施", "评议", "宣传材料"} <= set(nav)
    with Session(engine) as s:
        uid = unit_id(s)
    today = today_local().isoformat()

    # 录入: a letter with a scan, then meeting minutes one per line.
    png = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(png, format="PNG")
    r = client.post(
        "/admin/entry/letter",
        data={
            "csrf": csrf,
            "unit": str(uid),
            "received_on": today,
            "role": "家长",
            "anonymous": "1",
        }
        | {"text": "校门口接送秩序混乱。", "name": "不该保存"},
        files={"scan": ("张三来信.png", png.getvalue(), "image/png")},
    )
    assert r.status_code == 200 and soup(r.text).find(id="entry-done"), r.text
    r = client.post(
        "/admin/entry/meeting",
        data={"csrf": csrf, "unit": str(uid), "held_on": today, "kind": "forum"}
        | {"attendees": "15", "role": "家长", "lines": "增加校车\n\n午休改善\n"},
    )
    assert r.status_code == 200 and "共2条" in r.text
    bad = client.post(
        "/admin/entry/meeting",
        data={"csrf": csrf, "unit": str(uid), "held_on": today, "kind": "forum", "attendees": ""},
    )
    assert bad.status_code == 422 and "参会人数" in bad.text
    with Session(engine) as s:
        subs = s.exec(select(Submission).order_by(col(Submission.id))).all()
        assert [(x.channel, x.anonymous, x.name) for x in subs] == [
            ("letter", True, None),
            ("meeting", True, None),
            ("meeting", True, None),
        ]
        [scan] = s.exec(select(Attachment)).all()
        assert scan.filename == "附件1.jpg"  # re-encoded, and no sender name kept

    # 中层献策: preview with errors, then a clean preview, confirm, export.
    bad_csv = "姓名,职务,邮箱\n,主任,\n".encode()
    r = client.post(
        "/admin/roster/preview",
        data={"csrf": csrf, "unit": str(uid)},
        files={"file": ("r.csv", bad_csv, "text/csv")},
    )
    assert r.status_code == 422 and "第2行：姓名为空" in r.text
    assert soup(r.text).find(id="roster-confirm") is None
    good = "姓名,职务,邮箱\n王老师,教务主任,wang@school.example\n".encode()
    r = client.post(
        "/admin/roster/preview",
        data={"csrf": csrf, "unit": str(uid)},
        files={"file": ("r.csv", good, "text/csv")},
    )
    assert r.status_code == 200
    import_id = soup(r.text).find("input", {"name": "import_id"})["value"]
    with Session(engine) as s:
        assert s.exec(select(RosterPerson)).all() == []
    r = client.post("/admin/roster/confirm", data={"csrf": csrf, "import_id": import_id})
    assert r.status_code == 200 and "已导入 1 人" in r.text and "王老师" in r.text
    again = client.post("/admin/roster/confirm", data={"csrf": csrf, "import_id": import_id})
    assert again.status_code == 404
    export = client.get("/admin/roster/export.csv")
    assert export.status_code == 200 and "王老师" in export.content.decode("utf-8-sig")
    assert client.get("/admin/roster/export.xlsx").content.startswith(b"PK")
    no_mail = client.post("/admin/roster/remind", data={"csrf": csrf, "unit": ""})
    assert no_mail.status_code == 422 and "YIJIAN_SMTP_HOST" in no_mail.text

    # 整改措施 from two suggestions, then progress.
    r = client.post(
        "/admin/measures",
        data={"csrf": csrf, "unit": str(uid), "title": "规范接送秩序", "progress": "20"}
        | {"status": "doing", "check": "5", "submission": [str(subs[0].id), str(subs[1].id)]},
    )
    assert r.status_code == 200 and "规范接送秩序" in r.text
    with Session(engine) as s:
        mid = s.exec(select(Measure)).one().id
    r = client.post(
        f"/admin/measures/{mid}",
        data={"csrf": csrf, "title": "规范接送秩序", "progress": "120", "status": "doing"},
    )
    assert r.status_code == 422 and "进度" in r.text
    r = client.post(
        f"/admin/measures/{mid}",
        data={"csrf": csrf, "title": "规范接送秩序", "progress": "100", "status": "done"},
    )
    assert r.status_code == 200 and "100%" in r.text
    assert "增加校车" in client.get("/u/demo/board").text

    # 评议: open evaluation by hand, print codes.
    r = client.post(
        "/admin/evaluation/override",
        data={"csrf": csrf, "unit": str(uid), "channel": "evaluation", "state": "open"},
    )
    assert r.status_code == 200 and "(手动)" in r.text
    r = client.post("/admin/evaluation/codes", data={"csrf": csrf, "unit": str(uid), "count": "3"})
    assert r.status_code == 200 and r.content.startswith(b"%PDF-")
    with Session(engine) as s:
        assert len(s.exec(select(EvaluationCode)).all()) == 3
    assert "评议码 3 个" in client.get("/admin/evaluation").text
    # 宣传材料
    assert "征求意见函" in client.get("/admin/print").text
    assert client.get("/admin/print/qr.png?unit=demo&a=parent").content.startswith(b"\x89PNG")
    assert client.get("/admin/print/qr.svg?unit=demo").text.lstrip().startswith("<")
    assert client.get("/admin/print/qr.png?unit=demo&a=boss").status_code == 422
    assert client.get("/admin/print/poster.pdf?unit=demo").content.startswith(b"%PDF-")


def test_unit_admin_sees_only_their_unit(client: TestClient, engine: Engine, demo: None) -> None:
    add_admin(engine, username="clerk", role=AdminRole.unit_admin, unit_slug="demo2")
    csrf = login(client, "clerk", PASSWORD)
    assert client.get("/admin/print/qr.png?unit=demo").status_code == 404
    r = client.post("/admin/evaluation/codes", data={"csrf": csrf, "unit": "demo", "count": "3"})
    assert r.status_code == 404
    no_csrf = client.post("/admin/measures", data={"unit": "demo2", "title": "x"})
    assert no_csrf.status_code == 403
    assert "示范县第一初级中学" not in client.get("/admin/evaluation").text


def test_reminder_button_sends_once_and_reports_a_refused_address(
    engine: Engine, demo: None, smtp_server: SmtpServer
) -> None:
    server = smtp_server
    settings, _ = two_teachers_to_remind(engine, server)
    add_admin(engine)
    server.refuse_rcpt = "sun@s.example"
    with TestClient(create_app(settings)) as client:
        csrf = login(client, "chief", PASSWORD)
        r = client.post("/admin/roster/remind", data={"csrf": csrf, "unit": "demo"})
        assert r.status_code == 502 and "已发送 1 封；1 封发送失败，下次再试。" in r.text
        server.refuse_rcpt = None
        r = client.post("/admin/roster/remind", data={"csrf": csrf, "unit": "demo"})
        assert r.status_code == 200 and "已发送提醒 1 封。" in r.text
        r = client.post("/admin/roster/remind", data={"csrf": csrf, "unit": "demo"})
        assert "已发送提醒 0 封。" in r.text
    delivered = sorted(m.rcpt_tos for m in server.messages)
    assert delivered == [["q@s.example"], ["sun@s.example"]]

"""转办 down and 退回 back: the bureau to a school with an instruction, a unit admin to a
handler; each receiver returns with a reason; timeline, audit and mails for every step."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from app.core.db import session_scope
from app.core.time import today_local
from app.main import create_app
from app.models import AdminRole, AdminUser, AuditLog, Dispatch, OutboxMail, Submission
from app.workdays.service import add_working_days
from tests.conftest import make_settings
from tests.factories import PASSWORD, add_admin, insert_submissions
from tests.helpers import login, parsed_mail, plain_text, soup

MASKED = "反映校长收受礼品，请核实。"


@pytest.fixture
def mailing_client(database_url: str, engine: Engine) -> Iterator[TestClient]:
    settings = make_settings(database_url, mail_from="yijian@bureau.test")
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def staff(demo: None, engine: Engine) -> dict[str, int]:
    ids = {
        "chief": add_admin(engine, username="chief"),
        "head": add_admin(engine, username="head", role=AdminRole.unit_admin, unit_slug="demo"),
        "teacher": add_admin(
            engine, username="teacher", role=AdminRole.reviewer, unit_slug="demo"
        ),
    }
    with session_scope(engine) as s:
        for name, uid in ids.items():
            s.execute(
                update(AdminUser).where(col(AdminUser.id) == uid).values(email=f"{name}@x.test")
            )
    return ids


def mails_to(engine: Engine, address: str) -> list[str]:
    with Session(engine) as s:
        rows = s.exec(select(OutboxMail)).all()  # to_addr is encrypted: compared here
        return [plain_text(parsed_mail(r.message or b"")) for r in rows if r.to_addr == address]


def timeline(client: TestClient, sid: int) -> str:
    found = soup(client.get(f"/admin/items/{sid}").text).find(id="timeline")
    assert found is not None
    return found.get_text(" ", strip=True)


def queue_marks(client: TestClient, query: str = "") -> dict[int, list[str]]:
    page = soup(client.get(f"/admin{query}").text)
    return {
        int(str(row["data-id"])): [b.get_text() for b in row.select(".badge.handling")]
        for row in page.select("[data-id]")
    }


def dispatch(client: TestClient, csrf: str, sid: int, **extra: str) -> int:
    data = {"csrf": csrf, "masked_text": MASKED, **extra}
    r = client.post(f"/admin/items/{sid}/bureau/forward", data=data, follow_redirects=False)
    return r.status_code


def test_the_bureau_dispatches_with_an_instruction_and_the_school_returns_it(
    mailing_client: TestClient, engine: Engine, staff: dict[str, int]
) -> None:
    client = mailing_client
    (sid,) = insert_submissions(
        engine, rows=[{"text": "我是张伟，反映校长收受礼品", "to_bureau": True}]
    )
    csrf = login(client, "chief", PASSWORD)
    form = soup(client.get(f"/admin/items/{sid}/bureau/forward").text)
    assert form.find(id="instruction") is not None and form.find(id="due_days") is not None
    assert dispatch(client, csrf, sid, due_days="30天") == 422
    assert dispatch(client, csrf, sid, instruction="请核实并答复", due_days="3") == 303
    with Session(engine) as s:
        row = s.get(Dispatch, (sid, "unit"))
        assert row is not None and row.instruction == "请核实并答复"
        assert row.due_on == add_working_days(today_local(), 3)
        audit = s.exec(select(AuditLog).where(col(AuditLog.submission_id) == sid)).all()
    assert [a.action for a in audit] == ["forward_masked"]
    (mail,) = mails_to(engine, "head@x.test")
    assert "请核实并答复" in mail and "张伟" not in mail

    csrf = login(client, "head", PASSWORD)
    page = soup(client.get(f"/admin/items/{sid}").text)
    assert page.select_one("#dispatch .instruction").get_text().startswith("请核实并答复")
    assert "转给学校（已遮盖） ：demo" not in timeline(client, sid)  # the unit name, not the slug
    assert "请核实并答复" in timeline(client, sid)
    back = f"/admin/items/{sid}/dispatch/return"
    r = client.post(back, data={"csrf": csrf, "reason": "  "}, follow_redirects=False)
    assert r.status_code == 422 and "请填写退回理由" in r.text
    r = client.post(back, data={"csrf": csrf, "reason": "不属于本校职责"}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get(f"/admin/items/{sid}").status_code == 404  # the copy has left the school
    assert sid not in queue_marks(client)
    (mail,) = mails_to(engine, "chief@x.test")
    assert "不属于本校职责" in mail

    login(client, "chief", PASSWORD)
    assert queue_marks(client)[sid] == ["直送教体局", "退回"]
    assert set(queue_marks(client, "?mark=returned")) == {sid}
    page = soup(client.get(f"/admin/items/{sid}").text)
    assert page.select_one("#dispatch .returned").get_text().startswith("不属于本校职责")
    assert "学校退回教体局 ：不属于本校职责" in timeline(client, sid)
    # Dispatched again: the return is over.
    assert dispatch(client, login(client, "chief", PASSWORD), sid, instruction="请再核实") == 303
    assert queue_marks(client, "?mark=returned") == {}


def test_a_unit_admin_assigns_with_an_instruction_and_the_handler_returns_it(
    mailing_client: TestClient, engine: Engine, staff: dict[str, int]
) -> None:
    client = mailing_client
    (sid,) = insert_submissions(engine, rows=[{"text": "食堂饭菜太咸"}])
    csrf = login(client, "head", PASSWORD)
    form = soup(client.get(f"/admin/items/{sid}").text).find(id="assign-form")
    assert form is not None and form["action"] == f"/admin/items/{sid}/dispatch/assign"
    assert form.find("input", attrs={"name": "instruction"}) is not None
    assign = f"/admin/items/{sid}/dispatch/assign"
    data = {"csrf": csrf, "assignee": str(staff["teacher"]), "instruction": "三天内答复"}
    assert client.post(assign, data=data, follow_redirects=False).status_code == 303
    (mail,) = mails_to(engine, "teacher@x.test")
    assert "三天内答复" in mail

    csrf = login(client, "teacher", PASSWORD)
    assert set(queue_marks(client, "?mine=1")) == {sid}  # 分配给我的
    page = soup(client.get(f"/admin/items/{sid}").text)
    assert page.select_one("#dispatch .instruction").get_text().startswith("三天内答复")
    assert "交办承办人 ：teacher：三天内答复" in timeline(client, sid)
    back = f"/admin/items/{sid}/dispatch/hand-back"
    r = client.post(back, data={"csrf": csrf, "reason": ""}, follow_redirects=False)
    assert r.status_code == 422 and "请填写退回理由" in r.text
    r = client.post(back, data={"csrf": csrf, "reason": "不是我负责的年级"}, follow_redirects=False)
    assert r.status_code == 303
    with Session(engine) as s:
        item = s.get(Submission, sid)
        assert item is not None and item.assignee_id is None
        actions = s.exec(select(AuditLog.action).where(col(AuditLog.submission_id) == sid)).all()
    assert list(actions) == ["assign", "assignment_returned"]
    (mail,) = mails_to(engine, "head@x.test")
    assert "不是我负责的年级" in mail

    login(client, "head", PASSWORD)
    assert queue_marks(client, "?mark=returned") == {sid: ["退回"]}
    assert "承办人退回 ：不是我负责的年级" in timeline(client, sid)
    # Assigned again: no longer marked.
    csrf = login(client, "head", PASSWORD)
    data = {"csrf": csrf, "assignee": str(staff["teacher"]), "instruction": ""}
    assert client.post(assign, data=data, follow_redirects=False).status_code == 303
    assert queue_marks(client, "?mark=returned") == {}


def test_the_bureau_cannot_give_its_item_to_an_account_that_cannot_see_it(
    client: TestClient, engine: Engine, staff: dict[str, int]
) -> None:
    (held, forwarded) = insert_submissions(
        engine,
        rows=[
            {"text": "举报校长", "to_bureau": True},
            {"text": "举报校长", "to_bureau": True, "masked_text": "举报〔姓名〕"},
        ],
    )
    csrf = login(client, "chief", PASSWORD)
    page = soup(client.get(f"/admin/items/{held}").text)
    assert [o["value"] for o in page.select("#assign-form option")] == [""]
    teacher = str(staff["teacher"])
    for url, data in (
        (f"/admin/items/{held}/assign", {"assignee": teacher}),
        (f"/admin/items/{held}/dispatch/assign", {"assignee": teacher}),
        ("/admin/bulk", {"ids": str(held), "action": "assign", "value_assign": teacher}),
    ):
        r = client.post(url, data={"csrf": csrf, **data}, follow_redirects=False)
        assert r.status_code == 422, url
        assert "学校的账号看不到它" in r.text
    # The masked copy the school has may go to its reviewer.
    r = client.post(
        f"/admin/items/{forwarded}/assign", data={"csrf": csrf, "assignee": teacher},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with Session(engine) as s:
        assert s.get(Submission, held).assignee_id is None  # type: ignore[union-attr]
        assert s.get(Submission, forwarded).assignee_id == staff["teacher"]  # type: ignore[union-attr]


def test_after_a_return_the_school_assignment_ends_and_the_forward_form_is_prefilled(
    mailing_client: TestClient, engine: Engine, staff: dict[str, int]
) -> None:
    client = mailing_client
    (sid,) = insert_submissions(engine, rows=[{"text": "反映校长收受礼品", "to_bureau": True}])
    csrf = login(client, "chief", PASSWORD)
    form = soup(client.get(f"/admin/items/{sid}/bureau/forward").text)
    assert form.select_one("#instruction").get_text() == ""  # type: ignore[union-attr]
    assert dispatch(client, csrf, sid, instruction="请核实并答复", due_days="3") == 303
    csrf = login(client, "head", PASSWORD)
    data = {"csrf": csrf, "assignee": str(staff["teacher"]), "instruction": "三天内答复"}
    r = client.post(f"/admin/items/{sid}/dispatch/assign", data=data, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(
        f"/admin/items/{sid}/dispatch/return",
        data={"csrf": csrf, "reason": "不属于本校职责"},
        follow_redirects=False,
    )
    assert r.status_code == 303

    csrf = login(client, "chief", PASSWORD)
    panel = soup(client.get(f"/admin/items/{sid}").text).select_one("#dispatch")
    assert panel is not None
    assert [i.get_text().split(" ")[0] for i in panel.select(".instruction")] == ["请核实并答复"]
    assert "三天内答复" not in panel.get_text()
    assert "三天内答复" in timeline(client, sid)  # the history stays
    # The bureau edits its last 交办意见 and deadline rather than retyping them.
    form = soup(client.get(f"/admin/items/{sid}/bureau/forward").text)
    assert form.select_one("#instruction").get_text() == "请核实并答复"  # type: ignore[union-attr]
    assert form.select_one("#due_days")["value"] == "3"  # type: ignore[index]
    assert dispatch(client, csrf, sid, instruction="请再核实", due_days="3") == 303
    with Session(engine) as s:
        assert s.get(Dispatch, (sid, "handler")) is None
        item = s.get(Submission, sid)
        assert item is not None and item.assignee_id is None
    login(client, "head", PASSWORD)
    panel = soup(client.get(f"/admin/items/{sid}").text).select_one("#dispatch")
    assert panel is not None and "三天内答复" not in panel.get_text()
    assert panel.select_one(".instruction").get_text().startswith("请再核实")  # type: ignore[union-attr]

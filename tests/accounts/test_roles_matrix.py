"""Who may do what: every queue route, for each role, on own/other unit, assigned or not."""

from __future__ import annotations

import itertools

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app.models import AdminRole, Attachment
from tests.factories import PASSWORD, add_admin, insert_submissions
from tests.helpers import csrf_of, login

ROLES = ("bureau", "unit_admin", "reviewer")
ITEMS = ("own_assigned", "own", "other")  # own/other: the demo unit (the staff's) or demo2
# The demo unit's items the bureau holds (局长信箱): sent to it, or forwarded back masked.
BUREAU_ITEMS = ("bureau", "forwarded")
OK, DENIED, HIDDEN = "ok", "denied", "hidden"
CONFLICT, INVALID = "conflict", "invalid"

READS = ("item", "file", "list", "export_csv", "export_xlsx")
ACTIONS = ("retag", "status", "assign", "note", "reply", "duplicate", "bulk")
# 转办 and 退回 (app/dispatch): assign with an instruction, return to the bureau or the admins.
DISPATCH = ("dispatch_assign", "return", "hand_back")


def expected_return(role: str, item: str) -> str:
    """Only a school admin returns, and only the bureau's masked copy."""
    if role != "unit_admin":
        return DENIED
    if item in ("other", "bureau"):
        return HIDDEN
    return OK if item == "forwarded" else CONFLICT


def expected_hand_back(role: str, item: str) -> str:
    """Only the handler the item is assigned to hands it back."""
    if role != "bureau" and item in ("other", "bureau"):
        return HIDDEN
    return OK if (role, item) == ("reviewer", "own_assigned") else DENIED


def expected(role: str, route: str, item: str) -> str:
    if route == "return":
        return expected_return(role, item)
    if route == "hand_back":
        return expected_hand_back(role, item)
    if route == "dispatch_assign":
        route = "assign"
    if (role, route, item) == ("bureau", "assign", "bureau"):
        return INVALID  # no school account sees an item the bureau holds: none may get it
    if role == "bureau":
        return OK
    if item in ("other", "bureau"):
        return HIDDEN
    if item == "forwarded" and route == "file":
        return HIDDEN  # the school reads the masked text only, never the sender's files
    if item == "forwarded":
        item = "own"
    if route in READS:
        return OK
    if role == "unit_admin":
        return OK
    # A reviewer: acts only on items assigned to them, and never assigns.
    if route == "assign":
        return DENIED
    return OK if item == "own_assigned" else DENIED


@pytest.fixture
def world(demo: None, engine: Engine) -> dict[str, object]:
    users = {
        "bureau": add_admin(engine, username="bureau"),
        "unit_admin": add_admin(
            engine, username="unit_admin", role=AdminRole.unit_admin, unit_slug="demo"
        ),
        "reviewer": add_admin(
            engine, username="reviewer", role=AdminRole.reviewer, unit_slug="demo"
        ),
        "admin2": add_admin(
            engine, username="admin2", role=AdminRole.unit_admin, unit_slug="demo2"
        ),
    }
    (target,) = insert_submissions(engine, rows=[{}])
    return {"engine": engine, "users": users, "target": target, "files": {}}


def make_item(world: dict[str, object], kind: str) -> int:
    """A fresh item of this kind (with one file), so earlier actions cannot change the outcome."""
    users: dict[str, int] = world["users"]  # type: ignore[assignment]
    engine: Engine = world["engine"]  # type: ignore[assignment]
    row: dict[str, object] = {
        "own_assigned": {"assignee_id": users["reviewer"], "status": "forwarded"},
        "own": {},
        "other": {"unit": "demo2"},
        "bureau": {"to_bureau": True, "text": "举报校长"},
        "forwarded": {"to_bureau": True, "text": "我是张伟", "masked_text": "我是〔姓名〕"},
    }[kind]
    (sid,) = insert_submissions(engine, rows=[row])
    with Session(engine) as s:
        a = Attachment(
            submission_id=sid,
            filename="a.pdf",
            content_type="application/pdf",
            size=4,
            sha256="0" * 64,
            data=b"%PDF",
        )
        s.add(a)
        s.commit()
        world["files"][sid] = a.id  # type: ignore[index]
    return sid


def url_of(route: str, sid: int) -> str:
    base = f"/admin/items/{sid}"
    return {
        "bulk": "/admin/bulk",
        "dispatch_assign": f"{base}/dispatch/assign",
        "return": f"{base}/dispatch/return",
        "hand_back": f"{base}/dispatch/hand-back",
    }.get(route, f"{base}/{route}")


def call(client: TestClient, csrf: str, route: str, sid: int, world: dict[str, object]) -> int:
    users: dict[str, int] = world["users"]  # type: ignore[assignment]
    files: dict[int, int] = world["files"]  # type: ignore[assignment]
    other = sid in world.get("others", ())  # type: ignore[operator]
    base = f"/admin/items/{sid}"
    if route == "item":
        return client.get(base).status_code
    if route == "file":
        return client.get(f"{base}/files/{files[sid]}").status_code
    if route in ("list", "export_csv", "export_xlsx"):
        path = {
            "list": "/admin",
            "export_csv": "/admin/export.csv",
            "export_xlsx": "/admin/export.xlsx",
        }[route]
        r = client.get(path)
        assert r.status_code == 200
        body = r.content.decode("utf-8-sig") if route == "export_csv" else r.text
        if route == "export_xlsx":
            from io import BytesIO

            from openpyxl import load_workbook

            sheet = load_workbook(BytesIO(r.content))["全部意见"]
            ids = {row[0].value for row in sheet.iter_rows(min_row=2)}
            return 200 if sid in ids else 404
        marker = f'data-id="{sid}"' if route == "list" else f"\r\n{sid},"
        return 200 if marker in body else 404
    assignee = users["admin2"] if other else users["reviewer"]
    data: dict[str, object] = {
        "retag": {"check": "3"},
        "status": {"status": "invalid"},
        "assign": {"assignee": str(assignee)},
        "note": {"body": "备注"},
        "reply": {"body": "答复"},
        "duplicate": {"target": str(world["target"])},
        "bulk": {"ids": [sid], "action": "retag", "value_retag": "2"},
        "dispatch_assign": {"assignee": str(assignee), "instruction": "请核实后答复"},
        "return": {"reason": "不属于本校职责"},
        "hand_back": {"reason": "不属于我的工作"},
    }[route]
    form = {"csrf": csrf, **data}
    return client.post(url_of(route, sid), data=form, follow_redirects=False).status_code  # type: ignore[arg-type]


@pytest.mark.parametrize(("role", "item"), list(itertools.product(ROLES, ITEMS + BUREAU_ITEMS)))
def test_matrix(client: TestClient, world: dict[str, object], role: str, item: str) -> None:
    csrf = login(client, role, PASSWORD)
    wrong = []
    for route in READS + ACTIONS + DISPATCH:
        sid = make_item(world, item)
        if item == "other":
            world.setdefault("others", set()).add(sid)  # type: ignore[attr-defined]
        status = call(client, csrf, route, sid, world)
        want = expected(role, route, item)
        good = {
            OK: status in (200, 303),
            DENIED: status == 403,
            HIDDEN: status == 404,
            CONFLICT: status == 409,
            INVALID: status == 422,
        }[want]
        if not good:
            wrong.append((route, want, status))
    assert wrong == [], (role, item)


@pytest.mark.parametrize("role", ROLES)
def test_audit_page_is_bureau_only(client: TestClient, world: dict[str, object], role: str) -> None:
    login(client, role, PASSWORD)
    page = client.get("/admin/audit")
    assert page.status_code == (200 if role == "bureau" else 403)
    nav = client.get("/admin").text
    assert ('href="/admin/audit"' in nav) == (role == "bureau")


@pytest.mark.parametrize("route", ["/admin", "/admin/items/1", "/admin/audit", "/admin/export.csv"])
def test_login_required(client: TestClient, world: dict[str, object], route: str) -> None:
    r = client.get(route, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")


@pytest.mark.parametrize("route", ACTIONS + DISPATCH)
def test_actions_need_csrf(client: TestClient, world: dict[str, object], route: str) -> None:
    login(client, "bureau", PASSWORD)
    sid = make_item(world, "own")
    assert call(client, "forged", route, sid, world) == 403
    r = client.post(
        url_of(route, sid),
        data={"body": "x", "check": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 403


CAMPAIGN_ACTIONS = ["/admin/entry/letter", "/admin/entry/meeting", "/admin/evaluation/codes",
                    "/admin/evaluation/override", "/admin/measures", "/admin/measures/1",
                    "/admin/roster/preview", "/admin/roster/confirm", "/admin/roster/remind"]


@pytest.mark.parametrize("route", CAMPAIGN_ACTIONS)
def test_reviewers_cannot_change_campaign_data(client: TestClient, world: dict[str, object],
                                               route: str) -> None:
    # Read-only outside their assigned items: no letters, codes, measures or rosters.
    login(client, "reviewer", PASSWORD)
    csrf = csrf_of(client.get("/admin").text)
    r = client.post(route, data={"csrf": csrf, "unit": "demo", "count": "1"},
                    follow_redirects=False)
    assert r.status_code == 403 and "审核人" in r.text

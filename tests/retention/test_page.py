"""The retention page: periods (bureau admins), the 14-day warning list, holds (audited)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.models import AdminRole, AuditLog, RetentionHold
from tests.factories import PASSWORD, add_admin
from tests.helpers import csrf_of, login, signed_in_admin, soup
from tests.retention.helpers import closed_item


def audits(engine: Engine, action: str) -> list[AuditLog]:
    with Session(engine) as s:
        return list(s.exec(select(AuditLog).where(col(AuditLog.action) == action)).all())


def test_warning_list_hold_and_release(client: TestClient, engine: Engine, demo: None) -> None:
    soon = closed_item(engine, "soon", closed_days_ago=170)  # purged in 10 days
    later = closed_item(engine, "later", closed_days_ago=100)
    csrf = signed_in_admin(client, engine)
    page = soup(client.get("/admin/retention").text)
    rows = page.select("#upcoming tbody tr")
    assert [r["id"] for r in rows] == [f"item-{soon.id}"]
    assert f"item-{later.id}" not in str(page)

    refused = client.post(f"/admin/retention/items/{soon.id}/hold", data={"csrf": csrf})
    assert (
        refused.status_code == 422
        and "理由" in soup(refused.text).select_one("#retention-error").get_text()
    )  # type: ignore[union-attr]
    r = client.post(
        f"/admin/retention/items/{soon.id}/hold", data={"csrf": csrf, "reason": "信访复查中"}
    )
    assert r.status_code == 200 and soup(r.text).select_one("#notice") is not None
    row = soup(r.text).select_one(f"#item-{soon.id}")
    assert row is not None and "保留中：信访复查中" in row.get_text()
    [held] = audits(engine, "retention_hold")
    assert held.actor_id is not None and held.submission_id == soon.id
    assert held.detail is not None and "信访复查中" in held.detail

    r = client.post(f"/admin/retention/items/{soon.id}/release", data={"csrf": csrf})
    assert r.status_code == 200
    with Session(engine) as s:
        assert s.get(RetentionHold, soon.id) is None
    assert len(audits(engine, "retention_release")) == 1
    again = client.post(f"/admin/retention/items/{soon.id}/release", data={"csrf": csrf})
    assert again.status_code == 422


def test_bureau_admin_sets_the_periods_shown_in_the_notice(
    client: TestClient, engine: Engine, demo: None
) -> None:
    notice = soup(client.get("/privacy").text).select_one("#retention")
    assert notice is not None and "办结 180 天后" in notice.get_text()
    assert "办结 365 天后" in notice.get_text()
    csrf = signed_in_admin(client, engine)
    bad = client.post(
        "/admin/retention/policy", data={"csrf": csrf, "purge_days": 5, "archive_days": 365}
    )
    assert bad.status_code == 422 and "30 到 3650" in bad.text
    ok = client.post(
        "/admin/retention/policy", data={"csrf": csrf, "purge_days": 90, "archive_days": 730}
    )
    assert ok.status_code == 200
    form = soup(ok.text).select_one("#policy-form input[name=purge_days]")
    assert form is not None and form["value"] == "90"
    [audit] = audits(engine, "retention_policy")
    assert audit.detail is not None and "730" in audit.detail
    text = soup(client.get("/privacy").text).select_one("#retention").get_text()  # type: ignore[union-attr]
    assert "办结 90 天后" in text and "办结 730 天后" in text
    english = client.get("/privacy?lang=en").text
    assert "90 days after a suggestion is closed" in english


def test_school_admins_see_their_own_items_and_cannot_set_periods(
    client: TestClient, engine: Engine, demo: None
) -> None:
    item = closed_item(engine, "soon", closed_days_ago=170)  # a demo school item
    add_admin(engine, username="other", role=AdminRole.unit_admin, unit_slug="demo2")
    login(client, "other", PASSWORD)
    page_html = client.get("/admin/retention").text
    assert soup(page_html).select_one("#policy-form") is None
    assert soup(page_html).select("#upcoming tbody tr") == []
    csrf = csrf_of(page_html)
    r = client.post(
        f"/admin/retention/items/{item.id}/hold", data={"csrf": csrf, "reason": "试图保留"}
    )
    assert r.status_code == 404
    r = client.post(
        "/admin/retention/policy", data={"csrf": csrf, "purge_days": 90, "archive_days": 400}
    )
    assert r.status_code == 403
    client.post("/admin/logout", data={"csrf": csrf})
    add_admin(engine, username="head", role=AdminRole.unit_admin, unit_slug="demo")
    login(client, "head", PASSWORD)
    rows = soup(client.get("/admin/retention").text).select("#upcoming tbody tr")
    assert [r["id"] for r in rows] == [f"item-{item.id}"]

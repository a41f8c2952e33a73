"""The admin digest page: history with errors, send now (CSRF-protected), settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.core.config import Settings
from app.main import create_app
from app.models import AdminRole, AuditLog, DigestSetting
from tests.factories import PASSWORD, add_admin, seed_yesterday
from tests.helpers import login, soup
from tests.servers.smtp import SmtpServer


@pytest.fixture
def admin_client(digest_settings: Settings, engine: Engine, demo: None) -> Iterator[TestClient]:
    add_admin(engine)
    add_admin(engine, username="head", role=AdminRole.unit_admin, unit_slug="demo")
    # Plain-HTTP test client: a http base URL, so the session cookie is not Secure-only.
    plain = digest_settings.model_copy(update={"base_url": "http://testserver"})
    with TestClient(create_app(plain)) as c:
        yield c


def test_send_now_once_and_history(admin_client: TestClient, engine: Engine,
                                   smtp_server: SmtpServer) -> None:
    seed_yesterday(engine)
    csrf = login(admin_client, "chief", PASSWORD)
    page = admin_client.get("/admin/digest")
    assert page.status_code == 200 and "office@bureau.test" in page.text
    assert soup(page.text).find("a", href="/admin/digest") is not None  # in the nav

    missing = admin_client.post("/admin/digest/send", data={"kind": "day"})
    assert missing.status_code == 403 and smtp_server.messages == []

    sent = admin_client.post("/admin/digest/send", data={"kind": "day", "csrf": csrf})
    assert sent.status_code == 200 and sent.url.query == b"done=sent"
    assert soup(sent.text).find(id="digest-notice").get_text() == "已发送。"
    row = soup(sent.text).select_one("#digests tbody tr")
    assert row is not None and row.select_one(".status").get_text() == "已发送"
    assert len(smtp_server.messages) == 1

    again = admin_client.post("/admin/digest/send", data={"kind": "day", "csrf": csrf})
    assert again.status_code == 409 and "不再重复发送" in again.text
    assert len(smtp_server.messages) == 1
    bad = admin_client.post("/admin/digest/send", data={"kind": "year", "csrf": csrf})
    assert bad.status_code == 422
    with Session(engine) as s:
        actions = [a.action for a in s.exec(select(AuditLog)).all()]
    assert actions.count("digest_sent_now") == 1


def test_failure_is_shown_with_its_retry(admin_client: TestClient,
                                         smtp_server: SmtpServer) -> None:
    csrf = login(admin_client, "chief", PASSWORD)
    smtp_server.refuse = "451 4.3.0 Try again later"
    r = admin_client.post("/admin/digest/send", data={"kind": "week", "csrf": csrf})
    assert r.status_code == 200 and r.url.query == b"done=failed"
    why = soup(r.text).select_one("#digests tbody tr .why")
    assert why is not None and "451" in why.get_text() and "重试" in why.get_text()


def test_settings_form(admin_client: TestClient, engine: Engine) -> None:
    csrf = login(admin_client, "chief", PASSWORD)
    form = {"csrf": csrf, "recipients": "a@bureau.test, b@bureau.test", "daily_time": "",
            "weekly_weekday": "0", "send_when_empty": "1",
            "enabled": "1"}
    r = admin_client.post("/admin/digest/settings", data=form)
    assert r.status_code == 200 and "设置已保存" in r.text
    with Session(engine) as s:
        saved = s.exec(select(DigestSetting)).one()
    assert (saved.recipients, saved.daily_time, saved.weekly_weekday) == (
        "a@bureau.test, b@bureau.test", None, 0)
    assert saved.send_when_empty and saved.enabled
    selected = soup(r.text).select_one("#weekly_weekday option[selected]")
    assert selected is not None and selected.get_text() == "周一"

    wrong = admin_client.post("/admin/digest/settings", data={**form, "daily_time": "25:00"})
    assert wrong.status_code == 422
    assert "HH:MM" in soup(wrong.text).find(id="digest-error").get_text()
    worse = admin_client.post("/admin/digest/settings", data={**form, "recipients": "x@"})
    assert worse.status_code == 422 and "邮箱地址格式不对" in worse.text
    off = {k: v for k, v in form.items() if k != "enabled"}
    assert admin_client.post("/admin/digest/settings", data=off).status_code == 200
    with Session(engine) as s:
        assert s.exec(select(DigestSetting)).one().enabled is False


def test_only_bureau_admins(admin_client: TestClient) -> None:
    csrf = login(admin_client, "head", PASSWORD)
    assert admin_client.get("/admin/digest").status_code == 403
    r = admin_client.post("/admin/digest/send", data={"kind": "day", "csrf": csrf})
    assert r.status_code == 403

"""Admin accounts: login, lockout, sessions, CSRF, and role gates."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.core.config import Settings
from app.main import create_app
from app.models import AdminRole, AdminSession, AdminUser, AuditLog
from tests.conftest import make_settings
from tests.factories import PASSWORD, add_admin
from tests.helpers import csrf_of, login, signed_in_admin, soup


def test_login_redirect_and_success(client: TestClient, demo: None, engine: Engine) -> None:
    add_admin(engine)
    r = client.get("/admin", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/login?next=")
    r = client.post(
        "/admin/login",
        data={"username": "chief", "password": PASSWORD, "next": "/admin"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    page = client.get("/admin")
    assert page.status_code == 200 and "意见总览" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_secure_cookie_under_https(
    database_url: str, engine: Engine, demo: None
) -> None:
    add_admin(engine)
    app = create_app(make_settings(database_url, base_url="https://yj.example"))
    with TestClient(app, base_url="https://testserver") as c:
        r = c.post(
            "/admin/login", data={"username": "chief", "password": PASSWORD}, follow_redirects=False
        )
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("__Host-yijian_admin=") and "Secure" in cookie


def test_wrong_password_and_unknown_user_look_the_same(
    client: TestClient, demo: None, engine: Engine
) -> None:
    add_admin(engine)
    a = client.post("/admin/login", data={"username": "chief", "password": "nope-nope-nope"})
    b = client.post("/admin/login", data={"username": "ghost", "password": "nope-nope-nope"})
    assert a.status_code == b.status_code == 401
    assert (
        soup(a.text).find(id="login-error").get_text()
        == soup(b.text).find(id="login-error").get_text()
        == "用户名或密码不正确。"
    )


def test_lockout_after_repeated_failures(client: TestClient, demo: None, engine: Engine) -> None:
    # More in tests/accounts/test_throttle.py.
    add_admin(engine)
    for _ in range(5):
        client.post("/admin/login", data={"username": "chief", "password": "wrong-password"})
    r = client.post("/admin/login", data={"username": "chief", "password": PASSWORD})
    assert r.status_code == 429 and "登录失败次数过多" in r.text


def test_per_address_limit(client: TestClient, demo: None) -> None:
    codes = {
        client.post("/admin/login", data={"username": f"u{i}", "password": "x"}).status_code
        for i in range(31)
    }
    assert 429 in codes


def test_logout_kills_the_session(client: TestClient, demo: None, engine: Engine) -> None:
    csrf = signed_in_admin(client, engine)
    old_cookies = dict(client.cookies)
    r = client.post("/admin/logout", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    client.cookies.update(old_cookies)  # replaying the old cookie must not work
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_new_session_id_at_each_login(
    client: TestClient, demo: None, engine: Engine, session: Session
) -> None:
    signed_in_admin(client, engine)
    first = dict(client.cookies)
    login(client, "chief", PASSWORD)
    assert dict(client.cookies) != first
    assert len(session.exec(select(AdminSession)).all()) == 2


def test_idle_timeout(client: TestClient, demo: None, engine: Engine, session: Session) -> None:
    signed_in_admin(client, engine)
    row = session.exec(select(AdminSession)).one()
    row.last_seen_at -= timedelta(minutes=61)
    session.add(row)
    session.commit()
    assert client.get("/admin", follow_redirects=False).status_code == 303
    assert session.exec(select(AdminSession)).all() == []


def test_csrf_is_required(client: TestClient, demo: None, engine: Engine) -> None:
    csrf = signed_in_admin(client, engine)
    form = {"username": "newbie", "password": "a-long-password", "role": "bureau_admin"}
    assert client.post("/admin/users", data=form).status_code == 403
    assert client.post("/admin/users", data=form | {"csrf": "forged"}).status_code == 403
    cross = client.post(
        "/admin/users", data=form | {"csrf": csrf}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert cross.status_code == 403
    evil = client.post(
        "/admin/users", data=form | {"csrf": csrf}, headers={"Origin": "https://evil.example"}
    )
    assert evil.status_code == 403
    ok = client.post("/admin/users", data=form | {"csrf": csrf})
    assert ok.status_code == 200 and "newbie" in ok.text


def test_roles_gate_user_management(client: TestClient, demo: None, engine: Engine) -> None:
    add_admin(engine, username="clerk", role=AdminRole.unit_admin, unit_slug="demo")
    csrf = login(client, "clerk", PASSWORD)
    assert client.get("/admin/users").status_code == 403
    r = client.post(
        "/admin/users",
        data={"csrf": csrf, "username": "x", "password": "y" * 12, "role": "bureau_admin"},
    )
    assert r.status_code == 403
    home = client.get("/admin")
    assert "示范县第一初级中学" in home.text and "示范县实验小学" not in home.text
    assert "/admin/users" not in home.text


def test_password_change_ends_other_sessions(
    database_url: str, client: TestClient, demo: None, engine: Engine, settings: Settings
) -> None:
    add_admin(engine)
    with TestClient(create_app(settings)) as other:
        login(other, "chief", PASSWORD)
        csrf = login(client, "chief", PASSWORD)
        bad = client.post(
            "/admin/password", data={"csrf": csrf, "current": "wrong", "new": "another long one"}
        )
        assert bad.status_code == 422
        page = client.post(
            "/admin/password", data={"csrf": csrf, "current": PASSWORD, "new": "another long one"}
        )
        assert page.status_code == 200 and soup(page.text).find(id="done")
        assert other.get("/admin", follow_redirects=False).status_code == 303
        assert client.get("/admin").status_code == 200
    client.cookies.clear()
    login(client, "chief", "another long one")


def test_open_redirect_is_refused(client: TestClient, demo: None, engine: Engine) -> None:
    add_admin(engine)
    r = client.post(
        "/admin/login",
        data={"username": "chief", "password": PASSWORD, "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/admin"
    assert csrf_of(client.get("/admin").text)


def test_bureau_admin_resets_a_forgotten_password(
    client: TestClient, demo: None, engine: Engine, settings: Settings
) -> None:
    add_admin(engine)
    add_admin(engine, username="clerk", role=AdminRole.unit_admin, unit_slug="demo")
    with Session(engine) as s:
        ids = {u.username: u.id for u in s.exec(select(AdminUser)).all()}
    with TestClient(create_app(settings)) as clerk:
        login(clerk, "clerk", PASSWORD)
        # A unit admin cannot reset anyone's password.
        csrf = csrf_of(clerk.get("/admin/password").text)
        denied = clerk.post(f"/admin/users/{ids['chief']}/password", data={"csrf": csrf})
        assert denied.status_code == 403
        csrf = login(client, "chief", PASSWORD)
        page = soup(client.get("/admin/users").text)
        # A row for the clerk offers a reset; the chief's own row does not.
        actions = page.select(f"form[action='/admin/users/{ids['clerk']}/password']")
        assert len(actions) == 1
        assert not page.select(f"form[action='/admin/users/{ids['chief']}/password']")
        r = client.post(f"/admin/users/{ids['clerk']}/password", data={"csrf": csrf})
        assert r.status_code == 200
        shown = soup(r.text).select_one("#new-password code")
        assert shown is not None
        new = shown.get_text()
        # The clerk's old login is over; the new password works, the old one not.
        assert clerk.get("/admin", follow_redirects=False).status_code == 303
        assert (
            clerk.post(
                "/admin/login", data={"username": "clerk", "password": PASSWORD, "next": "/admin"}
            ).url.path
            != "/admin"
        )
        login(clerk, "clerk", new)
    own = client.post(f"/admin/users/{ids['chief']}/password", data={"csrf": csrf})
    assert own.status_code == 422
    assert client.post("/admin/users/99999/password", data={"csrf": csrf}).status_code == 404
    with Session(engine) as s:
        logged = s.exec(select(AuditLog).where(AuditLog.action == "password_reset")).all()
        assert [(a.actor_id, new in a.detail) for a in logged] == [(ids["chief"], False)]

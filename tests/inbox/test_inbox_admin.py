"""The mailbox admin page: bureau admins only, CSRF-checked, never shows a password."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app.inbox import mailboxes
from app.inbox.prepare import Preparer
from app.models import AdminRole, InboundStatus, MailboxConfig
from tests.factories import PASSWORD, add_admin
from tests.helpers import csrf_of, login, signed_in_admin, soup
from tests.inbox.support import ingest_raw

FORM = {"name": "qq", "host": "imap.qq.com", "port": "993", "security": "ssl",
        "username": "school@qq.com", "password": "app-code-123", "folder": "INBOX",
        "unit": "demo"}


def test_bureau_admin_adds_edits_and_sees_skipped_mail(
    client: TestClient, demo: None, engine: Engine
) -> None:
    signed_in_admin(client, engine)
    page = client.get("/admin/inbox")
    assert page.status_code == 200 and "还没有邮箱" in page.text
    csrf = csrf_of(page.text)
    assert client.post("/admin/inbox", data=FORM).status_code == 403  # no CSRF token
    bad = client.post("/admin/inbox", data={**FORM, "port": "99999", "csrf": csrf})
    assert bad.status_code == 422
    assert "端口" in soup(bad.text).find(id="inbox-error").get_text()
    assert client.post("/admin/inbox", data={**FORM, "csrf": csrf}).status_code == 200
    listing = client.get("/admin/inbox").text
    assert "school@qq.com" in listing and "app-code-123" not in listing

    with Session(engine) as session:
        box = mailboxes.get_mailbox(session, name="qq")
        box_id = box.id
        assert box.password == "app-code-123" and box.enabled
        assert box_id is not None
        bounce = b"From: MAILER-DAEMON@qq.com\r\nSubject: Undeliverable\r\n\r\nx\r\n"
        settings = client.app.state.settings  # type: ignore[attr-defined]
        with Preparer() as preparer:
            ingest_raw(session, settings=settings, mailbox=box, uid=1, raw=bounce,
                       preparer=preparer)
        session.commit()

    edit = client.get(f"/admin/inbox/{box_id}")
    assert edit.status_code == 200 and "app-code-123" not in edit.text
    # A new port (or server, encryption, account) must come with the 授权码 again: the stored
    # one is never sent to a server the admin just typed in.
    for change in ({"port": "995"}, {"host": "imap.evil.example"}, {"security": "starttls"},
                   {"username": "other@qq.com"}):
        refused = client.post(f"/admin/inbox/{box_id}",
                              data={**FORM, **change, "password": "", "csrf": csrf})
        assert refused.status_code == 422, change
        assert "授权码" in soup(refused.text).find(id="inbox-error").get_text()
    saved = client.post(f"/admin/inbox/{box_id}",
                        data={**FORM, "password": "", "unit": "demo2", "csrf": csrf})
    assert saved.status_code == 200
    saved = client.post(f"/admin/inbox/{box_id}",
                        data={**FORM, "password": "app-code-123", "port": "995", "csrf": csrf})
    assert saved.status_code == 200
    with Session(engine) as session:
        box2 = session.get(MailboxConfig, box_id)
        assert box2 is not None
        # Empty password keeps the stored one; an unticked box disables.
        assert (box2.port, box2.password, box2.enabled) == (995, "app-code-123", False)
    skipped = soup(client.get("/admin/inbox").text).find(id="skipped").get_text()
    assert "退信" in skipped and "Undeliverable" in skipped
    assert InboundStatus.automated.value not in skipped


def test_unit_admin_is_refused(client: TestClient, demo: None, engine: Engine) -> None:
    add_admin(engine, username="clerk", role=AdminRole.unit_admin, unit_slug="demo")
    login(client, "clerk", PASSWORD)
    assert client.get("/admin/inbox").status_code == 403
    assert client.get("/admin/inbox/1").status_code == 403


def test_other_bureaus_mailbox_is_not_found(client: TestClient, demo: None,
                                            engine: Engine) -> None:
    add_admin(engine)
    with Session(engine) as session:
        from app.units.service import get_or_create_bureau

        other = get_or_create_bureau(session, name="另一个县教育局")
        box = mailboxes.add_mailbox(session, bureau_id=other.id, spec=mailboxes.MailboxSpec(
            name="theirs", host="imap.example", port=993, security="ssl", username="u",
            password="p"))
        session.commit()
        box_id = box.id
    login(client, "chief", PASSWORD)
    assert client.get(f"/admin/inbox/{box_id}").status_code == 404
    assert "theirs" not in client.get("/admin/inbox").text

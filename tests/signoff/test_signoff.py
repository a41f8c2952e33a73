"""答复需审核 and 常用答复: a handler's draft reaches the sender on no path until a unit admin
approves it, then once, as any reply; send-back; templates and the pre-filled reply form."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from app.campaign.service import get_unit
from app.core.db import session_scope
from app.groups.jobs import group_new_items
from app.groups.service import reply_to_group
from app.main import create_app
from app.models import (
    AdminRole,
    AdminUser,
    ConcernMember,
    DraftState,
    EventKind,
    OutboxMail,
    OutboxStatus,
    Reply,
    ReplyDraft,
    ReplyTemplate,
    Status,
    Submission,
    SubmissionEvent,
)
from app.signoff.service import set_signoff
from tests.conftest import TEST_SECRET, make_settings
from tests.factories import PASSWORD, add_admin, post_form
from tests.groups.corpus import CONCERNS
from tests.helpers import login, receipt_of, soup
from tests.servers.smtp import SmtpServer

SENDER = "zhang@example.org"


@dataclass
class World:
    client: TestClient
    engine: Engine
    smtp: SmtpServer
    receipt: str
    item: int
    handler: int

    def as_(self, username: str) -> str:
        """Log in as this account; the page's CSRF token."""
        self.client.cookies.clear()
        return login(self.client, username, PASSWORD)

    def item_page(self) -> BeautifulSoup:
        r = self.client.get(f"/admin/items/{self.item}")
        assert r.status_code == 200, r.text
        return soup(r.text)

    def reply(self, csrf: str, body: str) -> BeautifulSoup:
        r = self.client.post(
            f"/admin/items/{self.item}/reply", data={"csrf": csrf, "body": body, "public": "1"}
        )
        assert r.status_code == 200 and r.url.path == f"/admin/items/{self.item}", r.text
        return soup(r.text)

    def set_signoff(self, csrf: str, *, on: bool) -> None:
        data = {"csrf": csrf, "unit": "demo"} | ({"required": "1"} if on else {})
        r = self.client.post("/admin/reply-settings/signoff", data=data)
        assert r.status_code == 200 and r.url.path == "/admin/reply-settings", r.text

    def sender_sees(self) -> tuple[list[str], bool, list[str], list[str]]:
        """What the sender and the public see: the receipt page's replies, whether it offers
        a rating, the API's replies, the unit's public answers."""
        page = soup(self.client.post("/r", data={"receipt": self.receipt}).text)
        shown = [a.select_one(".body").get_text() for a in page.select("article.reply[id^=reply-]")]  # type: ignore[union-attr]
        api = self.client.get(f"/api/v1/receipts/{self.receipt}").json()["replies"]
        answers = soup(self.client.get("/u/demo/answers").text).select("#answers li.answer")
        return (
            shown,
            page.select_one("input[name=rating]") is not None,
            [r["body"] for r in api],
            [a.get_text() for a in answers],
        )


@pytest.fixture
def world(
    database_url: str, engine: Engine, demo: None, smtp_server: SmtpServer
) -> Iterator[World]:
    settings = make_settings(
        database_url,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_security="none",
        mail_from="yijian@school.example",
    )
    add_admin(engine, username="head", role=AdminRole.unit_admin, unit_slug="demo")
    handler = add_admin(engine, username="handler", role=AdminRole.reviewer, unit_slug="demo")
    add_admin(engine, username="other", role=AdminRole.unit_admin, unit_slug="demo2")
    with TestClient(create_app(settings)) as client:
        page = post_form(client, anonymous=False, name="张三", contact=SENDER)
        receipt = receipt_of(page.text).replace(" ", "")
        with session_scope(engine) as s:
            item = s.exec(select(Submission.id).order_by(col(Submission.id).desc())).first()
            assert item is not None
            s.execute(
                update(Submission).where(col(Submission.id) == item).values(assignee_id=handler)
            )
        yield World(client, engine, smtp_server, receipt, item, handler)


def drafts(engine: Engine) -> list[ReplyDraft]:
    with Session(engine) as s:
        return list(s.exec(select(ReplyDraft)).all())


def replies(engine: Engine) -> list[Reply]:
    with Session(engine) as s:
        return list(s.exec(select(Reply)).all())


def events(engine: Engine, item: int) -> list[str]:
    with Session(engine) as s:
        query = select(SubmissionEvent.kind).where(SubmissionEvent.submission_id == item)
        return [str(k) for k in s.exec(query).all()]


def status(engine: Engine, item: int) -> str:
    with Session(engine) as s:
        sub = s.get(Submission, item)
        assert sub is not None
        return str(sub.status)


def test_a_draft_reaches_the_sender_on_no_path_until_approved_then_once(world: World) -> None:
    world.set_signoff(world.as_("head"), on=True)
    before = status(world.engine, world.item)
    page = world.reply(world.as_("handler"), "已转食堂，下周起公示菜价。")
    assert "提交审核" in page.select_one("#notice").get_text()  # type: ignore[union-attr]
    assert page.select_one("#drafts .state").get_text() == "待审核"  # type: ignore[union-attr]
    assert page.select_one("#drafts .approve-form") is None  # a handler cannot approve
    # Nothing shown, published, queued or sent; the item's status is unchanged.
    assert world.sender_sees() == ([], False, [], [])
    assert replies(world.engine) == []
    with Session(world.engine) as s:
        assert s.exec(select(OutboxMail)).all() == []
    assert world.smtp.messages == []
    assert status(world.engine, world.item) == before
    [draft] = drafts(world.engine)

    # Another school's admin finds nothing to approve; a handler may not approve at all.
    for who in ("other", "handler"):
        csrf = world.as_(who)
        r = world.client.post(
            f"/admin/signoff/drafts/{draft.id}/approve", data={"csrf": csrf, "body": "x"}
        )
        assert r.status_code in (403, 404)
    assert replies(world.engine) == [] and world.smtp.messages == []

    csrf = world.as_("head")
    waiting = soup(world.client.get("/admin/signoff").text)
    assert [a.get_text() for a in waiting.select("#drafts a")] == [f"#{world.item}"]
    form = world.item_page().select_one(f"#draft-{draft.id} .approve-form textarea")
    assert form is not None and form.get_text() == "已转食堂，下周起公示菜价。"
    r = world.client.post(
        f"/admin/signoff/drafts/{draft.id}/approve",
        data={"csrf": csrf, "body": "已转食堂，下周一起在校门口公示菜价。"},
    )
    assert r.status_code == 200 and r.url.path == f"/admin/items/{world.item}"
    assert "已批准" in soup(r.text).select_one("#notice").get_text()  # type: ignore[union-attr]
    [reply] = replies(world.engine)
    assert reply.body == "已转食堂，下周一起在校门口公示菜价。"
    assert reply.author_id == world.handler and reply.is_public
    assert drafts(world.engine) == []
    assert [m.rcpt_tos for m in world.smtp.messages] == [[SENDER]]
    with Session(world.engine) as s:
        [mail] = s.exec(select(OutboxMail)).all()
        assert mail.status == OutboxStatus.sent
    assert status(world.engine, world.item) == Status.replied
    assert EventKind.reply_approved.value in events(world.engine, world.item)
    shown, rating, api, answers = world.sender_sees()
    assert shown == api == ["已转食堂，下周一起在校门口公示菜价。"] and rating
    assert len(answers) == 1 and "下周一起" in answers[0]

    # Approving again publishes nothing more.
    r = world.client.post(
        f"/admin/signoff/drafts/{draft.id}/approve", data={"csrf": csrf, "body": "再来一次"}
    )
    assert r.status_code == 404
    assert len(replies(world.engine)) == 1 and len(world.smtp.messages) == 1


def test_send_back_with_a_comment_then_resubmit(world: World) -> None:
    world.set_signoff(world.as_("head"), on=True)
    world.reply(world.as_("handler"), "知道了。")
    [draft] = drafts(world.engine)
    csrf = world.as_("head")
    empty = world.client.post(
        f"/admin/signoff/drafts/{draft.id}/return", data={"csrf": csrf, "comment": " "}
    )
    assert empty.status_code == 422 and "理由" in empty.text
    r = world.client.post(
        f"/admin/signoff/drafts/{draft.id}/return",
        data={"csrf": csrf, "comment": "请写明处理措施和时间。"},
    )
    assert r.status_code == 200 and r.url.path == f"/admin/items/{world.item}"
    [back] = drafts(world.engine)
    assert back.state == DraftState.returned and back.comment == "请写明处理措施和时间。"
    assert EventKind.reply_returned.value in events(world.engine, world.item)
    # A returned draft can be neither approved nor returned again.
    again = world.client.post(
        f"/admin/signoff/drafts/{draft.id}/approve", data={"csrf": csrf, "body": "知道了。"}
    )
    assert again.status_code == 422 and replies(world.engine) == []

    world.as_("handler")
    comment = world.item_page().select_one("#drafts .comment")
    assert comment is not None and "请写明处理措施和时间。" in comment.get_text()
    page = world.reply(world.as_("handler"), "已约谈食堂负责人，3月20日前公示菜价。")
    assert page.select_one("#drafts .comment") is None  # the new draft replaced the returned one
    [new] = drafts(world.engine)
    assert new.state == DraftState.pending and new.id != draft.id
    assert world.sender_sees() == ([], False, [], []) and world.smtp.messages == []


def test_setting_off_and_admins_own_replies_publish_directly(world: World) -> None:
    world.reply(world.as_("handler"), "处理中。")  # off by default: today's behaviour
    assert [r.body for r in replies(world.engine)] == ["处理中。"]
    assert drafts(world.engine) == [] and len(world.smtp.messages) == 1
    csrf = world.as_("head")
    world.set_signoff(csrf, on=True)
    world.reply(csrf, "学校答复。")
    assert [r.body for r in replies(world.engine)] == ["处理中。", "学校答复。"]
    world.set_signoff(csrf, on=False)
    world.reply(world.as_("handler"), "已办结。")
    assert len(replies(world.engine)) == 3 and drafts(world.engine) == []
    assert len(world.smtp.messages) == 3


def test_the_bureau_default_applies_to_units_that_have_not_chosen(world: World) -> None:
    add_admin(world.engine, username="chief")
    csrf = world.as_("head")
    default = "/admin/reply-settings/signoff-default"
    assert world.client.post(default, data={"csrf": csrf, "required": "1"}).status_code == 403
    csrf = world.as_("chief")
    r = world.client.post(default, data={"csrf": csrf, "required": "1"})
    assert r.status_code == 200 and r.url.path == "/admin/reply-settings"
    page = soup(r.text)
    assert page.select_one("#signoff-default input[name=required]").has_attr("checked")  # type: ignore[union-attr]
    demo = page.select_one("#unit-demo")
    assert demo is not None
    assert demo.select_one("option[selected]").get_text() == "跟随教育局默认（需审核）"  # type: ignore[union-attr]
    assert demo.select_one(".signoff-state").get_text() == "现在：需审核"  # type: ignore[union-attr]
    world.reply(world.as_("handler"), "草稿。")  # the unit follows the bureau: a draft
    assert replies(world.engine) == [] and len(drafts(world.engine)) == 1

    # The unit's own "off" wins over the bureau's default; "" follows the bureau again.
    csrf = world.as_("head")
    page = soup(client_post_signoff(world, csrf, "0"))
    assert page.select_one("#signoff-default") is None  # the default is the bureau's to set
    assert page.select_one("#unit-demo .signoff-state").get_text() == "现在：不需审核"  # type: ignore[union-attr]
    world.reply(world.as_("handler"), "直接答复。")
    assert [r.body for r in replies(world.engine)] == ["直接答复。"]
    client_post_signoff(world, world.as_("head"), "")
    world.reply(world.as_("handler"), "又一稿。")
    assert len(replies(world.engine)) == 1
    r = world.client.post(
        "/admin/reply-settings/signoff",
        data={"csrf": world.as_("head"), "unit": "demo", "required": "maybe"},
    )
    assert r.status_code == 422 and "跟随教育局默认" in r.text


def client_post_signoff(world: World, csrf: str, required: str) -> str:
    data = {"csrf": csrf, "unit": "demo", "required": required}
    r = world.client.post("/admin/reply-settings/signoff", data=data)
    assert r.status_code == 200 and r.url.path == "/admin/reply-settings", r.text
    return r.text


def test_only_admins_of_the_unit_manage_signoff_and_templates(world: World) -> None:
    csrf = world.as_("handler")
    r = world.client.post(
        "/admin/reply-settings/signoff", data={"csrf": csrf, "unit": "demo", "required": "1"}
    )
    assert r.status_code == 403
    assert world.client.get("/admin/reply-settings").status_code == 403
    csrf = world.as_("other")
    r = world.client.post(
        "/admin/reply-settings/signoff", data={"csrf": csrf, "unit": "demo", "required": "1"}
    )
    assert r.status_code == 404
    world.reply(world.as_("handler"), "未受影响。")
    assert len(replies(world.engine)) == 1


def test_templates_crud_and_the_prefilled_reply_form(world: World) -> None:
    csrf = world.as_("head")
    url = "/admin/reply-settings/templates"
    bad = world.client.post(url, data={"csrf": csrf, "unit": "demo", "title": " ", "body": "x"})
    assert (
        bad.status_code == 422 and "标题" in soup(bad.text).select_one("#settings-error").get_text()
    )  # type: ignore[union-attr]
    r = world.client.post(
        url,
        data={
            "csrf": csrf,
            "unit": "demo",
            "title": "已转办",
            "body": "您的意见已转相关部门办理。",
        },
    )
    assert r.status_code == 200 and "已保存" in r.text
    with Session(world.engine) as s:
        [tpl] = s.exec(select(ReplyTemplate)).all()
    world.client.post(
        url,
        data={
            "csrf": csrf,
            "unit": "demo",
            "template": str(tpl.id),
            "title": "已转办",
            "body": "您的意见已转总务处办理，五个工作日内答复。",
        },
    )
    # The handler's reply form offers it, and ?template= fills the textarea (no JavaScript).
    world.as_("handler")
    page = world.item_page()
    assert [o.get_text() for o in page.select("#template-select option")] == ["已转办"]
    assert page.select_one("#reply-body").get_text() == ""  # type: ignore[union-attr]
    filled = soup(world.client.get(f"/admin/items/{world.item}?template={tpl.id}").text)
    assert (
        filled.select_one("#reply-body").get_text() == "您的意见已转总务处办理，五个工作日内答复。"
    )  # type: ignore[union-attr]
    assert world.client.get(f"/admin/items/{world.item}?template=999").status_code == 404

    # Another school's admin can neither change nor delete it, nor use it on its items.
    csrf = world.as_("other")
    assert world.client.post(f"{url}/{tpl.id}/delete", data={"csrf": csrf}).status_code == 404
    r = world.client.post(
        url,
        data={"csrf": csrf, "unit": "demo2", "template": str(tpl.id), "title": "t", "body": "b"},
    )
    assert r.status_code == 404
    csrf = world.as_("head")
    r = world.client.post(f"{url}/{tpl.id}/delete", data={"csrf": csrf})
    assert r.status_code == 200 and "已删除" in r.text
    with Session(world.engine) as s:
        assert s.exec(select(ReplyTemplate)).all() == []
    assert world.item_page().select_one("#template-form") is None


def test_group_replies_of_a_handler_wait_too(world: World) -> None:
    for text in CONCERNS[0][:3]:
        post_form(world.client, text=text, anonymous=False, name="李四", contact="li@example.org")
    group_new_items(world.engine)
    with session_scope(world.engine) as s:
        members = list(
            s.exec(
                select(ConcernMember.submission_id).where(col(ConcernMember.group_id).is_not(None))
            ).all()
        )
        assert len(members) == 3
        s.execute(
            update(Submission)
            .where(col(Submission.id).in_(members))
            .values(assignee_id=world.handler)
        )
        set_signoff(s, actor_id=None, unit=get_unit(s, slug="demo"), required=True)
    with session_scope(world.engine) as s:
        handler = s.get(AdminUser, world.handler)
        assert handler is not None
        drafted = reply_to_group(
            s,
            user=handler,
            submission_id=members[0],
            body="统一答复。",
            public=False,
            from_addr="yijian@school.example",
            base_url="https://yijian.example",
            secret=TEST_SECRET,
        )
    assert drafted == 3
    assert sorted(d.submission_id for d in drafts(world.engine)) == sorted(members)
    assert replies(world.engine) == []
    with Session(world.engine) as s:
        assert s.exec(select(OutboxMail)).all() == []

"""The public form, as a browser without JavaScript uses it."""

from __future__ import annotations

import io
from datetime import timedelta

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.main import create_app
from app.models import Attachment, CampaignPhase, Submission
from tests.conftest import make_settings
from tests.factories import jpeg_with_gps, one_page_pdf, post_form
from tests.helpers import form_key, receipt_of, soup


def test_form_page_is_chinese_mobile_and_anonymous_by_default(
    client: TestClient, demo: None
) -> None:
    r = client.get("/u/demo")
    assert r.status_code == 200
    page = soup(r.text)
    assert page.html is not None and page.html["lang"] == "zh-CN"
    assert page.find("meta", {"name": "viewport"}) is not None
    assert page.find("input", {"name": "anonymous"}).has_attr("checked")
    roles = [i["value"] for i in page.find_all("input", {"name": "role"})]
    assert roles == ["家长", "离退休干部", "上级领导", "教职工", "群众代表", "其他"]
    assert "不保存姓名、电话、IP 地址" in r.text
    assert r.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "set-cookie" not in r.headers


def test_audience_link_preselects_role(client: TestClient, demo: None) -> None:
    page = soup(client.get("/u/demo?a=retiree").text)
    checked = page.find("input", {"name": "role", "checked": True})
    assert checked is not None and checked["value"] == "离退休干部"


def test_english_locale(client: TestClient, demo: None) -> None:
    r = client.get("/u/demo?lang=en")
    assert soup(r.text).html["lang"] == "en"
    assert "Send anonymously" in r.text


def test_anonymous_submission_gets_receipt_and_keeps_no_identity(
    client: TestClient, demo: None, session: Session
) -> None:
    key = form_key(client.get("/u/demo").text)
    r = post_form(client, key=key, name="张三", contact="13800000000")
    assert r.status_code == 200
    receipt = receipt_of(r.text)
    row = session.exec(select(Submission)).one()
    assert row.anonymous and row.name is None and row.contact is None
    assert row.role == "家长" and row.channel == "web" and row.status == "new"
    assert receipt.replace(" ", "") not in row.receipt_hash


def test_double_tap_stores_one_and_shows_same_receipt(
    client: TestClient, demo: None, session: Session
) -> None:
    key = form_key(client.get("/u/demo").text)
    first = receipt_of(post_form(client, key=key).text)
    second = receipt_of(post_form(client, key=key).text)
    assert first == second
    assert len(session.exec(select(Submission)).all()) == 1


def test_same_key_different_text_is_refused(client: TestClient, demo: None) -> None:
    post_form(client, key="k" * 20)
    r = post_form(client, key="k" * 20, text="完全不同的另一条意见")
    assert r.status_code == 409


def test_named_submission_keeps_name(client: TestClient, demo: None, session: Session) -> None:
    r = post_form(client, role="教职工", text="建议增加教研时间。", anonymous=False,
                  name="李老师", contact="li@example.com")
    assert r.status_code == 200
    row = session.exec(select(Submission)).one()
    assert not row.anonymous and row.name == "李老师" and row.contact == "li@example.com"


def test_named_without_name_or_contact_is_refused_and_text_kept(
    client: TestClient, demo: None, session: Session
) -> None:
    r = post_form(client, text="我写了很长的意见", anonymous=False)
    assert r.status_code == 422
    assert "姓名或联系方式" in soup(r.text).find(id="form-error").get_text()
    assert soup(r.text).find("textarea").get_text() == "我写了很长的意见"
    assert session.exec(select(Submission)).all() == []


def test_empty_and_too_long_text(client: TestClient, demo: None, session: Session) -> None:
    assert post_form(client, text="   ").status_code == 422
    r = post_form(client, text="字" * 5001)
    assert r.status_code == 422 and "不能超过 5000 字" in r.text
    assert session.exec(select(Submission)).all() == []


def test_unknown_role_and_unknown_unit(client: TestClient, demo: None) -> None:
    assert post_form(client, role="hacker").status_code == 422
    r = post_form(client, slug="nope", text="x", role=None)
    assert r.status_code == 404 and "没有找到这个单位" in r.text
    assert client.get("/u/nope").status_code == 404


def test_closed_phase_refuses(client: TestClient, demo: None, session: Session) -> None:
    for phase in session.exec(select(CampaignPhase)).all():
        phase.starts_on -= timedelta(days=400)
        phase.ends_on -= timedelta(days=400)
        session.add(phase)
    session.commit()
    page = client.get("/u/demo")
    assert page.status_code == 200 and soup(page.text).find("form", id="intake") is None
    r = post_form(client)
    assert r.status_code == 403 and "已经结束" in r.text


def test_photo_is_reencoded_without_exif_and_renamed(
    client: TestClient, demo: None, session: Session
) -> None:
    r = post_form(client, text="操场围墙破损，见照片。",
                  files=[("张三家门口.jpg", "image/jpeg", jpeg_with_gps())])
    assert r.status_code == 200, r.text
    att = session.exec(select(Attachment)).one()
    assert att.content_type == "image/jpeg" and att.filename == "附件1.jpg"
    assert b"PhoneMaker" not in att.data and b"Exif" not in att.data
    assert Image.open(io.BytesIO(att.data)).getexif().get(0x8825) is None


def test_disguised_file_is_refused(client: TestClient, demo: None, session: Session) -> None:
    r = post_form(client, text="附件", role=None,
                  files=[("photo.jpg", "image/jpeg", b"MZ\x90\x00 not a photo")])
    assert r.status_code == 415 and "只能上传照片" in r.text
    assert session.exec(select(Submission)).all() == []


def test_pdf_is_accepted(client: TestClient, demo: None, session: Session) -> None:
    pdf = one_page_pdf()
    r = post_form(client, text="见附件", role=None, files=[("意见.pdf", "application/pdf", pdf)])
    assert r.status_code == 200
    assert session.exec(select(Attachment)).one().content_type == "application/pdf"


def test_oversize_and_too_many_files(client: TestClient, demo: None, session: Session) -> None:
    big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024) + b"\n%%EOF\n"
    r = post_form(client, text="大文件", role=None, files=[("a.pdf", "application/pdf", big)])
    assert r.status_code == 413
    pdf = b"%PDF-1.4\n%%EOF\n"
    files = [(f"{i}.pdf", "application/pdf", pdf) for i in range(4)]
    r = post_form(client, text="四个文件", role=None, files=files)
    assert r.status_code == 422
    assert session.exec(select(Submission)).all() == []


def test_receipt_lookup_page(client: TestClient, demo: None) -> None:
    receipt = receipt_of(post_form(client, key="x" * 16).text)
    r = client.post("/r", data={"receipt": receipt})
    assert r.status_code == 200
    assert soup(r.text).find(id="status").get_text() == "新收"
    miss = client.post("/r", data={"receipt": "0000 0000 0000 0000"})
    assert miss.status_code == 404 and "没有找到" in miss.text
    bad = client.post("/r", data={"receipt": "abc"})
    assert bad.status_code == 422 and "16位数字" in bad.text


def test_unknown_page_is_chinese_404(client: TestClient) -> None:
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "没有找到这个页面" in r.text


def test_rate_limit_gives_chinese_429(
    database_url: str, engine: Engine, demo: None
) -> None:
    app = create_app(make_settings(database_url, rate_limit="2/min"))
    with TestClient(app) as c:
        codes = [post_form(c, key=f"key-{i:08d}").status_code for i in range(3)]
        assert codes == [200, 200, 429]
        assert "提交太频繁" in post_form(c).text

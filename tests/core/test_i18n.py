"""Errors in the reader's language: the same bad request in English and in Chinese."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from jinja2 import nodes
from sqlalchemy import Engine

from app.core.i18n import EN as CATALOGUE
from app.core.i18n import translator
from app.core.render import env
from app.main import create_app
from tests.conftest import make_settings
from tests.factories import TEXT
from tests.helpers import soup


@pytest.fixture
def short_client(database_url: str, engine: Engine) -> Iterator[TestClient]:
    """A client of a server that takes at most 20 characters."""
    with TestClient(create_app(make_settings(database_url, max_text_chars=20))) as c:
        yield c


EN = {"Accept-Language": "en-US,en;q=0.9"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def test_messages_with_figures_are_translated_with_their_figures() -> None:
    en = translator("en")
    assert en("单个文件不能超过 10 MB。") == "Each file may be at most 10 MB."
    assert en("内容不能超过 2000 字（现在 2301 字），请精简或分几次提交。").startswith(
        "The text may have at most 2000 characters (it has 2301)."
    )
    assert en("意见征集尚未开始（2026年03月01日起）。") == "Suggestions open on 2026-03-01."
    assert en("第2项的意见不能超过 500 字。") == (
        "The comment on measure 2 may have at most 500 characters."
    )
    # A figure fixed in the catalogued text matches as it is; unknown text passes through.
    assert en("回执码应为16位数字，请核对后重新输入。").startswith("A receipt code has 16 digits")
    assert en("示范县第2小学") == "示范县第2小学"
    assert translator("zh")("单个文件不能超过 10 MB。") == "单个文件不能超过 10 MB。"


# The pages a member of the public reads: all they put through _() must be catalogued.
PUBLIC_TEMPLATES = [
    name
    for name in env.list_templates(extensions=["html"])
    if name.startswith("intake/") or name in ("base.html", "error.html")
]


def test_public_page_text_is_catalogued() -> None:
    missing = []
    for name in PUBLIC_TEMPLATES:
        source = env.loader.get_source(env, name)[0]  # type: ignore[union-attr]
        for call in env.parse(source).find_all(nodes.Call):
            if not (isinstance(call.node, nodes.Name) and call.node.name == "_"):
                continue
            [arg] = call.args
            if isinstance(arg, nodes.Const) and arg.value not in CATALOGUE:
                missing.append(f"{name}: {arg.value}")
    assert len(PUBLIC_TEMPLATES) >= 6
    assert missing == []


def test_api_validation_errors(client: TestClient) -> None:
    for headers, start in ((EN, "The request is not valid: "), (ZH, "请求内容不符合要求：")):
        r = client.post("/api/v1/tag", json={"id": [1], "text": "食堂"}, headers=headers)
        assert r.status_code == 422
        assert r.json()["detail"].startswith(start)


def _error_text(html: str) -> str:
    found = soup(html).find(class_="error")
    assert found is not None, html
    return found.get_text(strip=True)


@pytest.mark.parametrize(
    ("headers", "message"),
    [(EN, "Please write your suggestion."), (ZH, "请填写意见或建议的内容。")],
)
def test_form_validation(
    client: TestClient, demo: None, headers: dict[str, str], message: str
) -> None:
    r = client.post("/u/demo", data={"text": "   ", "anonymous": "1"}, headers=headers)
    assert r.status_code == 422
    assert _error_text(r.text) == message


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (EN, "The text may have at most 20 characters (it has 30)."),
        (ZH, "内容不能超过 20 字（现在 30 字）"),
    ],
)
def test_text_too_long(
    short_client: TestClient, demo: None, headers: dict[str, str], message: str
) -> None:
    r = short_client.post("/u/demo", data={"text": "长" * 30, "anonymous": "1"}, headers=headers)
    assert r.status_code == 422
    assert _error_text(r.text).startswith(message)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (EN, "Only photos (JPG, PNG, WebP, GIF) or PDF files can be sent."),
        (ZH, "只能上传照片（JPG、PNG、WebP、GIF）或 PDF 文件。"),
    ],
)
def test_file_type(client: TestClient, demo: None, headers: dict[str, str], message: str) -> None:
    files = [("files", ("a.exe", b"MZ\x90\x00" * 64, "application/octet-stream"))]
    r = client.post("/u/demo", data={"text": TEXT, "anonymous": "1"}, files=files, headers=headers)
    assert r.status_code == 415
    assert _error_text(r.text) == message


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (EN, "No suggestion has this receipt code. Please check it and try again."),
        (ZH, "没有找到这个回执码对应的意见，请核对后重新输入。"),
    ],
)
def test_receipt_not_found(
    client: TestClient, demo: None, headers: dict[str, str], message: str
) -> None:
    page = client.post("/r", data={"receipt": "1234 5678 9012 3456"}, headers=headers)
    assert page.status_code == 404
    assert _error_text(page.text) == message
    api = client.get("/api/v1/receipts/1234567890123456", headers=headers)
    assert api.status_code == 404
    assert api.json()["detail"] == message


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (EN, "No such school or office. Please check the link or QR code."),
        (ZH, "没有找到这个单位，请核对链接或二维码。"),
    ],
)
def test_unknown_unit(
    client: TestClient, demo: None, headers: dict[str, str], message: str
) -> None:
    r = client.get("/u/no-such-unit", headers=headers)
    assert r.status_code == 404
    assert _error_text(r.text) == message


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (EN, "Too many submissions. Please wait a few minutes."),
        (ZH, "提交太频繁了，请稍等几分钟再试。"),
    ],
)
def test_rate_limit(
    database_url: str,
    engine: Engine,
    demo: None,
    headers: dict[str, str],
    message: str,
) -> None:
    settings = make_settings(database_url, rate_limit="1/10min")
    with TestClient(create_app(settings)) as c:
        assert c.post("/u/demo", data={"text": TEXT, "anonymous": "1"}).status_code == 200
        r = c.post("/u/demo", data={"text": TEXT, "anonymous": "1"}, headers=headers)
    assert r.status_code == 429
    assert _error_text(r.text) == message


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (EN, "The files are too large in total. Please send fewer or smaller photos."),
        (ZH, "提交的内容过大（文件总大小超出限制），请减少或压缩照片后再试。"),
    ],
)
def test_body_too_large(
    database_url: str,
    engine: Engine,
    demo: None,
    headers: dict[str, str],
    message: str,
) -> None:
    settings = make_settings(database_url, max_upload_mb=1, max_files=1)
    files = [("files", ("big.jpg", b"\xff" * (3 * 1024 * 1024), "image/jpeg"))]
    with TestClient(create_app(settings)) as c:
        r = c.post("/u/demo", data={"text": TEXT, "anonymous": "1"}, files=files, headers=headers)
    assert r.status_code == 413
    assert r.text == message

"""The privacy notice (隐私说明): linked from every public page, written from the settings."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from jinja2 import nodes
from sqlmodel import Session

from app.core.config import Settings
from app.core.i18n import EN
from app.core.render import env
from app.privacy.service import describe_notice
from tests.factories import post_form
from tests.helpers import receipt_of, soup


def test_every_public_page_links_the_notice(client: TestClient, demo: None) -> None:
    receipt = receipt_of(post_form(client).text)
    pages = [
        client.get("/").text,
        client.get("/u/demo").text,
        client.get("/r").text,
        client.post("/r", data={"receipt": receipt}).text,
        client.get("/privacy").text,
    ]
    for html in pages:
        link = soup(html).find(id="privacy-link")
        assert link is not None and link["href"] == "/privacy"
    english = soup(client.get("/privacy?lang=en").text)
    assert english.find(id="privacy-link")["href"] == "/privacy?lang=en"  # type: ignore[index]
    assert english.find("h1").get_text() == "Privacy notice"  # type: ignore[union-attr]


def test_notice_follows_the_settings(client: TestClient, settings: Settings) -> None:
    page = soup(client.get("/privacy").text)
    protected = page.find(id="protected").get_text()  # type: ignore[union-attr]
    assert "分开保管" in protected and "试用" not in protected
    kept = page.find(id="kept").get_text()  # type: ignore[union-attr]
    assert f"最多 {settings.max_files} 个，每个不超过 {settings.max_upload_mb} MB" in kept
    english = soup(client.get("/privacy?lang=en").text).get_text()
    assert f"up to {settings.max_files}, {settings.max_upload_mb} MB each" in english


def test_without_a_configured_key_the_notice_says_so(tmp_path: Path, session: Session) -> None:
    dev = Settings(  # type: ignore[call-arg]
        env="dev", database_url=f"sqlite:///{tmp_path}/y.db", data_key=None, _env_file=None
    )
    assert describe_notice(session, settings=dev).key_apart is False


def test_privacy_pages_are_catalogued() -> None:
    missing = []
    for name in env.list_templates(filter_func=lambda n: n.startswith("privacy/")):
        if name == "privacy/admin_rights.html":
            continue  # admin pages are Chinese only
        source = env.loader.get_source(env, name)[0]  # type: ignore[union-attr]
        for call in env.parse(source).find_all(nodes.Call):
            if isinstance(call.node, nodes.Name) and call.node.name == "_":
                [arg] = call.args
                if isinstance(arg, nodes.Const) and arg.value not in EN:
                    missing.append(f"{name}: {arg.value}")
    assert missing == []

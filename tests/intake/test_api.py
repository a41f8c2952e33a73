from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.main import create_app
from app.models import Reply, Submission
from tests.conftest import make_settings

URL = "/api/v1/units/demo/submissions"


def test_create_and_lookup(client: TestClient, demo: None, session: Session) -> None:
    r = client.post(URL, json={"text": "校车太挤，建议增加班次。", "role": "家长"})
    assert r.status_code == 201
    receipt = r.json()["receipt"]
    assert len(receipt.replace(" ", "")) == 16 and r.json()["replayed"] is False
    row = session.exec(select(Submission)).one()
    session.add(
        Reply(
            submission_id=row.id,
            body="已增加一班校车。",
            is_public=False,
            created_at=datetime.now(UTC),
        )
    )
    session.commit()
    got = client.get(f"/api/v1/receipts/{receipt.replace(' ', '-')}")
    assert got.status_code == 200
    body = got.json()
    assert body["status"] == "new" and body["status_label"] == "新收"
    assert body["unit"] == "示范县第一初级中学"
    assert [x["body"] for x in body["replies"]] == ["已增加一班校车。"]


def test_idempotency_key_replays(client: TestClient, demo: None, session: Session) -> None:
    payload = {"text": "作业太多", "idempotency_key": "abc-123-def-456"}
    a = client.post(URL, json=payload).json()
    b = client.post(URL, json=payload).json()
    assert a["receipt"] == b["receipt"] and b["replayed"] is True
    assert len(session.exec(select(Submission)).all()) == 1
    conflict = client.post(URL, json=payload | {"text": "别的内容"})
    assert conflict.status_code == 409 and conflict.json()["code"] == "conflict"


def test_bad_input_is_json_4xx(client: TestClient, demo: None, session: Session) -> None:
    cases = [
        client.post(URL, content=b"{not json", headers={"content-type": "application/json"}),
        client.post(URL, content=b"text=hi", headers={"content-type": "text/plain"}),
        client.post(URL, json={"text": ""}),
        client.post(URL, json={"text": "   "}),
        client.post(URL, json={"text": "x" * 6000}),
        client.post(URL, json={"text": "hi", "role": "外星人"}),
        client.post(URL, json={"text": "hi", "anonymous": False}),
        client.post(URL, json={"text": "hi", "extra": 1}),
        client.post(URL, json=["text"]),
    ]
    for r in cases:
        assert 400 <= r.status_code < 500, r.text
        assert "detail" in r.json()
    assert session.exec(select(Submission)).all() == []
    r = client.post("/api/v1/units/nowhere/submissions", json={"text": "hi"})
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_unknown_receipt(client: TestClient, demo: None) -> None:
    assert client.get("/api/v1/receipts/1234567812345678").status_code == 404
    assert client.get("/api/v1/receipts/12").status_code == 422


def test_nul_bytes_are_dropped(client: TestClient, demo: None, session: Session) -> None:
    r = client.post(URL, json={"text": "有\x00空字符"})
    assert r.status_code == 201
    assert session.exec(select(Submission)).one().text == "有空字符"


def test_openapi_and_health(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    spec = client.get("/openapi.json").json()
    assert "/api/v1/units/{slug}/submissions" in spec["paths"]
    # Swagger UI, served from this host: every script and stylesheet is local.
    docs = client.get("/docs")
    assert docs.status_code == 200
    for ref in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css",
                "/static/swagger-init.js"):
        assert ref in docs.text and client.get(ref).status_code == 200
    assert "http" not in docs.text and "<script>" not in docs.text


def test_tag_takes_only_what_its_schema_says(client: TestClient) -> None:
    text = "老师工作作风需要改进。"
    for good in ("a-1", "7", 7, 7.0, None):
        r = client.post("/api/v1/tag", json={"id": good, "text": text})
        assert r.status_code == 200 and r.json()["id"] == good  # "7" stays a string
    for bad in (False, True, 1.5, [1]):
        r = client.post("/api/v1/tag", json={"id": bad, "text": text})
        assert r.status_code == 422 and r.json()["code"] == "invalid", bad


def test_tag_is_rate_limited(
    database_url: str, engine: Engine, demo: None
) -> None:
    settings = make_settings(database_url, rate_limit="3/min")
    with TestClient(create_app(settings)) as c:
        codes = [c.post("/api/v1/tag", json={"text": "食堂"}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = c.post("/api/v1/tag", json={"text": "食堂"})
        assert refused.json()["code"] == "rate_limited" and "频繁" in refused.json()["detail"]
        # Its own count: submissions from the same address are not used up by tagging.
        assert c.post(URL, json={"text": "食堂"}).status_code == 201


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("TRACE", "/healthz", {"GET"}),
        ("PUT", "/healthz", {"GET"}),
        ("GET", "/api/v1/tag", {"POST"}),
        ("TRACE", "/api/v1/receipts/1234567812345678", {"GET"}),
        ("DELETE", "/u/demo", {"GET", "POST"}),
        ("POST", "/docs", {"GET"}),
        ("DELETE", "/static/app.css", {"GET", "HEAD"}),
        ("PUT", "/openapi.json", {"GET", "HEAD"}),
    ],
)
def test_405_names_the_allowed_methods(
    client: TestClient, demo: None, method: str, path: str, allowed: set[str]
) -> None:
    r = client.request(method, path)
    assert r.status_code == 405
    assert {m.strip() for m in r.headers["allow"].split(",")} == allowed

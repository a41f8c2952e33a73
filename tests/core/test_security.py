"""Security properties checked over the whole app: headers on every route, no third-party
loads, refused archives, and the limiter that makes guessing 53-bit receipts hopeless."""

from __future__ import annotations

import gzip
import io
import math
import re
import zipfile
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.routing import BaseRoute, Mount, Route

from app.core.config import Settings
from app.intake import receipts
from app.main import create_app
from tests.conftest import ROOT, make_settings
from tests.factories import post_form
from tests.helpers import signed_in_admin, soup


def get_paths(app: FastAPI) -> Iterator[str]:
    """Every GET route with placeholder values in its path parameters."""

    def walk(routes: list[BaseRoute], prefix: str) -> Iterator[str]:
        for route in routes:
            included = getattr(route, "original_router", None)  # FastAPI's include_router
            if included is not None:
                yield from walk(list(included.routes), prefix)
            elif isinstance(route, Mount):
                yield from walk(list(route.routes), prefix + route.path)
                if not route.routes:  # StaticFiles
                    yield prefix + route.path + "/app.css"
            elif isinstance(route, Route) and "GET" in (route.methods or set()):
                path = route.path
                for name, convertor in route.param_convertors.items():
                    value = "1" if type(convertor).__name__ == "IntegerConvertor" else "demo"
                    path = re.sub(r"\{" + name + r"(:[^}]*)?\}", value, path)
                yield prefix + path

    yield from walk(list(app.routes), "")


def assert_secure_headers(path: str, headers: object) -> None:
    h = headers  # starlette Headers: case-insensitive
    csp = h.get("content-security-policy", "")  # type: ignore[attr-defined]
    assert "frame-ancestors 'none'" in csp, path
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
    assert h.get("x-content-type-options") == "nosniff", path  # type: ignore[attr-defined]
    assert h.get("referrer-policy") == "no-referrer", path  # type: ignore[attr-defined]


def assert_same_origin(path: str, html: str) -> None:
    page = soup(html)
    for tag in page.find_all(["script", "link", "img", "iframe", "source", "form", "a"]):
        for attr in ("src", "href", "action"):
            value = tag.get(attr)
            if value and not (tag.name == "a" and attr == "href"):
                assert not re.match(r"^\s*(https?:)?//", str(value)), (path, str(tag))


def test_route_loop_covers_the_app(client: TestClient) -> None:
    paths = list(get_paths(client.app))  # type: ignore[arg-type]
    assert "/u/demo" in paths and "/healthz" in paths and "/static/app.css" in paths
    assert any(p.startswith("/admin") for p in paths)
    assert any(p.startswith("/api/v1/receipts/") for p in paths)


@pytest.mark.parametrize("logged_in", [False, True])
def test_every_get_route_sends_security_headers_and_never_500(
    logged_in: bool, client: TestClient, engine: Engine, demo: None
) -> None:
    if logged_in:
        signed_in_admin(client, engine, username="sec-admin")
    for path in get_paths(client.app):  # type: ignore[arg-type]
        r = client.get(path, follow_redirects=False)
        assert r.status_code < 500, (path, r.status_code, r.text[:300])
        assert_secure_headers(path, r.headers)
        if r.headers.get("content-type", "").startswith("text/html"):
            assert_same_origin(path, r.text)
    # Error responses made outside the routes carry them too: 404, 405, 413.
    assert_secure_headers("404", client.get("/no/such/page").headers)
    assert_secure_headers("405", client.delete("/u/demo").headers)


def test_middleware_413_has_headers(client: TestClient, settings: Settings, demo: None) -> None:
    limit = settings.max_files * settings.max_upload_bytes + 1024 * 1024
    r = client.post(
        "/u/demo",
        content=b"x" * (limit + 1),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413 and "过大" in r.text
    assert_secure_headers("413", r.headers)


# src=, href=, action=, url(...) and @import pointing at another host (http://, https://, //).
EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|action|srcset)\s*=\s*["']?\s*|url\(\s*["']?\s*|@import\s+["']?\s*)"""
    r"""(?:https?:)?//""",
    re.IGNORECASE,
)


def test_no_template_or_static_file_loads_from_another_host() -> None:
    files = [
        p
        for folder in (ROOT / "app" / "templates", ROOT / "app" / "static")
        for p in folder.rglob("*")
        if p.is_file() and p.suffix in {".html", ".css", ".js", ".svg", ".txt"}
    ]
    assert len(files) >= 5
    offenders = [
        f"{p.relative_to(ROOT)}: {m.group(0)}"
        for p in files
        for m in EXTERNAL.finditer(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_scanner_would_catch_a_third_party_load() -> None:
    for bad in (
        '<script src="https://cdn.example/x.js">',
        "<link href=//fonts.example/css>",
        "body { background: url('http://x.example/a.png') }",
        '@import "https://x.example/a.css";',
    ):
        assert EXTERNAL.search(bad), bad
    assert not EXTERNAL.search('<script src="/static/form.js">')


def _archives() -> dict[str, bytes]:
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("照片.jpg", b"\xff\xd8\xff\xe0 inside a zip")
    return {
        "zip": zipped.getvalue(),
        # Real magic numbers of RAR 5 and 7-Zip, then filler.
        "rar": b"Rar!\x1a\x07\x01\x00" + b"\x00" * 64,
        "7z": b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 64,
        "gz": gzip.compress(b"\xff\xd8\xff\xe0 a gzipped photo"),
    }


@pytest.mark.parametrize("kind", ["zip", "rar", "7z", "gz"])
def test_archives_are_refused_with_415(kind: str, client: TestClient, demo: None) -> None:
    data = _archives()[kind]
    for name, ctype in ((f"材料.{kind}", "application/octet-stream"), ("photo.jpg", "image/jpeg")):
        r = post_form(client, text="见附件", role=None, files=[(name, ctype, data)])
        assert r.status_code == 415 and "只能上传照片" in r.text, (kind, name)


def test_receipts_are_53_bits_and_guessing_is_rate_limited() -> None:
    # 16 digits is below 128 bits, so the lookup limit is what makes guessing hopeless.
    assert receipts.DIGITS * math.log2(10) > 53
    default = Settings(_env_file=None)  # type: ignore[call-arg]
    rate = default.rate(default.receipt_lookup_limit)
    assert rate is not None and rate[0] / rate[1] <= 1  # at most one guess a second per address


@pytest.mark.parametrize("where", ["page", "api"])
def test_receipt_lookup_limit_on_page_and_api(
    where: str, database_url: str, engine: Engine, demo: None
) -> None:
    app = create_app(make_settings(database_url, receipt_lookup_limit="3/min"))
    with TestClient(app) as c:

        def guess(n: int) -> int:
            code = f"{n:016d}"
            if where == "page":
                return c.post("/r", data={"receipt": code}).status_code
            return c.get(f"/api/v1/receipts/{code}").status_code

        assert [guess(n) for n in range(4)] == [404, 404, 404, 429]
        if where == "page":
            assert "查询太频繁" in c.post("/r", data={"receipt": "1" * 16}).text
        else:
            r = c.get("/api/v1/receipts/" + "1" * 16)
            assert r.json()["code"] == "rate_limited"


def test_codes_are_limited_against_guessing(client: TestClient) -> None:
    """Every route that takes a secret code (receipt, evaluation code, idea token) is behind a
    per-address limiter, since none of the codes reaches 128 bits."""
    from app.campaign import evaluation
    from app.campaign.public_routes import limit_code_checks
    from app.core.deps import limit_lookups, limit_submissions

    assert evaluation.CODE_CHARS * 5 == 80  # base32
    guarded = {
        ("POST", "/r"): limit_lookups,
        ("GET", "/api/v1/receipts/{receipt}"): limit_lookups,
        ("POST", "/u/{slug}/evaluate"): limit_submissions,
        ("GET", "/u/{slug}/evaluate"): limit_code_checks,
        ("POST", "/idea/{token}"): limit_submissions,
    }
    found: dict[tuple[str, str], object] = {}

    def walk(routes: list[BaseRoute]) -> None:
        for route in routes:
            included = getattr(route, "original_router", None)
            if included is not None:
                walk(list(included.routes))
            elif isinstance(route, Route):
                for method in route.methods or ():
                    found[(method, route.path)] = route

    walk(list(client.app.routes))  # type: ignore[attr-defined]
    for (method, path), limiter in guarded.items():
        route = found[(method, path)]
        calls = [d.call for d in route.dependant.dependencies]  # type: ignore[attr-defined]
        assert limiter in calls, (method, path)

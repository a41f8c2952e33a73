"""/admin/reports: download buttons, scoped like the other admin pages; and the CLI."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from docx import Document
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.models import AdminRole, AuditLog
from tests.conftest import run_cli, server_env
from tests.factories import PASSWORD, add_admin
from tests.helpers import login, signed_in_admin, soup
from tests.reports.conftest import PERIOD_TEXT, ReportData, docx_lines

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DATES = "from=2026-11-10&to=2026-11-30"


def test_page_offers_every_report_in_both_formats(
    client: TestClient, engine: Engine, demo: None
) -> None:
    signed_in_admin(client, engine)
    page = soup(client.get("/admin/reports").text)
    form = page.find("form", action="/admin/reports/download")
    assert form is not None and form.get("method") == "get"
    kinds = [o["value"] for o in form.find("select", attrs={"name": "kind"}).find_all("option")]
    assert kinds == ["summary", "selfcheck", "rectification", "ideas"]
    units = [o["value"] for o in form.find("select", attrs={"name": "unit"}).find_all("option")]
    assert sorted(units) == ["demo", "demo2"]
    assert [b["value"] for b in form.find_all("button")] == ["docx", "pdf"]
    assert form.find("input", attrs={"name": "scope", "value": "bureau"}) is not None
    assert page.find("a", href="/admin/reports") is not None  # in the navigation


def test_download_word_and_pdf(
    client: TestClient, engine: Engine, session: Session, report_data: ReportData
) -> None:
    signed_in_admin(client, engine)
    r = client.get(f"/admin/reports/download?kind=summary&unit=demo&{DATES}&format=docx")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == DOCX
    assert "summary-demo-20261110-20261130.docx" in r.headers["content-disposition"]
    assert r.headers["cache-control"] == "no-store"
    lines = docx_lines(r.content)
    checks = report_data.checks("demo")
    assert PERIOD_TEXT in "\n".join(lines) and f"（三）工作作风方面（{checks[3]}条）" in lines
    r = client.get(f"/admin/reports/download?kind=ideas&scope=bureau&{DATES}&format=pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    actions = session.exec(select(AuditLog.action)).all()
    assert actions.count("report.download") == 2


def test_unit_admin_gets_only_their_unit(
    client: TestClient, engine: Engine, report_data: ReportData
) -> None:
    add_admin(engine, username="clerk", role=AdminRole.unit_admin, unit_slug="demo2")
    login(client, "clerk", PASSWORD)
    page = soup(client.get("/admin/reports").text)
    units = [o["value"] for o in page.find("select", attrs={"name": "unit"}).find_all("option")]
    assert units == ["demo2"] and page.find("input", attrs={"name": "scope"}) is None
    r = client.get(f"/admin/reports/download?kind=summary&unit=demo&{DATES}")
    assert r.status_code == 404 and "无权查看" in r.text
    r = client.get(f"/admin/reports/download?kind=summary&unit=demo2&scope=bureau&{DATES}")
    assert r.status_code == 403 and "只有教育局管理员" in r.text
    r = client.get(f"/admin/reports/download?kind=summary&unit=demo2&{DATES}")
    assert r.status_code == 200
    lines = docx_lines(r.content)
    assert lines[0].startswith("示范县实验小学") and "另一所学校的意见" in "\n".join(lines)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("kind=minutes&unit=demo", "没有这种报告"),
        ("kind=summary&unit=demo&format=odt", "不支持的格式"),
        ("kind=summary&unit=demo&from=2026-13-01", "开始日期应是"),
        ("kind=summary&unit=demo&from=2026-12-01&to=2026-11-01", "开始日期不能晚于结束日期"),
        ("kind=summary&unit=demo&phase=x", "活动阶段不正确"),
    ],
)
def test_bad_requests_are_refused_in_chinese(
    client: TestClient, engine: Engine, demo: None, query: str, message: str
) -> None:
    signed_in_admin(client, engine)
    r = client.get(f"/admin/reports/download?{query}")
    assert r.status_code == 422 and message in r.text, r.text


def test_cli_writes_each_report(
    engine: Engine, database_url: str, tmp_path: Path, report_data: ReportData
) -> None:
    env = server_env(database_url)
    out = tmp_path / "selfcheck.docx"
    done = run_cli(
        env,
        "report",
        "selfcheck",
        "--unit",
        "demo",
        "--from",
        "2026-11-10",
        "--to",
        "2026-11-30",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    assert "已写入自查报告" in done.stdout
    lines = [p.text for p in Document(io.BytesIO(out.read_bytes())).paragraphs]
    assert "一、思想解放方面的差距" in lines and PERIOD_TEXT in "\n".join(lines)
    pdf = tmp_path / "bureau.pdf"
    done = run_cli(
        env,
        "report",
        "summary",
        "--bureau",
        "--from",
        "2026-11-10",
        "--to",
        "2026-11-30",
        "--out",
        str(pdf),
    )
    assert done.returncode == 0, done.stderr and pdf.read_bytes().startswith(b"%PDF")
    done = run_cli(env, "report", "ideas", "--unit", "nowhere", "--out", str(out))
    assert done.returncode == 2 and "错误：没有找到这个单位" in done.stderr

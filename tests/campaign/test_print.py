"""Campaign printables from the database, checked the way a reader sees them: text and QR."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.campaign import evaluation, printables
from app.campaign.service import get_intake_state
from app.documents.qr import qr_png
from app.models import Unit
from tests.helpers import signed_in_admin, soup

BASE = "https://yijian.example.cn"


def test_letter_poster_and_forms(
    engine: Engine,
    demo: None,
    tmp_path: Path,
    pdf_text: Callable[[bytes], str],
    page_count: Callable[[bytes], int],
    decode_pdf_page: Callable[[bytes, int], list[str]],
    decode_png: Callable[[Path], list[str]],
) -> None:
    with Session(engine) as s:
        context = printables.print_context(s, slug="demo")
        state = get_intake_state(s, slug="demo")
        codes = evaluation.create_codes(s, secret="k" * 40, unit_id=state.unit_id, count=5)
    solicit = state.phases[1]

    letter = printables.letter_pdf(context, base_url=BASE)
    text = pdf_text(letter)
    short = f"{BASE}/s/{printables.short_code(unit_id=state.unit_id)}"
    assert "示范县第一初级中学" in text and short in text
    assert page_count(letter) == 1
    assert "yijian-demo@school.example" in text
    start, end = solicit.starts_on, solicit.ends_on
    assert f"{start.year}年{start.month}月{start.day}日" in text
    assert f"{end.year}年{end.month}月{end.day}日" in text
    found = [u for p in range(1, page_count(letter) + 1) for u in decode_pdf_page(letter, p)]
    assert sorted(found) == sorted(
        [f"{BASE}/u/demo"] + [f"{BASE}/u/demo?a={a}" for a in printables.AUDIENCE_LABELS]
    )

    poster = printables.poster(context, base_url=BASE)
    assert f"截止日期：{end.year}年{end.month}月{end.day}日" in pdf_text(poster)
    assert decode_pdf_page(poster, 1) == [f"{BASE}/u/demo"]

    forms = printables.evaluation_forms(context, base_url=BASE, codes=codes)
    assert page_count(forms) == 2
    assert sorted(decode_pdf_page(forms, 1)) == sorted(
        f"{BASE}/u/demo/evaluate?code={c}" for c in codes[:4]
    )
    assert codes[4][:4] in pdf_text(forms)
    evaluate = printables.short_url(
        base_url=BASE, unit_id=state.unit_id, target=printables.EVALUATE
    )
    assert pdf_text(forms).count(evaluate) == 5

    path = tmp_path / "qr.png"
    path.write_bytes(qr_png(printables.form_url(base_url=BASE, slug="demo", audience="retiree")))
    assert decode_png(path) == [f"{BASE}/u/demo?a=retiree"]


def test_short_links_redirect_to_each_audience_form(
    client: TestClient, engine: Engine, demo: None
) -> None:
    with Session(engine) as s:
        units = {unit.slug: unit.id for unit in s.exec(select(Unit)).all()}
    codes = {
        (slug, target): printables.short_code(unit_id=unit_id, target=target)
        for slug, unit_id in units.items()
        if unit_id is not None
        for target in (None, *printables.AUDIENCE_LABELS, printables.EVALUATE)
    }
    assert len(set(codes.values())) == len(codes)
    for (slug, target), code in codes.items():
        assert len(code) == 6 and set(code) <= set(printables.SHORT_ALPHABET)
        # Typed from paper in capitals, it still works.
        for typed in (code, code.upper()):
            r = client.get(f"/s/{typed}", follow_redirects=False)
            assert r.status_code == 302
            expected = {None: f"/u/{slug}", printables.EVALUATE: f"/u/{slug}/evaluate"}.get(
                target, f"/u/{slug}?a={target}"
            )
            assert r.headers["location"] == expected
    # The redirect lands on the form with the audience's role chosen.
    form = client.get(f"/s/{codes[('demo', 'retiree')]}")
    assert form.status_code == 200
    picked = soup(form.text).select_one("input[name=role][checked]")
    assert picked is not None and picked["value"] == "离退休干部"


def test_unknown_short_link_is_a_chinese_404(client: TestClient, demo: None) -> None:
    for code in ("zzzzzz", "0o1lI", "x" * 300):
        r = client.get(f"/s/{code}", follow_redirects=False)
        assert r.status_code == 404
        assert "没有这个网址" in r.text


def test_admin_letter_is_one_page_with_short_links(
    client: TestClient,
    engine: Engine,
    demo: None,
    page_count: Callable[[bytes], int],
    pdf_text: Callable[[bytes], str],
) -> None:
    signed_in_admin(client, engine)
    r = client.get("/admin/print/letter.pdf", params={"unit": "demo"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert page_count(r.content) == 1
    with Session(engine) as s:
        unit_id = s.exec(select(Unit.id).where(Unit.slug == "demo")).one()
    assert unit_id is not None
    shown = [node.get_text() for node in soup(client.get("/admin/print").text).select(".short-url")]
    assert printables.short_url(base_url="http://127.0.0.1:8000", unit_id=unit_id) in shown
    text = pdf_text(r.content)
    for audience in (None, *printables.AUDIENCE_LABELS):
        assert f"/s/{printables.short_code(unit_id=unit_id, target=audience)}" in text

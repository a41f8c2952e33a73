"""Campaign printables from the database, checked the way a reader sees them: text and QR."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from app.campaign import evaluation, printables
from app.campaign.service import get_intake_state
from app.documents.qr import qr_png

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
    assert "示范县第一初级中学" in text and f"{BASE}/u/demo" in text
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

    path = tmp_path / "qr.png"
    path.write_bytes(qr_png(printables.form_url(base_url=BASE, slug="demo", audience="retiree")))
    assert decode_png(path) == [f"{BASE}/u/demo?a=retiree"]

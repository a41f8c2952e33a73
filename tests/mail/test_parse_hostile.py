"""Hostile mail parses in linear time (docs/threat-model.md, "One crafted email").

The bounds are generous: they catch quadratic blow-up (which turns these inputs into hours),
not slowness. Each input is several megabytes, as a mailbox happily delivers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.mail.parse import MalformedMail, ParsedMail, parse_message
from app.mail.text import html_to_text, normalise_lines, strip_quotes

MB = 1024 * 1024
# Seconds for any input below, on a busy two-core machine (most take one or two); the old
# patterns took hours to days for most of them.
BOUND = 20.0


def _elapsed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _html_mail(html: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "a@example.test"
    msg["Subject"] = "x"
    msg.set_content(html, subtype="html")
    return msg.as_bytes()


def _nested_mime(depth: int) -> bytes:
    inner = "Content-Type: text/plain\n\nhi\n"
    for i in range(depth):
        inner = f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n{inner}\n--b{i}--\n'
    return f"From: a@example.test\nSubject: x\n{inner}".encode()


def _many_parts(count: int) -> bytes:
    part = "--b\nContent-Type: text/html\n\n<p>" + "<i> </i>" * 10 + "\n"
    head = "From: a@example.test\nContent-Type: multipart/mixed; boundary=b\n\n"
    return f"{head}{part * count}--b--\n".encode()


def _parse_or_refuse(raw: bytes) -> ParsedMail | None:
    try:
        return parse_message(raw)
    except MalformedMail:
        return None


HOSTILE: dict[str, Callable[[], object]] = {
    # 写道 then millions of blanks before more text: the attribution pattern backtracked.
    "attribution-spaces": lambda: strip_quotes("在 2024年5月1日 张三 写道" + " " * 5 * MB + "正文"),
    "wrote-spaces": lambda: strip_quotes("On 2024-05-01 a@b.c wrote" + " \t" * (2 * MB) + "x"),
    "from-spaces": lambda: strip_quotes(("发件人" + " " * 5000 + "x\n") * (5 * MB // 5000)),
    "long-attribution-lines": lambda: strip_quotes(
        ("在 2024年5月1日 10:00 a@b.c " * 20000 + "写道 " * 1000 + "：\n") * 10
    ),
    "break-spaces-html": lambda: html_to_text("<pre>" + " " * 5 * MB + "x</pre>"),
    "nested-tags": lambda: html_to_text("<i>" * (MB // 2) + " " + "</i>" * (MB // 2)),
    "tag-pairs": lambda: html_to_text("<i> </i>" * (5 * MB // 8)),
    "unclosed-tags": lambda: html_to_text("<a " * (5 * MB // 3)),
    "unclosed-quotes": lambda: html_to_text('<a b="' * (5 * MB // 6)),
    "declarations": lambda: html_to_text("<!" * (5 * MB // 2)),
    "html-mail": lambda: _parse_or_refuse(_html_mail("<p>" + "<i> </i>" * (5 * MB // 8))),
    "deep-mime": lambda: _parse_or_refuse(_nested_mime(5000)),
    "many-parts": lambda: _parse_or_refuse(_many_parts(25000)),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_parses_in_linear_time(name: str) -> None:
    assert _elapsed(HOSTILE[name]) < BOUND


def test_hostile_html_still_renders_its_text() -> None:
    # Linear, and still right: blocks make lines, inline tags nothing, and a "<" that starts
    # no tag is text.
    html = "<div>" + "<i>" * 10000 + "第一行" + "</i>" * 10000 + "</div><p>第二段&amp;</p>"
    assert html_to_text(html) == "第一行\n\n第二段&"
    assert html_to_text('<a href="x>y">链接</a> 1 < 2 <b') == "链接 1 < 2 <b"


# Pieces that the old patterns backtracked over, and pieces of markers and markup.
_PIECES = st.sampled_from(
    [" ", "\t", "\n", "\r\n", "\u3000", "\xa0", "写道", "wrote", ":", "：", "在", "On ",
     "2024年", "10:00", "@", "From:", "发件人：", "Sent:", "发送时间：", "-- ", "> ", "---",
     "<", ">", "<i>", "</i>", "<p>", "</div>", "<br>", '"', "'", "<!--", "<script>", "&amp;",
     "\ue000", "\ue001", "x", "字"]
)  # fmt: skip
_LONG_TEXT = st.lists(st.tuples(_PIECES, st.integers(1, 40_000)), max_size=12).map(
    lambda runs: "".join(piece * count for piece, count in runs)
)


@settings(
    max_examples=60,
    deadline=timedelta(seconds=BOUND),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(_LONG_TEXT)
def test_text_functions_on_long_hostile_text(text: str) -> None:
    rendered = html_to_text(text)
    assert "\ue000" not in rendered and "\ue001" not in rendered
    assert normalise_lines(rendered) == rendered
    kept = strip_quotes(text)
    assert normalise_lines(kept) == kept
    assert normalise_lines(strip_quotes(rendered)) == strip_quotes(rendered)

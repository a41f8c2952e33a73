"""parse_message raises nothing but MalformedMail, whatever the bytes."""

from __future__ import annotations

from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.mail.parse import MalformedMail, parse_message
from app.mail.text import html_to_text
from tests.conftest import FLANKER


def _seeds() -> list[bytes]:
    alt = MIMEMultipart(
        "alternative",
        _subparts=[
            MIMEText("你好，意见\n> quoted", "plain", "gb18030"),
            MIMEText("<p>你好</p>", "html", "utf-8"),
        ],
    )
    alt["From"] = "=?gbk?B?1cXI/Q==?= <a@b.c>"
    alt["Subject"] = "【匿名】回执 1234 5678 9012 3456"
    seeds = [alt.as_bytes()]
    if FLANKER.is_dir():
        seeds += [p.read_bytes()[:4000] for p in sorted(FLANKER.glob("*.eml"))]
    return seeds


SEEDS = _seeds()


def _check(raw: bytes) -> None:
    try:
        mail = parse_message(raw)
    except MalformedMail as exc:
        assert exc.reason
        return
    assert mail.size == len(raw)
    assert mail.dedup_key


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(raw: bytes) -> None:
    _check(raw)


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 12))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(
                st.sampled_from(
                    [
                        b"\r\n",
                        b"--",
                        b"=?",
                        b"?=",
                        b"\xd6\xd0",
                        b"\xff",
                        b"boundary=",
                        b":",
                        b"\x00",
                        b"Content-Type: multipart/mixed; boundary=x\r\n",
                        b"=?utf-8?B?",
                        b"<",
                    ]
                )
            )
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 50))]
        else:
            del data[pos:]
    return bytes(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_mutated_real_messages(raw: bytes) -> None:
    _check(raw)


def test_deep_nesting_is_malformed_or_parsed() -> None:
    raw = b"Content-Type: multipart/mixed; boundary=a\r\n\r\n" + (
        b"--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n" * 3000
    )
    _check(raw)


def test_empty_input() -> None:
    for raw in (b"", b"   \r\n"):
        try:
            parse_message(raw)
        except MalformedMail as exc:
            assert exc.reason == "empty"
        else:
            raise AssertionError("empty input must be MalformedMail")


def test_html_blocks() -> None:
    html = "<div>a</div><div>b</div><div><br></div><div>c</div><p>d</p>x<br>y<style>z</style>"
    assert html_to_text(html) == "a\nb\n\nc\n\nd\n\nx\ny"

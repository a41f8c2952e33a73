"""Turning message bodies into clean text: HTML to text, and cutting quoted history/signatures."""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning
from bs4.element import Comment, NavigableString, Tag

# Elements whose content is never visible text.
_INVISIBLE = ("script", "style", "head", "title", "noscript", "template", "object", "iframe")
# Elements that start a new line in a browser; without newlines around them, table cells and
# paragraphs of Chinese mail run together into one unreadable line.
_BLOCKS = (
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tr",
    "ul",
    "td",
    "th",
)
_PARAGRAPHS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol"}
)
# Private-use characters mark block boundaries until they are turned into newlines.
_BLOCK = "\ue000"
_PARA = "\ue001"
_BREAK_RUN = re.compile(r"[ \t\n\ue000\ue001]*[\n\ue000\ue001][ \t\n\ue000\ue001]*")
_SPACE_RUN = re.compile(r"[ \t\r\n\f\v\u00a0\u3000]+")


def html_to_text(html: str) -> str:
    """Render HTML as plain text with block-aware newlines, dropping styles and scripts."""
    with warnings.catch_warnings():
        # Short bodies such as "Hello" look like a file name to bs4, which then warns; that is
        # expected input here, not a mistake.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html.replace(_BLOCK, "").replace(_PARA, ""), "html.parser")
    for tag in soup.find_all(_INVISIBLE):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    # HTML collapses source whitespace; do it before adding our own newlines.
    for string in soup.find_all(string=True):
        if isinstance(string, NavigableString) and string.find_parent("pre") is None:
            string.replace_with(_SPACE_RUN.sub(" ", str(string)))
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(_BLOCKS):
        if isinstance(tag, Tag):
            marker = _PARA if tag.name in _PARAGRAPHS else _BLOCK
            tag.insert_before(marker)
            tag.insert_after(marker)
    return normalise_lines(_BREAK_RUN.sub(_render_break, soup.get_text()))


def _render_break(match: re.Match[str]) -> str:
    """Adjacent block boundaries make one line break, as in a browser: <div>a</div><div>b</div>
    is two lines, not two paragraphs. Paragraphs get a blank line; <br>s inside the run add
    their own lines (QQ Mail writes empty lines as <div><br></div>)."""
    run = match.group(0)
    hard = run.count("\n")
    if _PARA in run:
        return "\n" * max(2, hard + 1)
    if _BLOCK in run:
        return "\n" * (hard + 1)
    return "\n" * hard


def normalise_lines(text: str) -> str:
    """Strip trailing spaces, collapse runs of blank lines, trim the ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    out: list[str] = []
    for line in text.split("\n"):
        line = line.strip(" \t")
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).strip("\n")


# A line from which everything below is quoted history (checked on stripped lines).
_CUT_LINES = [
    re.compile(r"^-{2,}\s*原始邮件\s*-{2,}$"),
    re.compile(r"^-{2,}\s*原始郵件\s*-{2,}$"),
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}$", re.IGNORECASE),
    re.compile(r"^-{2,}\s*回复的原邮件\s*-{2,}$"),
    # Phone signatures: everything below them is the quoted message.
    re.compile(r"^(发自|来自|寄自)我的\s*\S.{0,24}$"),
    re.compile(
        r"^发自(网易邮箱|手机QQ邮箱|QQ邮箱|Foxmail|新浪邮箱|搜狐邮箱).{0,24}$", re.IGNORECASE
    ),
    re.compile(r"^Sent from my \w[\w ]{0,30}$", re.IGNORECASE),
]
# "在 2024年5月1日 周三 10:00，张三 <a@b.c> 写道：" / "On Mon, ... wrote:". The line must also carry
# a date, time or address, so that "老师在作业本上写道：" in real content is not cut.
_ATTRIBUTION = re.compile(r"(写道|寫道|wrote)\s*[:：]?\s*$", re.IGNORECASE)
_ATTRIBUTION_START = re.compile(r"^(在|于|於|On\b|.{0,80}?于\s*\d)", re.IGNORECASE)
_ATTRIBUTION_EVIDENCE = re.compile(r"@|\d{4}\s*[年/\-.]|\d{1,2}:\d{2}")
# Outlook header blocks: "From: x" / "发件人: x" followed shortly by "Sent:" / "发送时间:".
_HEADER_FROM = re.compile(r"^\*?\s*(From|发件人|寄件者)\s*\*?\s*[:：]", re.IGNORECASE)
_HEADER_SENT = re.compile(
    r"^\*?\s*(Sent|Date|发送时间|时间|日期|寄件日期)\s*\*?\s*[:：]", re.IGNORECASE
)
_SEPARATOR = re.compile(r"^[-_=*~—]{3,}$")


def _is_attribution(line: str) -> bool:
    return bool(
        _ATTRIBUTION.search(line)
        and _ATTRIBUTION_START.search(line)
        and _ATTRIBUTION_EVIDENCE.search(line)
        and len(line) < 300
    )


def _cut_index(lines: list[str]) -> int | None:
    for i, raw in enumerate(lines):
        # RFC 3676 signature separator: exactly "-- " (the trailing space is significant).
        if raw.rstrip("\r") == "-- ":
            return i
        line = raw.strip()
        if any(p.match(line) for p in _CUT_LINES):
            return i
        if _is_attribution(line):
            return i
        # Gmail wraps long attributions over two lines.
        if i + 1 < len(lines) and _is_attribution(f"{line} {lines[i + 1].strip()}"):
            nxt = lines[i + 1].strip()
            if _ATTRIBUTION.search(nxt) and not _ATTRIBUTION.search(line):
                return i
        if _HEADER_FROM.match(line) and any(
            _HEADER_SENT.match(following.strip()) for following in lines[i + 1 : i + 5]
        ):
            return i
    return None


def strip_quotes(text: str) -> str:
    """Cut quoted reply history and signatures from a plain-text body.

    If nothing would be left (the whole message is a forward or a quote), the text is kept
    whole: losing a submission is worse than keeping some history.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _cut_index(lines)
    if cut is not None:
        lines = lines[:cut]
    lines = [line for line in lines if not line.lstrip().startswith(">")]
    while lines and (not lines[-1].strip() or _SEPARATOR.match(lines[-1].strip())):
        lines.pop()
    cleaned = normalise_lines("\n".join(lines))
    return cleaned if cleaned else normalise_lines(text)

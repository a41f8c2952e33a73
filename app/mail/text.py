"""Turning message bodies into clean text: HTML to text, and cutting quoted history/signatures."""

from __future__ import annotations

import re
from html import unescape

# Elements whose content is never visible text.
_INVISIBLE = ("script", "style", "head", "title", "noscript", "template", "object", "iframe")
# Elements that start a new line in a browser; without newlines around them, table cells and
# paragraphs of Chinese mail run together into one unreadable line.
_BLOCKS = frozenset(
    (
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
)
_PARAGRAPHS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol"}
)
# Private-use characters mark block boundaries until they are turned into newlines.
_BLOCK = "\ue000"
_PARA = "\ue001"
# One class, one quantifier: each character is looked at once. (The old "blanks, a break,
# blanks" pattern backtracked over every run of spaces without a break: quadratic.)
_BREAK_RUN = re.compile(r"[ \t\n\ue000\ue001]+")
_SPACE_RUN = re.compile(r"[ \t\r\n\f\v\u00a0\u3000]+")


def html_to_text(html: str) -> str:
    """Render HTML as plain text with block-aware newlines, dropping styles and scripts."""
    renderer = _Renderer()
    renderer.feed(html.replace(_BLOCK, "").replace(_PARA, ""))
    return normalise_lines(_BREAK_RUN.sub(_render_break, "".join(renderer.out)))


# Elements without content (bs4's list): a start tag does not open anything.
_VOID = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "menuitem",
        "meta", "param", "source", "track", "wbr", "basefont", "bgsound", "command", "frame",
        "image", "isindex", "nextid", "spacer",
    }
)  # fmt: skip
# Elements that change how the text inside them is rendered (hidden, or blanks kept).
_MODES = frozenset((*_INVISIBLE, "pre"))
# Whose content is raw text up to the matching end tag, never markup.
_RAW_TEXT = {name: re.compile(rf"</{name}\b", re.IGNORECASE) for name in ("script", "style")}
# A start or end tag (attribute values may hold ">" inside quotes), or the start of a comment,
# CDATA section or declaration; any other "<" is text. Possessive quantifiers, disjoint
# alternatives and no unquoted "<" inside a tag: a failed attempt stops at the next "<" or
# closing quote, so no stretch of the input is scanned more than a few times.
_TOKEN = re.compile(
    r"""<(/?)([A-Za-z][^\s/<>]*+)((?:[^<>"']++|"[^"]*+"|'[^']*+')*+)>|<!--|<!\[CDATA\[|<[!?]"""
)


class _Renderer:
    """A streaming HTML-to-text renderer: one left-to-right pass with a stack of open tags,
    no tree and no recursion. bs4 and the stdlib HTMLParser take seconds per megabyte of
    hostile markup (thousands of nested or unclosed tags, "<!" without ">"); this is linear."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self._pending: list[str] = []
        self._open: list[str] = []
        self._counts: dict[str, int] = {}
        self._hidden = 0
        self._pre = 0

    def feed(self, html: str) -> None:
        pos = 0
        while (match := _TOKEN.search(html, pos)) is not None:
            if match.start() > pos:
                self._pending.append(html[pos : match.start()])
            slash, name, attributes = match.groups()
            if name is None:
                pos = self._declaration(html, match.start())
                continue
            pos = match.end()
            name = name.lower()
            if slash:
                self._end(name)
                continue
            self._start(name, closed=attributes.endswith("/"))
            raw = _RAW_TEXT.get(name)
            if raw is not None and self._open[-1:] == [name]:
                found = raw.search(html, pos)
                pos = found.start() if found else len(html)
        self._pending.append(html[pos:])
        self._flush()
        while self._open:
            self._close(self._open.pop())

    def _declaration(self, html: str, lt: int) -> int:
        """Skip a comment or declaration, keep a CDATA section's text; the position after."""
        if html.startswith("<!--", lt):
            close = html.find("-->", lt + 4)
            return len(html) if close < 0 else close + 3
        if html.startswith("<![CDATA[", lt):
            close = html.find("]]>", lt)
            close = len(html) if close < 0 else close
            self._pending.append(html[lt + 9 : close])
            return close + 3
        close = html.find(">", lt)
        if close < 0:
            # No ">" anywhere after this: the rest is text.
            self._pending.append(html[lt:])
            return len(html)
        return close + 1

    def _start(self, name: str, *, closed: bool) -> None:
        if name == "br":
            if not self._hidden:
                self._flush()
                self.out.append("\n")
            return
        if name in _VOID or closed:
            self._mark(name)
            self._mark(name)
            return
        self._mark(name)
        self._open.append(name)
        self._counts[name] = self._counts.get(name, 0) + 1
        if name in _MODES:
            self._flush()
            self._hidden += name in _INVISIBLE
            self._pre += name == "pre"

    def _end(self, name: str) -> None:
        if not self._counts.get(name):
            return  # nothing to close: ignored, as by browsers
        while True:
            tag = self._open.pop()
            self._close(tag)
            if tag == name:
                return

    def _close(self, tag: str) -> None:
        self._counts[tag] -= 1
        if tag in _MODES:
            self._flush()
            self._hidden -= tag in _INVISIBLE
            self._pre -= tag == "pre"
        self._mark(tag)

    def _mark(self, name: str) -> None:
        if name in _BLOCKS and not self._hidden:
            self._flush()
            self.out.append(_PARA if name in _PARAGRAPHS else _BLOCK)

    def _flush(self) -> None:
        """Emit the text collected since the last block, <br> or change of mode: entities are
        decoded and blanks collapsed once per run of text, not once per inline tag."""
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        if self._hidden:
            return
        text = unescape(text).replace(_BLOCK, "").replace(_PARA, "")
        # HTML collapses source whitespace (except in <pre>); our own newlines come later.
        self.out.append(text if self._pre else _SPACE_RUN.sub(" ", text))


def _render_break(match: re.Match[str]) -> str:
    """Adjacent block boundaries make one line break, as in a browser: <div>a</div><div>b</div>
    is two lines, not two paragraphs. Paragraphs get a blank line; <br>s inside the run add
    their own lines (QQ Mail writes empty lines as <div><br></div>). A run of blanks without
    any break stays as it is."""
    run = match.group(0)
    hard = run.count("\n")
    if _PARA in run:
        return "\n" * max(2, hard + 1)
    if _BLOCK in run:
        return "\n" * (hard + 1)
    return "\n" * hard if hard else run


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
# Lines longer than this are content, never a marker; every pattern below therefore runs on a
# bounded string, which keeps the whole cut linear in the length of the message.
_MAX_MARKER_LINE = 300
# "在 2024年5月1日 周三 10:00，张三 <a@b.c> 写道：" / "On Mon, ... wrote:". The line must also carry
# a date, time or address, so that "老师在作业本上写道：" in real content is not cut.
_ATTRIBUTION_WORDS = ("写道", "寫道", "wrote")
_ATTRIBUTION_START = re.compile(r"^(在|于|於|On\b|.{0,80}?于\s*\d)", re.IGNORECASE)
_ATTRIBUTION_EVIDENCE = re.compile(r"@|\d{4}\s*[年/\-.]|\d{1,2}:\d{2}")
# Outlook header blocks: "From: x" / "发件人: x" followed shortly by "Sent:" / "发送时间:".
_HEADER_FROM = re.compile(r"^\*?\s*(From|发件人|寄件者)\s*\*?\s*[:：]", re.IGNORECASE)
_HEADER_SENT = re.compile(
    r"^\*?\s*(Sent|Date|发送时间|时间|日期|寄件日期)\s*\*?\s*[:：]", re.IGNORECASE
)
_SEPARATOR = re.compile(r"^[-_=*~—]{3,}$")


def _ends_like_attribution(line: str) -> bool:
    """Whether a line ends in 写道/wrote and an optional colon: string operations, because
    the equivalent pattern backtracks quadratically over a long run of spaces."""
    tail = line.rstrip()
    if tail.endswith((":", "：")):
        tail = tail[:-1].rstrip()
    return tail.lower().endswith(_ATTRIBUTION_WORDS)


def _is_attribution(line: str) -> bool:
    return bool(
        len(line) < _MAX_MARKER_LINE
        and _ends_like_attribution(line)
        and _ATTRIBUTION_START.search(line)
        and _ATTRIBUTION_EVIDENCE.search(line)
    )


def _cut_index(lines: list[str]) -> int | None:
    for i, raw in enumerate(lines):
        # RFC 3676 signature separator: exactly "-- " (the trailing space is significant).
        if raw.rstrip("\r") == "-- ":
            return i
        line = raw.strip()
        if len(line) >= _MAX_MARKER_LINE:
            continue
        if any(p.match(line) for p in _CUT_LINES):
            return i
        if _is_attribution(line):
            return i
        # Gmail wraps long attributions over two lines.
        if i + 1 < len(lines) and _is_attribution(f"{line} {lines[i + 1].strip()}"):
            nxt = lines[i + 1].strip()
            if _ends_like_attribution(nxt) and not _ends_like_attribution(line):
                return i
        if _HEADER_FROM.match(line) and any(
            _HEADER_SENT.match(following[:_MAX_MARKER_LINE].strip())
            for following in lines[i + 1 : i + 5]
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

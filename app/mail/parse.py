"""Parse one raw inbound message into the fields an inbox needs.

`parse_message` never raises on any input except `MalformedMail`, which the caller treats as
"quarantine the raw bytes". The stdlib parser is used with the compat32 policy, which keeps
header values as raw strings: the modern header registry raises on real-world headers such as
``From: a:b:;;``, so all header decoding (RFC 2047, raw 8-bit bytes) is done here by hand.
"""

from __future__ import annotations

import binascii
import datetime as dt
import email.utils
import hashlib
import mimetypes
import re
import unicodedata
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from typing import NamedTuple

from app.mail.charset import decode_header_bytes, decode_text
from app.mail.text import html_to_text, strip_quotes

# Deeper MIME nesting than this is not produced by any mail client; it is an attack or garbage.
_MAX_DEPTH = 20


class MalformedMail(Exception):
    """The input cannot be read as an email at all; the caller should quarantine it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Attachment(NamedTuple):
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None
    """The Message-ID in angle brackets, whitespace removed; None when absent or empty."""
    dedup_key: str
    """Message-ID without brackets, or ``sha256:<hex of raw>`` when there is none."""
    subject: str
    from_name: str
    from_addr: str | None
    recipients: list[str]
    """Lower-cased addresses from To, Cc, Delivered-To and X-Original-To, in that order."""
    in_reply_to: str | None
    references: list[str]
    date: dt.datetime | None
    text: str
    attachments: list[Attachment]
    automated: str | None
    """None for mail written by a person; otherwise a short reason code such as "bounce"."""
    anonymous: bool
    receipt_code: str | None
    """Sixteen digits found in the subject, separators removed."""
    size: int
    defects: list[str] = field(default_factory=list)


# --- headers -----------------------------------------------------------------------------

# The payload may contain whitespace: some clients fold long headers inside an encoded word.
_ENCODED_WORD = re.compile(r"=\?([^?\s]*)\?([qQbB])\?([^?]*)\?=")
_SPACE_BETWEEN_WORDS = re.compile(r"(=\?[^?\s]*\?[qQbB]\?[^?]*\?=)\s+(?==\?)")


def _decode_encoded_word(encoding: str, payload: str) -> bytes:
    if encoding in "bB":
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", payload)
        cleaned += "=" * (-len(cleaned) % 4)
        try:
            return binascii.a2b_base64(cleaned)
        except binascii.Error:
            # A lone leftover character cannot be decoded; drop it rather than the whole word.
            return binascii.a2b_base64(cleaned[: len(cleaned) // 4 * 4 - 4] or "")
    return binascii.a2b_qp(payload.encode("ascii", "replace"), header=True)


def decode_header_value(value: str) -> str:
    """Decode a raw header value: repair 8-bit bytes, then decode RFC 2047 encoded words.

    Adjacent encoded words in one charset are joined before decoding, because clients split a
    multi-byte character across two words. Charset labels go through the lenient decoder.
    """
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        value = decode_header_bytes(value.encode("ascii", "surrogateescape"))
    value = re.sub(r"\r?\n[ \t]*", " ", value)
    if "=?" not in value:
        return value.strip()
    value = _SPACE_BETWEEN_WORDS.sub(r"\1", value)
    out: list[str] = []
    pending: bytes = b""
    pending_charset: str | None = None
    pos = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            out.append(decode_text(pending, pending_charset)[0])
        pending, pending_charset = b"", None

    for match in _ENCODED_WORD.finditer(value):
        if match.start() > pos:
            flush()
            out.append(value[pos : match.start()])
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 language suffix
        data = _decode_encoded_word(match.group(2), match.group(3))
        if pending and charset.lower() != (pending_charset or "").lower():
            flush()
        pending_charset = charset
        pending += data
        pos = match.end()
    flush()
    out.append(value[pos:])
    return "".join(out).strip()


def _headers(msg: Message, name: str) -> list[str]:
    """Raw values of a header. `raw_items` keeps 8-bit bytes as surrogate escapes, which
    compat32's `get` would replace with U+FFFD before we could repair them."""
    wanted = name.lower()
    try:
        return [str(v) for k, v in msg.raw_items() if k.lower() == wanted]
    except Exception:  # a broken header must not break the whole message
        return []


def _header(msg: Message, name: str) -> str | None:
    values = _headers(msg, name)
    return values[0] if values else None


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    """(decoded display name, lower-cased address) pairs; unparsable entries are dropped."""
    result: list[tuple[str, str]] = []
    for value in values:
        if any("\udc80" <= ch <= "\udcff" for ch in value):
            value = decode_header_bytes(value.encode("ascii", "surrogateescape"))
        try:
            pairs = email.utils.getaddresses([value])
        except Exception:  # getaddresses has raised on odd input in the past
            pairs = []
        for name, addr in pairs:
            addr = addr.strip().strip("<>").lower()
            if "@" not in addr:
                continue
            result.append((decode_header_value(name), addr))
    return result


_MSG_ID = re.compile(r"<([^<>\s]+)>")


def _normalise_msgid(value: str | None) -> str | None:
    if not value:
        return None
    match = _MSG_ID.search(value)
    ident = match.group(1) if match else "".join(value.split()).strip("<>")
    return ident or None


def _msgids(value: str | None) -> list[str]:
    if not value:
        return []
    ids = _MSG_ID.findall(value)
    if not ids:
        ids = [part.strip("<>") for part in value.split() if part.strip("<>")]
    return [f"<{i}>" for i in ids]


def _parse_date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        # "-0000" means "time zone unknown"; UTC is the honest reading.
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


# --- subject markers ---------------------------------------------------------------------

_ANON_MARKER = re.compile(r"^\s*(【匿名】|\[匿名\]|［匿名］)\s*")


def strip_anonymous_marker(subject: str) -> tuple[bool, str]:
    """Whether a subject starts with 【匿名】 (or [匿名], ［匿名］), and the subject without it."""
    stripped = _ANON_MARKER.sub("", subject, count=1)
    return stripped != subject, stripped


_RECEIPT = re.compile(r"(?<!\d)(\d{4})[ \-]?(\d{4})[ \-]?(\d{4})[ \-]?(\d{4})(?!\d)")


def _receipt_code(subject: str) -> str | None:
    # NFKC turns full-width digits typed with a Chinese IME into ASCII digits.
    match = _RECEIPT.search(unicodedata.normalize("NFKC", subject))
    return "".join(match.groups()) if match else None


# --- automated mail ----------------------------------------------------------------------

_REPORT_TYPES = {
    "delivery-status": "bounce",
    "feedback-report": "feedback-report",
    "disposition-notification": "read-receipt",
}
_PART_TYPES = {
    "message/delivery-status": "bounce",
    "message/global-delivery-status": "bounce",
    "message/feedback-report": "feedback-report",
    "message/disposition-notification": "read-receipt",
}
_BOUNCE_LOCALPARTS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "maildaemon"})
_NOREPLY_LOCALPARTS = re.compile(r"^(no-?reply|do-?not-?reply|donotreply)([+.\-_].*)?$")
# Tencent system senders: QQ Mail's and the enterprise mailbox's own notices.
_SYSTEM_SENDERS = frozenset({"10000@qq.com", "10001@qq.com", "service@exmail.qq.com"})
_AUTOREPLY_SUBJECT = re.compile(
    r"^[\s\[【(（]*(自动回复|自動回覆|自动答复|auto(matic)?[ _-]?repl(y|ied)|autoreply|"
    r"out of (the )?office|休假中|休假自动回复|不在办公室)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"^[\s\[【]*(undeliverable|undelivered mail|delivery status notification|"
    r"mail delivery (failed|failure|subsystem)|returned mail|failure notice|系统退信|退信)",
    re.IGNORECASE,
)


def _automated(
    msg: Message, parts: list[Message], from_addr: str | None, subject: str
) -> str | None:
    content_type = msg.get_content_type()
    if content_type == "multipart/report":
        report_type = msg.get_param("report-type")
        report = report_type.strip().lower() if isinstance(report_type, str) else ""
        return _REPORT_TYPES.get(report, "report")
    for part in parts:
        reason = _PART_TYPES.get(part.get_content_type())
        if reason:
            return reason
    if (
        _header(msg, "X-Failed-Recipients") is not None
        or _header(msg, "X-MS-Exchange-Message-Is-Ndr") is not None
    ):
        return "bounce"
    local = from_addr.split("@", 1)[0] if from_addr else ""
    if local in _BOUNCE_LOCALPARTS:
        return "bounce"
    auto_submitted = (_header(msg, "Auto-Submitted") or "").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return "auto-reply" if auto_submitted.startswith("auto-replied") else "auto-submitted"
    if any(
        _header(msg, h) is not None
        for h in ("X-Autoreply", "X-Autorespond", "X-Autoreply-From", "X-Mail-Autoreply")
    ):
        return "auto-reply"
    # Outlook sets X-Auto-Response-Suppress on ordinary mail too, so it only counts together with
    # the headers Exchange adds to rule-generated and out-of-office messages.
    suppress = (_header(msg, "X-Auto-Response-Suppress") or "").lower()
    if ("all" in suppress or "oof" in suppress) and (
        _header(msg, "X-MS-Exchange-Inbox-Rules-Loop") is not None
        or _header(msg, "X-MS-Exchange-Generated-Message-Source") is not None
    ):
        return "auto-reply"
    precedence = (_header(msg, "Precedence") or "").strip().lower()
    if precedence in {"bulk", "junk"}:
        return "bulk"
    if (
        precedence == "list"
        or _header(msg, "List-Id") is not None
        or _header(msg, "List-Unsubscribe") is not None
    ):
        return "list"
    if precedence == "auto_reply":
        return "auto-reply"
    if from_addr in _SYSTEM_SENDERS:
        return "system-notice"
    if _NOREPLY_LOCALPARTS.match(local):
        return "no-reply-sender"
    return_path = _header(msg, "Return-Path")
    envelope_from = _header(msg, "X-Envelope-From")
    if any(v is not None and v.strip() in {"<>", ""} for v in (return_path, envelope_from)):
        return "null-sender"
    if _AUTOREPLY_SUBJECT.search(subject):
        return "auto-reply"
    if _BOUNCE_SUBJECT.search(subject):
        return "bounce"
    return None


# --- bodies ------------------------------------------------------------------------------


class _Walk:
    def __init__(self) -> None:
        self.attachments: list[Attachment] = []
        self.leaves: list[Message] = []
        self.defects: list[str] = []


def _is_attachment(part: Message) -> bool:
    disposition = (_header(part, "Content-Disposition") or "").strip().lower()
    if disposition.startswith("attachment"):
        return True
    return part.get_content_type() not in {"text/plain", "text/html"}


def _payload_bytes(part: Message, walk: _Walk) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:  # undecodable transfer encoding
        walk.defects.append(f"payload-undecodable:{type(exc).__name__}")
        raw = part.get_payload()
        return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    return data if isinstance(data, bytes) else b""


def _part_text(part: Message, walk: _Walk) -> str:
    data = _payload_bytes(part, walk)
    charset = part.get_param("charset")
    label = charset if isinstance(charset, str) else None
    text, fell_back = decode_text(data, label)
    if fell_back:
        walk.defects.append(f"charset-mislabelled:{label}")
    if part.get_content_subtype() == "html":
        return html_to_text(text)
    return text.replace("\r\n", "\n")


_NAME_PARAM = re.compile(r'\b(?:file)?name\s*=\s*"?([^";\r\n]+)', re.IGNORECASE)


def _filename(part: Message, index: int) -> str:
    name: str | None
    try:
        name = part.get_filename()
    except Exception:  # broken RFC 2231 parameters
        name = None
    if name is None or "\ufffd" in name:
        # Some Chinese clients write the file name as raw GBK bytes, which the stdlib
        # replaces; read the raw header instead and repair it like any other header.
        for header in ("Content-Disposition", "Content-Type"):
            match = _NAME_PARAM.search(_header(part, header) or "")
            if match:
                name = match.group(1)
                break
    if name:
        # Chinese clients put RFC 2047 words inside the quoted filename parameter.
        name = decode_header_value(name)
    if not name:
        ext = mimetypes.guess_extension(part.get_content_type()) or ".bin"
        name = f"attachment-{index}{ext}"
    return name.replace("/", "_").replace("\\", "_")


def _collect_texts(part: Message, walk: _Walk, depth: int) -> list[str]:
    """Texts of the displayable body, collecting attachments on the way."""
    if depth > _MAX_DEPTH:
        walk.defects.append("nesting-too-deep")
        return []
    walk.leaves.append(part)
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        # A forwarded or returned message is kept whole as an attachment; its text is not the
        # sender's, and its headers must not make the outer message look automated.
        inner = part.get_payload()
        inner_msg = inner[0] if isinstance(inner, list) and inner else None
        try:
            data = inner_msg.as_bytes() if isinstance(inner_msg, Message) else b""
        except Exception:  # re-serialising broken mail can fail
            walk.defects.append("attached-message-unserialisable")
            data = b""
        if data:
            name = _filename(part, len(walk.attachments) + 1)
            walk.attachments.append(Attachment(name, content_type, data))
        return []
    if part.get_content_maintype() == "message" and part.is_multipart():
        # Report bodies (delivery-status, disposition-notification) parse as header blocks;
        # they are only looked at by type.
        return []
    if part.is_multipart():
        children = [c for c in part.get_payload() if isinstance(c, Message)]
        if content_type == "multipart/alternative":
            return _alternative(children, walk, depth)
        texts: list[str] = []
        for child in children:
            texts.extend(_collect_texts(child, walk, depth + 1))
        return texts
    if part.get_content_maintype() == "multipart":
        # A multipart whose boundary never appears: its body is all that can be read.
        walk.defects.append("multipart-without-parts")
        return [_part_text(part, walk)]
    if _is_attachment(part):
        data = _payload_bytes(part, walk)
        name = _filename(part, len(walk.attachments) + 1)
        walk.attachments.append(Attachment(name, content_type, data))
        return []
    return [_part_text(part, walk)]


def _alternative(children: list[Message], walk: _Walk, depth: int) -> list[str]:
    """Prefer a real text/plain alternative; otherwise the richest (last) one with text."""
    rendered: list[tuple[Message, list[str]]] = []
    for child in children:
        rendered.append((child, _collect_texts(child, walk, depth + 1)))
    for child, texts in rendered:
        if child.get_content_type() == "text/plain" and any(t.strip() for t in texts):
            return texts
    for _child, texts in reversed(rendered):
        if any(t.strip() for t in texts):
            return texts
    return []


# --- entry point -------------------------------------------------------------------------


def parse_message(raw: bytes) -> ParsedMail:
    """Parse raw RFC 5322 bytes. Raises only `MalformedMail`, for input that is not mail."""
    try:
        return _parse(raw)
    except MalformedMail:
        raise
    except RecursionError as exc:
        raise MalformedMail("mime-nesting-too-deep") from exc
    except Exception as exc:  # the contract: the caller quarantines, never crashes
        raise MalformedMail(f"unparsable:{type(exc).__name__}") from exc


def _parse(raw: bytes) -> ParsedMail:
    if not raw.strip():
        raise MalformedMail("empty")
    msg = message_from_bytes(raw, policy=compat32)
    if not msg.keys():
        raise MalformedMail("no-headers")
    defects = [type(d).__name__ for d in msg.defects]

    subject = decode_header_value(_header(msg, "Subject") or "")
    from_pairs = _addresses(_headers(msg, "From")) or _addresses(_headers(msg, "Sender"))
    from_name, from_addr = from_pairs[0] if from_pairs else ("", None)
    if not from_pairs and _header(msg, "From"):
        defects.append("from-unparsable")
        from_name = decode_header_value(_header(msg, "From") or "")

    recipients: list[str] = []
    for name in ("To", "Cc", "Delivered-To", "X-Original-To"):
        for _display, addr in _addresses(_headers(msg, name)):
            if addr not in recipients:
                recipients.append(addr)

    walk = _Walk()
    texts = _collect_texts(msg, walk, 0)
    for part in walk.leaves[1:]:
        defects.extend(type(d).__name__ for d in part.defects)
    defects.extend(walk.defects)
    body = "\n\n".join(t.strip("\n") for t in texts if t.strip())

    anonymous, subject = strip_anonymous_marker(subject)

    message_id = _normalise_msgid(_header(msg, "Message-ID"))
    return ParsedMail(
        message_id=f"<{message_id}>" if message_id else None,
        dedup_key=message_id or f"sha256:{hashlib.sha256(raw).hexdigest()}",
        subject=subject,
        from_name=from_name,
        from_addr=from_addr,
        recipients=recipients,
        in_reply_to=next(iter(_msgids(_header(msg, "In-Reply-To"))), None),
        references=_msgids(_header(msg, "References")),
        date=_parse_date(_header(msg, "Date")),
        text=strip_quotes(body),
        attachments=walk.attachments,
        automated=_automated(msg, walk.leaves, from_addr, subject),
        anonymous=anonymous,
        receipt_code=_receipt_code(subject),
        size=len(raw),
        defects=defects,
    )

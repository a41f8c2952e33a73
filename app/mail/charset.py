"""Lenient decoding of bytes whose charset label may be missing or wrong.

Chinese mail routinely lies about its charset: "gb2312" bodies contain GBK-only characters,
headers carry raw 8-bit GB bytes, and unknown labels appear. Decoding therefore never raises.
"""

from __future__ import annotations

import codecs
import re

# Every label of the GB family is decoded as GB18030, a superset of GB2312 and GBK; clients
# label GBK text as gb2312 and strict gb2312 decoding would fail on it.
_GB_LABELS = frozenset(
    {
        "gb2312",
        "gbk",
        "gb18030",
        "x-gbk",
        "cp936",
        "euc-cn",
        "x-euc-cn",
        "csgb2312",
        "ms936",
        "windows-936",
        "gb_2312-80",
        "chinese",
        "iso-ir-58",
        "csiso58gb231280",
    }
)
# Big5-HKSCS is a superset of Big5 and decodes the extra characters that Hong Kong and Taiwan
# clients emit under the plain "big5" label.
_BIG5_LABELS = frozenset({"big5", "big-5", "cn-big5", "csbig5", "x-x-big5", "big5-hkscs", "cp950"})
# ASCII labels are treated as "unknown": 8-bit bytes under them are common and must not be lost.
_ASCII_LABELS = frozenset(
    {
        "us-ascii",
        "ascii",
        "ansi_x3.4-1968",
        "iso646-us",
        "us",
        "x-unknown",
        "unknown",
        "unknown-8bit",
        "default",
        "x-user-defined",
    }
)

_HIGH_PAIR = re.compile(rb"[\x80-\xff]{2}")


def normalise_label(label: str | None) -> str | None:
    """Map a MIME charset label to a Python codec name, or None when unknown or absent."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    if not name or name in _ASCII_LABELS:
        return None
    if name in _GB_LABELS:
        return "gb18030"
    if name in _BIG5_LABELS:
        return "big5hkscs"
    try:
        codec = codecs.lookup(name).name
        # codecs.lookup also knows bytes-to-bytes codecs ("base64", "zlib"); decoding with them
        # raises LookupError, so probe once.
        b"".decode(codec)
    except (LookupError, ValueError):
        return None
    return codec


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with a few broken bytes (a truncated character, one stray byte) is still UTF-8;
    text in another charset read as UTF-8 is mostly replacement characters."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127) - bad
    return text if good >= 8 * bad else None


def guess_decode(data: bytes) -> str:
    """Decode bytes with no trustworthy label: UTF-8, then GB18030, then Latin-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    mostly = _mostly_utf8(data)
    if mostly is not None:
        return mostly
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def decode_header_bytes(data: bytes) -> str:
    """Decode raw 8-bit header bytes, which carry no label at all.

    UTF-8 first (strict decoding rarely accepts anything else). Then GB: accepted when every
    character is in GB2312, the common simplified set. Stray single high bytes between ASCII
    letters (Western names like "L\\xfctkebohle") are Latin-1: GB text always comes in pairs of
    high bytes, while GB18030 would happily read "\\xfct" as one ideograph.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    mostly = _mostly_utf8(data)
    if mostly is not None:
        return mostly
    try:
        data.decode("gb2312")
    except UnicodeDecodeError:
        pass
    else:
        return data.decode("gb18030")
    if not _HIGH_PAIR.search(data):
        return data.decode("cp1252", errors="replace")
    return guess_decode(data)


def decode_text(data: bytes, label: str | None) -> tuple[str, bool]:
    """Decode a body part. Returns the text and whether a fallback had to be used."""
    codec = normalise_label(label)
    if codec is None:
        return guess_decode(data), False
    try:
        return data.decode(codec), False
    except UnicodeDecodeError:
        pass
    # The label lied: try the usual suspects strictly before accepting replacement characters.
    for fallback in ("utf-8", "gb18030"):
        if fallback == codec:
            continue
        try:
            return data.decode(fallback), True
        except UnicodeDecodeError:
            continue
    return data.decode(codec, errors="replace"), True

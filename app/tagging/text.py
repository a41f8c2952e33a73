"""Text normalisation and input validation.

Normalisation is a pure one-to-one character mapping (traditional -> simplified,
full-width -> half-width, upper -> lower case), so positions in the normalised text are
positions in the original: evidence can then be quoted in the submitter's own wording.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

MAX_TEXT_CHARS = 20_000


@cache
def _table() -> dict[int, str]:
    # Only zhconv's dictionary data is used (its loader leaves a file open). Read lazily:
    # parsing takes ~0.1 s and only taggers need it.
    data = resources.files("zhconv").joinpath("zhcdict.json").read_bytes()
    pairs: dict[str, str] = json.loads(data)["zh2Hans"]
    # Only single-char mappings keep the mapping length-preserving; the few phrase-level
    # conversions do not matter for tagging.
    table = {ord(k): v for k, v in pairs.items() if len(k) == 1 and len(v) == 1}
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII block
        table[code] = chr(code - 0xFEE0)
    table[0x3000] = " "  # ideographic space
    table[0] = " "  # NUL separates texts inside the n-gram featuriser
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = chr(code + 32)
    for code in range(ord("Ａ"), ord("Ｚ") + 1):
        table[code] = chr(code - 0xFEE0 + 32)
    return table


def normalize(text: str) -> str:
    """Map text to simplified, half-width, lower-case form of exactly the same length."""
    return text.translate(_table())


_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def validate_text(text: object) -> str:
    """Return text if it can be tagged, else raise ValueError with a message for the user."""
    if not isinstance(text, str):
        raise ValueError("'text' must be a string")
    if not text.strip():
        raise ValueError("'text' is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"'text' is too long ({len(text)} characters, at most {MAX_TEXT_CHARS})")
    return text

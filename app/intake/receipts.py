"""Receipt codes: 16 random digits shown once, stored only as a keyed hash."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from app.core.errors import Invalid

DIGITS = 16
_NON_DIGIT = re.compile(r"[\s\-－—·.]+")


def _mac(secret: str, message: str) -> bytes:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()


def new_receipt() -> str:
    """Draw a fresh random receipt (digits only)."""
    return f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"


def derive_receipt(*, secret: str, unit_id: int, idempotency_key: str, text: str) -> str:
    """Derive the receipt of a keyed submission, so a retry shows the same code again."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    mac = _mac(secret, f"receipt|{unit_id}|{idempotency_key}|{digest}")
    return f"{int.from_bytes(mac[:12], 'big') % 10**DIGITS:0{DIGITS}d}"


def hash_receipt(*, secret: str, receipt: str) -> str:
    """The stored form of a receipt."""
    return _mac(secret, f"r|{receipt}").hex()


def hash_idempotency_key(*, secret: str, unit_id: int, key: str) -> str:
    """The stored form of an idempotency key, scoped to its unit."""
    return _mac(secret, f"i|{unit_id}|{key}").hex()


def format_receipt(receipt: str, *, sep: str = " ") -> str:
    """Group digits in fours for reading aloud and copying: 1234 5678 9012 3456."""
    return sep.join(receipt[i : i + 4] for i in range(0, len(receipt), 4))


def parse_receipt(value: str) -> str:
    """Normalise what a person typed (spaces, dashes, full-width digits) to 16 digits."""
    cleaned = _NON_DIGIT.sub("", value.strip()).translate(
        str.maketrans("０１２３４５６７８９", "0123456789")
    )
    if len(cleaned) != DIGITS or not cleaned.isascii() or not cleaned.isdigit():
        raise Invalid("回执码应为16位数字，请核对后重新输入。", field="receipt")
    return cleaned


def keyed_hash(*, secret: str, purpose: str, value: str) -> str:
    """A keyed hash of any value (email addresses, Message-IDs) for matching without storing it."""
    return _mac(secret, f"{purpose}|{value}").hex()

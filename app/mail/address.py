"""What counts as an email address we may send to: one rule for contacts, rosters and digests."""

from __future__ import annotations

import re

# A local part and dot-separated domain labels (IDN allowed), none holding what would split an
# address list or a header ("<>\"',;" or space); the last label two characters or more. Not
# RFC 5322 in full: quoted local parts and IP literals are refused, as mail forms do.
_ADDRESS = re.compile(r"^[^@\s<>\"',;]+@(?:[^@\s<>\"',;.]+\.)+[^@\s<>\"',;.]{2,}$")
# RFC 5321's limit on a forward path, less the angle brackets.
MAX_ADDRESS = 254


def is_email_address(value: str) -> bool:
    """Whether value, as given (no surrounding spaces), is a deliverable-looking address."""
    return len(value) <= MAX_ADDRESS and _ADDRESS.match(value) is not None

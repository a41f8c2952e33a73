"""The rating link mailed with a reply to a named sender (it carries no receipt code)."""

from __future__ import annotations

import hmac

from app.intake import receipts

TOKEN_CHARS = 32


def rating_token(*, secret: str, reply_id: int) -> str:
    """The keyed token that lets the holder of a reply's mail rate that one reply."""
    return receipts.keyed_hash(secret=secret, purpose="rate-reply", value=str(reply_id))[
        :TOKEN_CHARS
    ]


def rating_url(*, base_url: str, secret: str, reply_id: int) -> str:
    """Where a named sender rates a reply from its mail."""
    token = rating_token(secret=secret, reply_id=reply_id)
    return f"{base_url.rstrip('/')}/r/rate/{reply_id}/{token}"


def token_matches(*, secret: str, reply_id: int, token: str) -> bool:
    """Whether a rating link's token belongs to this reply (compared in constant time)."""
    return hmac.compare_digest(rating_token(secret=secret, reply_id=reply_id), token)

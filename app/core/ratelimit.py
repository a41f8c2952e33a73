"""Per-address rate limits kept in memory only, expiring on their own (never stored)."""

from __future__ import annotations

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class RateLimiter:
    """A named moving-window limit; `None` rate means unlimited."""

    def __init__(self, rate: tuple[int, int] | None, *, namespace: str) -> None:
        self._item = None if rate is None else RateLimitItemPerSecond(rate[0], rate[1])
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._namespace = namespace

    def hit(self, key: str) -> bool:
        """Count one request for key; False once the limit is passed."""
        if self._item is None:
            return True
        return self._limiter.hit(self._item, self._namespace, key)

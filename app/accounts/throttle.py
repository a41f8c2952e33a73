"""Login attempts counted in this process's memory: per (account, address) and per account.

The account is the name as typed, whether or not such an admin exists, so a refusal never tells
which names are real. Nothing here is stored: a restart forgets it, and each server process
counts on its own (N workers allow N times the attempts).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from app.core.config import Settings

FIRST_WAIT = 60.0  # seconds after the free failures; doubles with each further failure
FORGET_FAILURES = 24 * 3600.0  # a quiet (account, address) starts afresh after a day
REMEMBER_SUCCESS = 30 * 24 * 3600.0  # an address the account logged in from, for a month
SWEEP_EVERY = 60.0


@dataclass
class _Pair:
    attempts: int = 0
    last: float = 0.0
    until: float = 0.0


class LoginThrottle:
    """Growing waits per (account, address) and a slower ceiling per account.

    Every attempt counts as a failure until it succeeds, so parallel guesses cannot slip in
    before the first one is counted. Past `free_failures` a pair waits 1, 2, 4… minutes up to
    `max_wait`; past the ceiling (`account_rate` failures in its window, from all addresses) an
    account may be tried only from addresses it has logged in from before, so the owner still
    gets in while someone else guesses from many addresses.
    """

    def __init__(
        self,
        *,
        free_failures: int,
        max_wait: float,
        account_rate: tuple[int, int] | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._free = free_failures
        self._max_wait = max_wait
        self._rate = account_rate
        self._clock = clock
        self._lock = threading.Lock()
        self._pairs: dict[tuple[str, str], _Pair] = {}
        self._failures: dict[str, deque[float]] = {}
        self._known: dict[tuple[str, str], float] = {}
        self._swept = clock()

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginThrottle:
        """The throttle configured by YIJIAN_LOGIN_*."""
        return cls(
            free_failures=settings.login_max_failures,
            max_wait=settings.login_lock_minutes * 60.0,
            account_rate=settings.rate(settings.login_account_limit),
        )

    def attempt(self, *, account: str, address: str) -> float:
        """Seconds to wait before this account may be tried from address; 0 counts a try."""
        with self._lock:
            now = self._clock()
            self._sweep(now)
            pair = self._pairs.get((account, address)) or _Pair()
            wait = max(pair.until - now, self._ceiling_wait(account, address, now))
            if wait > 0:
                return wait
            self._pairs[(account, address)] = pair
            pair.attempts += 1
            pair.last = now
            if pair.attempts >= self._free:
                doubling = FIRST_WAIT * 2 ** (pair.attempts - self._free)
                pair.until = now + min(doubling, self._max_wait)
            if self._rate is not None:
                self._failures.setdefault(account, deque(maxlen=self._rate[0])).append(now)
            return 0.0

    def succeeded(self, *, account: str, address: str) -> None:
        """The password was right: the pair starts afresh, and address is now a known one."""
        with self._lock:
            self._pairs.pop((account, address), None)
            recent = self._failures.get(account)
            if recent:
                recent.pop()
            self._known[(account, address)] = self._clock()

    def at_ceiling(self, *, account: str) -> bool:
        """Whether the account has used up its failures for the window."""
        with self._lock:
            return self._ceiling_wait(account, None, self._clock()) > 0

    def _ceiling_wait(self, account: str, address: str | None, now: float) -> float:
        recent = self._failures.get(account)
        if self._rate is None or not recent or len(recent) < self._rate[0]:
            return 0.0
        if address is not None and (account, address) in self._known:
            return 0.0
        return recent[0] + self._rate[1] - now

    def _sweep(self, now: float) -> None:
        # Forget what has expired, so names sprayed by a guesser do not pile up in memory.
        if now - self._swept < SWEEP_EVERY:
            return
        self._swept = now
        self._pairs = {
            k: p for k, p in self._pairs.items() if now - p.last < FORGET_FAILURES or p.until > now
        }
        window = self._rate[1] if self._rate else 0
        self._failures = {a: d for a, d in self._failures.items() if d and now - d[-1] < window}
        self._known = {k: t for k, t in self._known.items() if now - t < REMEMBER_SUCCESS}

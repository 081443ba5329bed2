"""Failed-login throttling: a client that failed ``limit`` logins within ``period_seconds`` is answered 429
(with ``Retry-After``) before any password is hashed, so a password flood costs the server almost nothing."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from kubetally.errors import TooManyRequests

DEFAULT_FAILED_LOGINS_PER_MINUTE = 10
_MAX_CLIENTS = 10_000
"""Clients tracked at once; the oldest are forgotten beyond it (a flood of source addresses cannot grow memory)."""


class LoginThrottle:
    """Counts failed logins per client over a sliding window."""

    def __init__(
        self,
        limit: int = DEFAULT_FAILED_LOGINS_PER_MINUTE,
        period_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.period = period_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """TooManyRequests when ``client`` has used up its failed logins."""
        now = self._clock()
        with self._lock:
            failures = self._failures.get(client)
            if failures is None:
                return
            while failures and failures[0] <= now - self.period:
                failures.popleft()
            if len(failures) < self.limit:
                return
            retry = max(1, math.ceil(failures[0] + self.period - now))
        raise TooManyRequests(
            f"too many failed logins from this client ({self.limit} per {self.period:g} s); retry in {retry} s",
            retry,
        )

    def failed(self, client: str) -> None:
        """Record one failed login of ``client``."""
        with self._lock:
            if client not in self._failures and len(self._failures) >= _MAX_CLIENTS:
                self._failures.pop(next(iter(self._failures)))
            self._failures.setdefault(client, deque(maxlen=self.limit)).append(self._clock())


__all__ = ["DEFAULT_FAILED_LOGINS_PER_MINUTE", "LoginThrottle"]

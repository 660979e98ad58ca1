"""The operation budget: how many retries each call gets and when the whole operation must end.

One deadline covers every call and attempt of an operation (a login's sync, an admin
action on one user), so a slow Upsolve costs a login at most ``LOGIN_DEADLINE`` seconds
however many calls it needs. Whether a failed attempt is tried again is decided here too:
only within both the retry count and the time left.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from .conf import upsolve_settings
from .exceptions import UpsolveError, UpsolveRateLimited

#: A 429 whose Retry-After is at most this many seconds is retried; longer ones fail fast.
SHORT_RETRY_AFTER = 1.0
#: Below this much time left, another attempt is not worth starting.
MIN_ATTEMPT_TIME = 0.05


@dataclass(frozen=True)
class CallPolicy:
    """How hard one operation tries: retries per call, and a wall-clock deadline shared by all
    calls and attempts of the operation (``ends_at`` on the ``time.monotonic()`` clock)."""

    max_retries: int
    ends_at: float

    @classmethod
    def within(cls, seconds: float, *, max_retries: int) -> CallPolicy:
        """A policy whose deadline is ``seconds`` from now."""
        return cls(max_retries, time.monotonic() + seconds)

    @classmethod
    def login(cls) -> CallPolicy:
        """In a request/response cycle: ``LOGIN_MAX_RETRIES`` retries, ``LOGIN_DEADLINE`` s."""
        return cls.within(
            upsolve_settings.LOGIN_DEADLINE, max_retries=upsolve_settings.LOGIN_MAX_RETRIES
        )

    @classmethod
    def background(cls) -> CallPolicy:
        """Admin actions and commands: ``MAX_RETRIES`` retries, ``DEADLINE`` s."""
        return cls.within(upsolve_settings.DEADLINE, max_retries=upsolve_settings.MAX_RETRIES)

    def remaining(self) -> float:
        """Seconds left before the deadline (negative once it has passed)."""
        return self.ends_at - time.monotonic()

    def spent(self) -> bool:
        """Whether too little time is left to start an attempt."""
        return self.remaining() < MIN_ATTEMPT_TIME

    def retry_delay(self, err: UpsolveError, attempt: int) -> float | None:
        """Seconds to wait before retrying after ``err`` on attempt ``attempt`` (from 0), or
        None when the error is final, the retries are used up or the wait would leave no time.

        Backoff is exponential with jitter, capped at 2 s. A short ``Retry-After`` is honoured
        once; a long one is not waited for.
        """
        if not err.retryable or attempt >= self.max_retries:
            return None
        if isinstance(err, UpsolveRateLimited) and err.retry_after is not None:
            if err.retry_after > SHORT_RETRY_AFTER or attempt > 0:
                return None
            delay = err.retry_after
        else:
            delay = min(0.25 * 2**attempt, 2.0) * random.uniform(0.5, 1.0)
        if self.remaining() - delay < MIN_ATTEMPT_TIME:
            return None
        return delay

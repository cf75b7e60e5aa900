"""Per-caller rate limiting in Redis: a fixed window, INCR and EXPIRE in one round trip.

The caller is the API key (its id), or the client address for requests without a valid key. When Redis
is unreachable the limiter fails open and says so in the log (at most once a minute): requests that only
need PostgreSQL keep working through a Redis outage.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from app.errors import DomainError

log = logging.getLogger(__name__)


class RateLimited(DomainError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def extensions(self) -> dict[str, Any]:  # type: ignore[override]
        return {"code": self.code, "retryAfter": self.retry_after}


@dataclass
class RateLimiter:
    redis: Any
    prefix: str
    limit: int
    window: int
    _last_warning: float = 0.0

    async def check(self, caller: str, now: float | None = None) -> None:
        """Count one request for `caller`; raise RateLimited above the limit."""
        if self.limit <= 0:
            return
        now = time.time() if now is None else now
        window_start = int(now // self.window) * self.window
        key = f"{self.prefix}:ratelimit:{caller}:{window_start}"
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, self.window + 1)
                count, _ = await pipe.execute()
        except Exception as exc:  # noqa: BLE001 - fail open: Redis is not needed for PostgreSQL-only requests
            if time.monotonic() - self._last_warning > 60:
                self._last_warning = time.monotonic()
                log.warning("rate limit not enforced: Redis unavailable (%s)", type(exc).__name__)
            return
        if int(count) > self.limit:
            retry_after = max(1, int(window_start + self.window - now + 0.999))
            raise RateLimited(
                f"rate limit exceeded: at most {self.limit} requests per {self.window} s; retry in {retry_after} s",
                retry_after=retry_after,
            )

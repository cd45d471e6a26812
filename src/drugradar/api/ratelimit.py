"""A rate limit per API key: an in-process token bucket (``DRUGRADAR_RATE_LIMIT`` requests per
minute per key, default 600; 0 turns it off), answered with 429 JSON and ``Retry-After``.

Buckets are keyed by the SHA-256 of the key as sent, checked before the key itself (a flood of
bad keys costs no argon2 work); a full bucket idle for a while is forgotten. One process, one
count: several server processes each allow the rate (a shared store would be needed for more).
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from drugradar.api.errors import send_error

ENV = "DRUGRADAR_RATE_LIMIT"
DEFAULT_PER_MINUTE = 600
MAX_BUCKETS = 50_000


def per_minute_from_env() -> int:
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return DEFAULT_PER_MINUTE
    try:
        return max(0, int(raw))
    except ValueError:
        raise ValueError(f"{ENV} must be a whole number of requests per minute.") from None


class RateLimiter:
    """Token buckets: each holds up to ``per_minute`` tokens, refilled continuously."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[bytes, tuple[float, float]] = {}  # key -> (tokens, stamp)

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    def take(self, key: bytes) -> float:
        """0 when the request may go, else the seconds until a token is back."""
        now = self.clock()
        with self._lock:
            tokens, stamp = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - stamp) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            if len(self._buckets) > MAX_BUCKETS:
                self._forget(now)
        return wait

    def _forget(self, now: float) -> None:
        full = [
            k
            for k, (t, s) in self._buckets.items()
            if min(self.capacity, t + (now - s) * self.rate) >= self.capacity
        ]
        for k in full:
            del self._buckets[k]


def _key_of(scope: Scope) -> str | None:
    headers: dict[bytes, bytes] = {k.lower(): v for k, v in scope.get("headers", [])}
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if auth.lower().startswith("bearer ") and auth[7:].strip():
        return auth[7:].strip()
    key = headers.get(b"x-api-key", b"").decode("latin-1").strip()
    return key or None


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.limiter.enabled:
            await self.app(scope, receive, send)
            return
        key = _key_of(scope)
        wait = self.limiter.take(hashlib.sha256(key.encode()).digest()) if key else 0.0
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry = max(1, math.ceil(wait))
        sentence = (
            f"Too many requests with this API key; try again in {retry} "
            f"second{'s' if retry != 1 else ''}."
        )
        await send_error(send, 429, sentence, [(b"retry-after", str(retry).encode())])

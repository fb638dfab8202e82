"""Redis-backed guards of the inbound path: duplicate deliveries and floods.

Redis holds only what may be lost: if these keys vanish, the database's unique
MessageSid constraint still stops a duplicate, and limits simply start over.
"""
from __future__ import annotations

from dataclasses import dataclass

import redis


class Deduplicator:
    """Twilio may deliver the same webhook more than once, to any webhook process."""

    def __init__(self, client: redis.Redis, ttl_seconds: int, prefix: str = "assistant:seen:") -> None:
        self._redis = client
        self._ttl = ttl_seconds
        self._prefix = prefix

    def first_time(self, key: str) -> bool:
        """Atomic SET NX EX: exactly one caller sees True for a key."""
        return bool(self._redis.set(self._prefix + key, b"1", nx=True, ex=self._ttl))

    def forget(self, key: str) -> None:
        """Undo first_time() when the message could not be stored, so Twilio's retry is accepted."""
        self._redis.delete(self._prefix + key)


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    count: int
    first_refusal: bool  # True once per window: tell the resident, once


class RateLimiter:
    """Fixed-window counter per sender (keyed hash), shared by every webhook replica."""

    def __init__(self, client: redis.Redis, limit: int, window_seconds: int,
                 prefix: str = "assistant:rate:") -> None:
        self._redis = client
        self._limit = limit
        self._window = window_seconds
        self._prefix = prefix

    def hit(self, key: str) -> RateDecision:
        name = self._prefix + key
        pipe = self._redis.pipeline()
        pipe.set(name, 0, ex=self._window, nx=True)  # starts the window (works on Redis 6)
        pipe.incr(name)
        count = int(pipe.execute()[1])
        return RateDecision(allowed=count <= self._limit, count=count, first_refusal=count == self._limit + 1)

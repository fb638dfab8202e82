"""Staff console sessions, kept in Redis (OWASP session management).

The browser holds a random 256-bit token; Redis holds only its SHA-256, so a copy of Redis
cannot be replayed as a cookie. Each session has an idle timeout (refreshed on use, also the
key's TTL, so abandoned sessions disappear) and an absolute timeout from sign-in. Its CSRF
token is random per session. Losing Redis signs staff out; nothing else is lost.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis

from bot.clock import Clock

PREFIX = "staff-session:"
USER_SESSIONS = "staff-sessions-of:"


@dataclass(frozen=True)
class StaffSession:
    token_hash: str
    account_id: int
    username: str
    role: str
    csrf: str
    created_at: datetime
    seen_at: datetime

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    def __init__(self, client: redis.Redis, clock: Clock, idle: timedelta, absolute: timedelta) -> None:
        self._redis = client
        self._clock = clock
        self._idle = idle
        self._absolute = absolute

    def create(self, account_id: int, username: str, role: str) -> str:
        """A new token at every sign-in (no session fixation); returns the browser's token."""
        token = secrets.token_urlsafe(32)
        now = self._clock.now()
        key = _hash(token)
        record = {"account_id": account_id, "username": username, "role": role, "csrf": secrets.token_urlsafe(32),
                  "created_at": now.isoformat(), "seen_at": now.isoformat()}
        pipe = self._redis.pipeline()
        pipe.set(PREFIX + key, json.dumps(record), ex=self._ttl())
        pipe.sadd(USER_SESSIONS + str(account_id), key)
        pipe.expire(USER_SESSIONS + str(account_id), int(self._absolute.total_seconds()) + 60)
        pipe.execute()
        return token

    def _ttl(self) -> int:
        return max(1, int(self._idle.total_seconds()))

    def get(self, token: str | None, touch: bool = True) -> StaffSession | None:
        """The session behind a token; None if unknown, idle too long or too old. `touch` counts
        this as activity (a person did something); a page's automatic polling does not."""
        if not token or len(token) > 100:
            return None
        key = _hash(token)
        raw = self._redis.get(PREFIX + key)
        if raw is None:
            return None
        record = json.loads(raw)
        now = self._clock.now()
        created = datetime.fromisoformat(record["created_at"])
        seen = datetime.fromisoformat(record["seen_at"])
        if now - seen >= self._idle or now - created >= self._absolute:
            self._redis.delete(PREFIX + key)
            return None
        if touch:
            seen = now
            record["seen_at"] = now.isoformat()
            self._redis.set(PREFIX + key, json.dumps(record), ex=self._ttl())
        return StaffSession(key, int(record["account_id"]), record["username"], record["role"], record["csrf"],
                            created, seen)

    def end(self, session: StaffSession) -> None:
        self._redis.delete(PREFIX + session.token_hash)
        self._redis.srem(USER_SESSIONS + str(session.account_id), session.token_hash)

    def end_all(self, account_id: int) -> None:
        """Every session of one account (password reset, account disabled)."""
        keys = self._redis.smembers(USER_SESSIONS + str(account_id))
        if keys:
            self._redis.delete(*(PREFIX + k.decode() for k in keys))
        self._redis.delete(USER_SESSIONS + str(account_id))

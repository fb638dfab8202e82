"""Wake-ups for long-polling web chat readers, across webhook replicas and workers (Redis pub/sub).

Pub/sub wakes every reader of a conversation (two tabs, or a reload whose old request still
waits). A reader subscribes *before* it looks in the database, so a message stored between
the look and the wait still wakes it: nothing is missed, and a reader never waits for news
that is already there.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from typing import Iterator

import redis
from redis.client import PubSub

log = logging.getLogger(__name__)


class Subscription:
    def __init__(self, pubsub: PubSub | None, step_seconds: float) -> None:
        self._pubsub = pubsub
        self._step = step_seconds

    def wait(self, seconds: float) -> bool:
        """Block until a notice arrives (True) or `seconds` pass (False)."""
        if self._pubsub is None:
            return False
        deadline = time.monotonic() + seconds
        try:
            while (remaining := deadline - time.monotonic()) > 0:
                # short steps stay below the Redis client's socket timeout
                if self._pubsub.get_message(ignore_subscribe_messages=True, timeout=min(self._step, remaining)):
                    return True
        except redis.RedisError:
            log.warning("chat wait interrupted (Redis); answering at once")
        return False


class ChatNotifier:
    """'Something new in conversation N', published by whoever stores a web message."""

    def __init__(self, client: redis.Redis, prefix: str = "assistant:web:notify:", step_seconds: float = 4.0) -> None:
        self._redis = client
        self._prefix = prefix
        self._step = step_seconds

    def channel(self, conversation_id: int) -> str:
        return f"{self._prefix}{conversation_id}"

    def notify(self, conversation_id: int) -> None:
        try:
            self._redis.publish(self.channel(conversation_id), b"1")
        except redis.RedisError:
            log.warning("chat notice for conversation %s not sent (Redis); readers catch up on their next poll",
                        conversation_id)

    @contextmanager
    def subscription(self, conversation_id: int) -> Iterator[Subscription]:
        """Subscribed (and confirmed) on entry; without Redis, a subscription that never waits."""
        pubsub: PubSub | None = None
        try:
            pubsub = self._redis.pubsub()
            pubsub.subscribe(self.channel(conversation_id))
            pubsub.get_message(timeout=self._step)  # the confirmation: subscribed from here on
        except redis.RedisError:
            log.warning("chat wait unavailable (Redis); answering at once")
            if pubsub is not None:
                pubsub.close()
            pubsub = None
        try:
            yield Subscription(pubsub, self._step)
        finally:
            if pubsub is not None:
                try:
                    pubsub.close()
                except redis.RedisError:
                    pass

"""Opening, claiming and closing handoffs, and telling staff about them.

The store decides (one open handoff per conversation, conditional updates); this service adds
what follows a change: the queue pages learn of it through a version number in Redis, and a
new safety handoff can text an on-call number.
"""
from __future__ import annotations

import logging
from typing import Callable

import redis

from bot.clock import Clock
from bot.handoff.hours import StaffHours
from bot.handoff.store import HandoffStore, Opened
from bot.storage.models import Handoff

log = logging.getLogger(__name__)

VERSION_KEY = "assistant:handoff-version"
URGENT = 1  # the priority of safety flags


class QueueSignal:
    """A number that goes up whenever the queue changes: staff pages poll it (cheap, one GET
    on Redis) and reload when it moved. Losing it (Redis restart) only costs one reload."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def changed(self) -> None:
        try:
            self._redis.incr(VERSION_KEY)
        except redis.RedisError as exc:
            log.warning("handoff queue signal lost (%s); pages refresh on their own timer", type(exc).__name__)

    def version(self) -> int:
        return int(self._redis.get(VERSION_KEY) or 0)


class HandoffService:
    def __init__(self, store: HandoffStore, signal: QueueSignal, clock: Clock, hours: StaffHours, timezone: str,
                 on_urgent: Callable[[Handoff], None] | None = None) -> None:
        self.store = store
        self._signal = signal
        self._clock = clock
        self._hours = hours
        self._timezone = timezone
        self._on_urgent = on_urgent

    def start(self, conversation_id: int, reason: str, report_id: int | None = None) -> Opened:
        opened = self.store.open(conversation_id, reason, report_id)
        if opened.created or opened.raised:
            self._signal.changed()
            log.info("handoff %s %s: %s", opened.handoff.id, "opened" if opened.created else "raised", reason)
            if opened.handoff.priority == URGENT and self._on_urgent is not None:
                try:
                    self._on_urgent(opened.handoff)
                except Exception:  # a page to on-call must never cost the resident their answer
                    log.exception("on-call notice for handoff %s failed", opened.handoff.id)
        return opened

    def holding(self, conversation_id: int) -> Handoff | None:
        """The open handoff that keeps the assistant silent in this conversation, if any."""
        handoff = self.store.open_for(conversation_id)
        return handoff if handoff is not None and handoff.holds else None

    def resident_wrote(self, handoff: Handoff) -> None:
        """A new message in a handoff: the staff pages show it without waiting for their timer."""
        self._signal.changed()

    def staffed_now(self) -> bool:
        return self._hours.staffed(self._clock.now(), self._timezone)

    def claim(self, handoff_id: int, staff_id: int, take_over: bool = False) -> bool:
        done = self.store.claim(handoff_id, staff_id, take_over)
        if done:
            self._signal.changed()
        return done

    def resolve(self, handoff_id: int, by: str) -> bool:
        done = self.store.resolve(handoff_id, by)
        if done:
            self._signal.changed()
            log.info("handoff %s resolved", handoff_id)
        return done

    def version(self) -> int:
        return self._signal.version()

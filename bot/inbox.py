"""Accepting an inbound message: dedupe, store, rate-limit, enqueue. Channel-agnostic.

The order matters: the message is in the database before anyone acknowledges it, and
a failure to enqueue is not a loss (the recovery sweep finds stored, unhandled messages).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from typing import Sequence

import redis

from bot import metrics
from bot.identity import address_hash
from bot.jobs import enqueue_conversation, send_notice
from bot.services import Services

log = logging.getLogger(__name__)

MAX_STORED_CHARS = 10_000


class Outcome(str, Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True)
class AcceptResult:
    outcome: Outcome
    message_id: int | None
    conversation_id: int | None
    queued: bool


class Inbox:
    def __init__(self, services: Services) -> None:
        self._s = services

    def accept(self, channel: str, address: str, text: str, external_id: str | None,
               num_media: int = 0, media: Sequence[tuple[str, str | None]] = ()) -> AcceptResult:
        with self._s.db.one_connection():  # one checkout for the conversation and the message
            result = self._accept(channel, address, text, external_id, num_media, media)
        metrics.inbound(channel, result.outcome.value)
        return result

    def _accept(self, channel: str, address: str, text: str, external_id: str | None,
                num_media: int, media: Sequence[tuple[str, str | None]]) -> AcceptResult:
        s = self._s
        dedupe_key = f"{channel}:{external_id}" if external_id else None
        if dedupe_key:
            try:
                if not s.dedupe.first_time(dedupe_key):
                    return AcceptResult(Outcome.DUPLICATE, None, None, False)
            except redis.RedisError:
                log.warning("dedupe unavailable (Redis); relying on the database constraint")
        try:
            conversation = s.conversations.get_or_create(channel, address_hash(s.settings.sender_id_key, channel,
                                                                                 address), address)
            message, created = s.messages.record_inbound(conversation.id, channel, text[:MAX_STORED_CHARS],
                                                         external_id, num_media, media)
        except Exception:
            if dedupe_key:
                try:
                    s.dedupe.forget(dedupe_key)  # let the provider's retry through
                except redis.RedisError:
                    pass
            raise
        if not created:
            return AcceptResult(Outcome.DUPLICATE, message.id, conversation.id, False)

        try:
            decision = s.rate_limiter.hit(conversation.address_hash)
            if not decision.allowed and not s.safety.screen(text).flagged:
                # Kept for the transcript, never sent to Rasa; the resident is told once per window.
                s.messages.mark_processed(message.id, intent="rate_limited")
                if decision.first_refusal:
                    s.queue.enqueue(send_notice, conversation.id, "utter_rate_limited")
                return AcceptResult(Outcome.RATE_LIMITED, message.id, conversation.id, decision.first_refusal)
            enqueue_conversation(s, conversation.id)
            return AcceptResult(Outcome.ACCEPTED, message.id, conversation.id, True)
        except redis.RedisError:
            log.warning("queue unavailable; message %s stays stored for the recovery sweep", message.id)
            return AcceptResult(Outcome.ACCEPTED, message.id, conversation.id, False)


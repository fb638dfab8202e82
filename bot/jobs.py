"""Queue jobs (RQ on Redis). Functions take ids, never objects, so any worker replica can run them.

Per-resident order: each job takes the conversation's Redis lock and handles every pending
message of that conversation, oldest first. A job that finds nothing pending does nothing,
so enqueuing a conversation twice is harmless.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from rq import Retry

from bot.pipeline import TurnDeferred
from bot.services import Services, get_services

log = logging.getLogger(__name__)

LOCK_PREFIX = "assistant:lock:conversation:"


class ConversationBusy(Exception):
    """Another worker held the conversation for too long; RQ retries this job."""


def enqueue_conversation(services: Services, conversation_id: int, delay: float = 0.0) -> None:
    if delay > 0:
        services.queue.enqueue_in(timedelta(seconds=delay), process_conversation, conversation_id,
                                  retry=Retry(max=3, interval=[5, 30, 120]))
    else:
        services.queue.enqueue(process_conversation, conversation_id, retry=Retry(max=3, interval=[5, 30, 120]))


def process_conversation(conversation_id: int) -> int:
    services = get_services()
    seconds = services.settings.conversation_lock_seconds
    lock = services.redis.lock(f"{LOCK_PREFIX}{conversation_id}", timeout=seconds, blocking_timeout=seconds)
    if not lock.acquire():
        raise ConversationBusy(str(conversation_id))
    try:
        return services.pipeline.process_pending(conversation_id)
    except TurnDeferred as deferred:
        delays = services.settings.turn_retry_delays or (0.0,)
        delay = delays[min(deferred.attempts - 1, len(delays) - 1)]
        enqueue_conversation(services, conversation_id, delay)
        return 0
    finally:
        try:
            lock.release()
        except Exception:  # the lock expired: another worker may already own it
            log.warning("conversation %s lock expired before release", conversation_id)


def schedule_outbound_retry(services: Services, message_id: int, attempt: int) -> None:
    delays = services.settings.outbound_retry_delays
    if attempt > len(delays):
        services.outbound.give_up(message_id, f"gave up after {attempt} attempts")
        return
    delay = delays[attempt - 1]
    if delay > 0:
        services.queue.enqueue_in(timedelta(seconds=delay), retry_outbound, message_id, attempt + 1)
    else:
        services.queue.enqueue(retry_outbound, message_id, attempt + 1)


def retry_outbound(message_id: int, attempt: int) -> None:
    services = get_services()
    message = services.messages.get(message_id)
    conversation = services.conversations.get(message.conversation_id)
    services.outbound.resend(message_id, conversation, attempt)


def send_notice(conversation_id: int, response: str) -> None:
    """A one-off pipeline answer outside a turn (for example: slow down, you hit the rate limit)."""
    services = get_services()
    conversation = services.conversations.get(conversation_id)
    language = conversation.language or services.profile.languages[0]
    services.pipeline.reply_with(conversation, response, language, author="system")


def recover_pending(services: Services) -> int:
    """Re-enqueue conversations whose stored messages were never finished (a worker died,
    Redis restarted and lost its queue). Safe to run anywhere, any time."""
    cutoff = services.clock.now() - timedelta(seconds=services.settings.recovery_age_seconds)
    conversation_ids = services.messages.stale_pending_conversations(cutoff)
    for conversation_id in conversation_ids:
        enqueue_conversation(services, conversation_id)
    if conversation_ids:
        log.info("recovery: re-enqueued %d conversation(s)", len(conversation_ids))
    return len(conversation_ids)

"""Queue jobs (RQ on Redis). Functions take ids, never objects, so any worker replica can run them.

Per-resident order: each job takes the conversation's Redis lock and handles every pending
message of that conversation, oldest first. A job that finds nothing pending does nothing,
so enqueuing a conversation twice is harmless.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import timedelta
from typing import Iterator

from redis.exceptions import LockError
from redis.lock import Lock
from rq import Retry

from bot.pipeline import TurnDeferred
from bot.services import Services, get_services

log = logging.getLogger(__name__)

LOCK_PREFIX = "assistant:lock:conversation:"


class ConversationBusy(Exception):
    """Another worker held the conversation for too long; RQ retries this job."""


class LockLost(Exception):
    """The conversation's lock expired during a long backlog, and may now be another worker's."""


def enqueue_conversation(services: Services, conversation_id: int, delay: float = 0.0) -> None:
    if delay > 0:
        services.queue.enqueue_in(timedelta(seconds=delay), process_conversation, conversation_id,
                                  retry=Retry(max=3, interval=[5, 30, 120]))
    else:
        services.queue.enqueue(process_conversation, conversation_id, retry=Retry(max=3, interval=[5, 30, 120]))


@contextmanager
def conversation_lock(services: Services, conversation_id: int) -> Iterator[Lock | None]:
    """The conversation's Redis lock (turns and reply retries take it): yields it if it was
    acquired within the lock's own timeout (else None), and releases it after."""
    seconds = services.settings.conversation_lock_seconds
    lock = services.redis.lock(f"{LOCK_PREFIX}{conversation_id}", timeout=seconds, blocking_timeout=seconds)
    if not lock.acquire():
        yield None
        return
    try:
        yield lock
    finally:
        try:
            lock.release()
        except Exception:  # the lock expired: another worker may already own it
            log.warning("conversation %s lock expired before release", conversation_id)


def _renew(lock: Lock) -> None:
    """Give the lock its full timeout again, if it is still ours."""
    try:
        lock.reacquire()
    except LockError as exc:
        raise LockLost() from exc


def process_conversation(conversation_id: int) -> int:
    services = get_services()
    with conversation_lock(services, conversation_id) as lock:
        if lock is None:
            raise ConversationBusy(str(conversation_id))
        try:
            with services.db.one_connection():
                return services.pipeline.process_pending(conversation_id, renew=lambda: _renew(lock))
        except LockLost:
            # Another worker may be answering this resident now: stop, and leave what is still
            # pending to a new job, which waits for the lock (answers stay in order).
            log.warning("conversation %s lock expired during its backlog; re-enqueued", conversation_id)
            enqueue_conversation(services, conversation_id)
            return 0
        except TurnDeferred as deferred:
            delays = services.settings.turn_retry_delays or (0.0,)
            delay = delays[min(deferred.attempts - 1, len(delays) - 1)]
            enqueue_conversation(services, conversation_id, delay)
            return 0


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
    """Under the conversation's lock, like a turn: the replies a turn queues behind this one
    (bot/outbound.py, `_held_back`) are then sent by this job, in order, and never by both."""
    services = get_services()
    message = services.messages.get(message_id)
    conversation = services.conversations.get(message.conversation_id)
    with conversation_lock(services, conversation.id) as lock:
        if lock is None:
            # a turn held the conversation all this time: try again soon, without spending an attempt
            delays = services.settings.outbound_retry_delays or (1.0,)
            services.queue.enqueue_in(timedelta(seconds=max(delays[0], 1.0)), retry_outbound, message_id, attempt)
            return
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


def recover_outbound(services: Services) -> int:
    """Re-enqueue the retry of SMS replies left "retrying" past their last retry delay: their
    retry job was lost (Redis restarted without persistence, or could not be reached when the
    retry was scheduled). Replies queued behind one of them go out after it (bot/outbound.py),
    so a lost retry would otherwise hold up every later answer to that resident (found by
    tests/test_faults.py, Redis restart). A retry that was only late is harmless: the retry job
    takes the conversation's lock and sends a reply only while it is still waiting."""
    settings = services.settings
    wait = max(settings.outbound_retry_delays or (0.0,)) + settings.recovery_age_seconds
    cutoff = services.clock.now() - timedelta(seconds=wait)
    recovered = 0
    for message_id, attempts in services.messages.stale_retrying(cutoff):
        # Claimed by a conditional update (still waiting, still stale), so the next sweeps leave
        # it to this job for another full wait, and a reply sent meanwhile is never sent again.
        if services.messages.claim_stale_retry(message_id, cutoff):
            services.queue.enqueue(retry_outbound, message_id, (attempts or 1) + 1)
            recovered += 1
    if recovered:
        log.info("recovery: re-enqueued %d reply retry(ies)", recovered)
    return recovered

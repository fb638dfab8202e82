"""Web chat sessions: the website widget's side of the conversation, framework-free.

A session is an unguessable bearer token (256 random bits) that the browser keeps. The
database never holds the token: the conversation's `address` is its SHA-256, and Rasa,
Redis and logs see only the keyed hash of that. Whoever holds the token is the resident
of that conversation, so it travels in an Authorization header, never in a URL.

Inbound web messages take the same path as SMS (bot/inbox.py: dedupe, store, per-session
rate limit, queue); the pipeline skips consent keywords for the web channel and applies
the safety screen. Readers long-poll: a Redis channel per conversation wakes them when a
message is stored, on whichever webhook replica they wait (bot/chat_notices.py).

A session expires after WEB_SESSION_IDLE_SECONDS without a message (from the resident, the
assistant or staff), judged from the transcript already in the database: the conversation's
start and every message's time. Any silence that long anywhere in the transcript ends the
session for good, so a message stored later (a staff reply to an old chat) cannot revive a
token that was left on a shared computer.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import select

from bot.chat_notices import ChatNotifier
from bot.guards import RateLimiter
from bot.identity import address_hash
from bot.inbox import AcceptResult, Inbox, Outcome
from bot.services import Services
from bot.storage.models import Conversation, Message

CHANNEL = "web"
TOKEN_BYTES = 32
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)
CLIENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,40}$")
MAX_MESSAGES_PER_READ = 200


def session_address(token: str) -> str:
    """What the database keeps for a session: a one-way digest of the token."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def longest_silence(started: datetime, stamps: Iterable[datetime], now: datetime) -> timedelta:
    """The longest time without a message between the session's start and now."""
    longest, previous = timedelta(0), started
    for stamp in [*stamps, now]:
        longest = max(longest, stamp - previous)
        previous = max(previous, stamp)
    return longest


@dataclass(frozen=True)
class SentMessage:
    outcome: Outcome
    message_id: int | None


class WebChatService:
    def __init__(self, services: Services) -> None:
        self._s = services
        settings = services.settings
        self._ip_messages = RateLimiter(services.redis, settings.web_ip_rate_limit_count,
                                        settings.web_ip_rate_limit_window_seconds, prefix="assistant:web:ip:msg:")
        self._ip_sessions = RateLimiter(services.redis, settings.web_sessions_per_ip,
                                        settings.web_sessions_window_seconds, prefix="assistant:web:ip:session:")

    # -- sessions --------------------------------------------------------------------------

    def start(self, language: str | None) -> tuple[str, Conversation]:
        """A new session: returns the token (shown to the browser once) and its conversation."""
        s = self._s
        token = secrets.token_urlsafe(TOKEN_BYTES)
        address = session_address(token)
        conversation = s.conversations.get_or_create(
            CHANNEL, address_hash(s.settings.sender_id_key, CHANNEL, address), address)
        if language and language in s.profile.languages:
            s.conversations.set_language(conversation.id, language)
            conversation = s.conversations.get(conversation.id)
        return token, conversation

    def find(self, token: str) -> Conversation | None:
        """The session's conversation, or None for a malformed, forged or unknown token."""
        if not TOKEN_PATTERN.match(token):
            return None
        s = self._s
        conversation = s.conversations.find(CHANNEL, address_hash(s.settings.sender_id_key, CHANNEL,
                                                                  session_address(token)))
        if conversation is None or self.expired(conversation):
            return None
        return conversation

    def expired(self, conversation: Conversation) -> bool:
        """True once the session has gone WEB_SESSION_IDLE_SECONDS without a message."""
        idle_seconds = self._s.settings.web_session_idle_seconds
        if idle_seconds <= 0:
            return False
        with self._s.db.session() as session:
            stamps = list(session.execute(
                select(Message.created_at).where(Message.conversation_id == conversation.id).order_by(Message.id)
            ).scalars())
        return longest_silence(conversation.created_at, stamps, self._s.clock.now()) > timedelta(seconds=idle_seconds)

    # -- flood guards (per client IP; per session is the inbox's per-sender limit) ---------------

    def _ip_key(self, ip: str) -> str:
        return address_hash(self._s.settings.sender_id_key, "ip", ip)

    def may_start_session(self, ip: str) -> bool:
        return self._ip_sessions.hit(self._ip_key(ip)).allowed

    def may_send(self, ip: str) -> bool:
        return self._ip_messages.hit(self._ip_key(ip)).allowed

    # -- messages --------------------------------------------------------------------------

    def send(self, conversation: Conversation, text: str, client_id: str) -> SentMessage:
        """Store and queue one resident message. The same client id twice (a browser retry)
        is one message. Client ids are scoped to the session, so one session cannot collide
        with, or probe, another's."""
        if not CLIENT_ID_PATTERN.match(client_id):
            raise ValueError("client id must be 8-40 letters, digits, '-' or '_'")
        external_id = f"{conversation.address_hash[:16]}-{client_id}"
        result: AcceptResult = Inbox(self._s).accept(CHANNEL, conversation.address, text, external_id)
        message_id = result.message_id
        if message_id is None:
            found = self._s.messages.by_external_id(CHANNEL, external_id)
            message_id = found.id if found else None
        if result.outcome is not Outcome.DUPLICATE:
            self.notifier.notify(conversation.id)
        return SentMessage(result.outcome, message_id)

    @property
    def notifier(self) -> ChatNotifier:
        return self._s.chat_notifier

    def read(self, conversation_id: int, after_id: int, wait_seconds: float = 0.0) -> list[Message]:
        """Messages newer than `after_id`; with nothing new, wait up to `wait_seconds` for one
        (long polling). Returns at once whenever there is something to return."""
        messages = self._s.messages
        if wait_seconds <= 0:
            return messages.after(conversation_id, after_id, MAX_MESSAGES_PER_READ)
        with self.notifier.subscription(conversation_id) as subscription:
            found = messages.after(conversation_id, after_id, MAX_MESSAGES_PER_READ)
            if found or not subscription.wait(wait_seconds):
                return found
        return messages.after(conversation_id, after_id, MAX_MESSAGES_PER_READ)

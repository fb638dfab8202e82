"""Every outbound message goes through OutboundService: it is recorded, checked against the
opt-out ledger, then sent through Twilio's REST API (or kept in the development outbox)."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

from bot import metrics
from bot.sms import Button, truncate_sms
from bot.storage.consent import ConsentStore
from bot.storage.messages import MessageStore
from bot.storage.models import Conversation, Message, OutboundStatus

log = logging.getLogger(__name__)

TWILIO_OPTED_OUT = 21610


class SendError(Exception):
    def __init__(self, message: str, retryable: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


class SmsGateway(Protocol):
    recorded_only: bool

    def send(self, to: str, body: str) -> str:
        """Send one SMS; returns the provider's message id; raises SendError."""


class DevOutboxGateway:
    """Development phone: nothing leaves the machine; the message row is the outbox."""

    recorded_only = True

    def send(self, to: str, body: str) -> str:
        return "DV" + uuid.uuid4().hex


@dataclass(frozen=True)
class TwilioConfig:
    account_sid: str
    auth_token: str
    from_number: str | None
    messaging_service_sid: str | None
    status_callback: str | None = None
    api_base_url: str | None = None
    timeout: float = 10.0


class TwilioGateway:
    """Twilio's Messages API through the official library (created lazily, per process)."""

    recorded_only = False

    def __init__(self, config: TwilioConfig) -> None:
        self._config = config
        self._client = None

    def _get_client(self):  # type: ignore[no-untyped-def]
        if self._client is None:
            from twilio.http.http_client import TwilioHttpClient
            from twilio.rest import Client

            client = Client(self._config.account_sid, self._config.auth_token,
                            http_client=TwilioHttpClient(timeout=self._config.timeout))
            if self._config.api_base_url:
                client.api.base_url = self._config.api_base_url.rstrip("/")
            self._client = client
        return self._client

    def send(self, to: str, body: str) -> str:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        kwargs: dict[str, str] = {"to": to, "body": body}
        if self._config.messaging_service_sid:
            kwargs["messaging_service_sid"] = self._config.messaging_service_sid
        else:
            kwargs["from_"] = self._config.from_number or ""
        if self._config.status_callback:
            kwargs["status_callback"] = self._config.status_callback
        try:
            message = self._get_client().messages.create(**kwargs)
        except TwilioRestException as exc:
            retryable = exc.status == 429 or exc.status >= 500
            raise SendError(f"twilio HTTP {exc.status} code {exc.code}", retryable, exc.code) from exc
        except (TwilioException, OSError) as exc:
            raise SendError(f"twilio unreachable: {type(exc).__name__}", True) from exc
        except Exception as exc:  # requests' own errors surface from the HTTP client
            if type(exc).__module__.startswith("requests"):
                raise SendError(f"twilio unreachable: {type(exc).__name__}", True) from exc
            raise
        return str(message.sid)


class OutboundService:
    def __init__(
        self,
        messages: MessageStore,
        consent: ConsentStore,
        gateway: SmsGateway,
        schedule_retry: Callable[[int, int], None] | None = None,
        max_chars: int = 1600,
        on_web_message: Callable[[int], None] | None = None,
    ) -> None:
        self._messages = messages
        self._consent = consent
        self._gateway = gateway
        self._schedule_retry = schedule_retry
        self._max_chars = max_chars
        self._on_web_message = on_web_message

    def send(self, conversation: Conversation, text: str, author: str = "assistant",
             buttons: Sequence[Button] = ()) -> Message:
        """`buttons` are kept with the message: SMS already carries them as a numbered menu
        in `text`; the web widget shows them as buttons."""
        text = truncate_sms(text, self._max_chars)
        if conversation.channel == "sms" and self._consent.is_opted_out(conversation.address_hash):
            metrics.outbound(conversation.channel, OutboundStatus.BLOCKED)
            return self._messages.record_outbound(conversation.id, conversation.channel, author, text,
                                                  OutboundStatus.BLOCKED, buttons)
        message = self._messages.record_outbound(conversation.id, conversation.channel, author, text,
                                                 OutboundStatus.QUEUED, buttons)
        if conversation.channel != "sms":
            # Web chat: the stored row is the delivery; wake the resident's waiting browser.
            self._messages.update_outbound(message.id, OutboundStatus.DELIVERED)
            metrics.outbound(conversation.channel, OutboundStatus.DELIVERED)
            if self._on_web_message is not None:
                self._on_web_message(conversation.id)
            return self._messages.get(message.id)
        if self._held_back(conversation.id, message.id):
            # Stays queued: the retry of the earlier reply sends it after that one (send_held).
            log.info("outbound message %s waits for an earlier reply's retry", message.id)
            return self._messages.get(message.id)
        self._deliver(message.id, conversation, text, attempt=1)
        return self._messages.get(message.id)

    def record_replies(self, conversation: Conversation, reply_to: int,
                       replies: Sequence[tuple[str, Sequence[Button]]], intent: str | None = None,
                       confidence: float | None = None) -> list[Message]:
        """A Rasa turn's replies (text, buttons), recorded all at once as answering inbound
        message `reply_to`, none sent yet: queued (SMS), blocked (an opted-out number) or
        delivered (web chat: the stored row is the delivery). Once that is committed,
        `release_replies` sends them. The caller marks the inbound message handled after; if
        the turn is interrupted in between (a worker killed, a database error, a job over its
        time), its next attempt finds the replies recorded and calls `deliver_replies` instead
        of running the turn again."""
        if not replies:
            return []
        replies = [(truncate_sms(text, self._max_chars), buttons) for text, buttons in replies]
        if conversation.channel == "sms" and self._consent.is_opted_out(conversation.address_hash):
            status = OutboundStatus.BLOCKED
        elif conversation.channel != "sms":
            status = OutboundStatus.DELIVERED
        else:
            status = OutboundStatus.QUEUED
        return self._messages.record_replies(conversation.id, conversation.channel, reply_to, replies, status,
                                             intent, confidence)

    def release_replies(self, conversation: Conversation, recorded: Sequence[Message]) -> None:
        """After `record_replies` is committed: SMS replies go out in order; web replies wake
        the resident's waiting browser (which then reads them)."""
        if not recorded:
            return
        status = recorded[0].status
        if status == OutboundStatus.QUEUED:
            self.deliver_replies(conversation, recorded)
            return
        for _ in recorded:
            metrics.outbound(conversation.channel, status)
        if status == OutboundStatus.DELIVERED and self._on_web_message is not None:
            self._on_web_message(conversation.id)

    def deliver_replies(self, conversation: Conversation, replies: Sequence[Message]) -> None:
        """Send, in order, those of a turn's recorded replies still queued; stop at one that has
        to wait for an earlier reply's retry, or that is retried itself (the rest go out after
        it, `send_held`)."""
        for reply in replies:
            if reply.status != OutboundStatus.QUEUED or reply.channel != "sms":
                continue
            if self._held_back(conversation.id, reply.id):
                log.info("outbound message %s waits for an earlier reply's retry", reply.id)
                return
            if self._deliver(reply.id, conversation, reply.text, attempt=1) == OutboundStatus.RETRYING:
                return

    def resend(self, message_id: int, conversation: Conversation, attempt: int) -> None:
        """Retry job entry point: re-checks consent, since the resident may have opted out since.
        Once this reply is settled (sent, refused, given up), the replies queued behind it go out,
        in order. The caller holds the conversation's lock (bot/jobs.py), as a turn does."""
        message = self._messages.get(message_id)
        if message.status not in (OutboundStatus.RETRYING, OutboundStatus.QUEUED):
            return
        if self._consent.is_opted_out(conversation.address_hash):
            self._messages.update_outbound(message_id, OutboundStatus.BLOCKED)
            metrics.outbound(conversation.channel, OutboundStatus.BLOCKED)
        elif self._deliver(message_id, conversation, message.text, attempt) == OutboundStatus.RETRYING:
            return
        self.send_held(conversation, message_id)

    def send_held(self, conversation: Conversation, after_id: int) -> None:
        """Send, oldest first, the replies that waited behind a retried one (`_held_back`), until
        one of them has to be retried in turn (the rest wait behind it)."""
        for message in self._messages.after(conversation.id, after_id):
            if message.direction != "out" or message.channel != "sms" or message.status != OutboundStatus.QUEUED:
                continue
            if self._consent.is_opted_out(conversation.address_hash):
                self._messages.update_outbound(message.id, OutboundStatus.BLOCKED)
                metrics.outbound(conversation.channel, OutboundStatus.BLOCKED)
            elif self._deliver(message.id, conversation, message.text, attempt=1) == OutboundStatus.RETRYING:
                return

    def _held_back(self, conversation_id: int, message_id: int) -> bool:
        """Whether an earlier SMS reply of the conversation is waiting for a retry (Twilio answered
        429/5xx or was unreachable). Sending this one now would overtake it: the resident would read
        the answers out of order (found by tests/test_faults.py with Twilio answering 429 and 500).
        Only replies that can be retried can wait, so the development outbox never looks."""
        if self._schedule_retry is None or self._gateway.recorded_only:
            return False
        return self._messages.retrying_before(conversation_id, message_id)

    def _deliver(self, message_id: int, conversation: Conversation, text: str, attempt: int) -> str:
        """One attempt; returns the reply's status after it."""
        try:
            external_id = self._gateway.send(conversation.address, text)
        except SendError as exc:
            if exc.code == TWILIO_OPTED_OUT:
                self._consent.set_opted_out(conversation.address_hash, True, "21610")
                self._messages.update_outbound(message_id, OutboundStatus.BLOCKED, error=str(exc),
                                               attempts=attempt)
                metrics.outbound(conversation.channel, OutboundStatus.BLOCKED)
                return OutboundStatus.BLOCKED
            if exc.retryable and self._schedule_retry is not None:
                self._messages.update_outbound(message_id, OutboundStatus.RETRYING, error=str(exc),
                                               attempts=attempt)
                try:
                    self._schedule_retry(message_id, attempt)
                except Exception as schedule_error:  # the queue (Redis) is down as well
                    # The reply stays "retrying" in the database and the recovery sweep sends it
                    # (bot/jobs.py, recover_outbound); failing here would fail the whole turn for a
                    # reply that is already safe in the database (tests/test_faults.py, Redis restart).
                    log.warning("retry of outbound message %s not scheduled (%s); left to the recovery sweep",
                                message_id, type(schedule_error).__name__)
                metrics.outbound(conversation.channel, OutboundStatus.RETRYING)
                # the retry schedule may have given up at once (no retries configured)
                return self._messages.get(message_id).status
            log.warning("outbound message %s failed: %s", message_id, exc)
            self._messages.update_outbound(message_id, OutboundStatus.FAILED, error=str(exc), attempts=attempt)
            metrics.outbound(conversation.channel, OutboundStatus.FAILED)
            return OutboundStatus.FAILED
        status = OutboundStatus.RECORDED if self._gateway.recorded_only else OutboundStatus.SENT
        self._messages.update_outbound(message_id, status, external_id=external_id, attempts=attempt)
        metrics.outbound(conversation.channel, status)
        return status

    def give_up(self, message_id: int, error: str) -> None:
        self._messages.update_outbound(message_id, OutboundStatus.FAILED, error=error)
        metrics.outbound("sms", OutboundStatus.FAILED)  # only SMS sends are retried, so only they give up



"""The conversation pipeline: the same steps for every channel, for every inbound message.

1. consent keywords (SMS)   2. safety screen   3. handoff routing   4. Rasa turn   5. render
A conversation handed to a person skips the Rasa turn: its messages wait for staff (the
safety screen still answers emergencies first).
A worker runs it for one conversation at a time (see bot/jobs.py), oldest message first.
"""
from __future__ import annotations

import logging
import re
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from bot import language as languages
from bot import metrics
from bot.consent import ConsentKeyword, classify
from bot.department import DepartmentProfile
from bot.handoff.service import HandoffService
from bot.handoff.words import wants_assistant
from bot.identity import sender_id
from bot.outbound import OutboundService
from bot.private_answers import (
    PRIVATE_NAME_MARKER, PRIVATE_NAME_PAYLOAD, QUESTION_CONFIDENCE, QUESTION_INTENTS, name_from,
)
from bot.rasa_client import RasaClient, RasaError
from bot.reports.media import MediaIntake, MediaOutcome
from bot.responses import ResponseCatalog
from bot.safety import SafetyKind, SafetyScreen, SafetyVerdict
from bot.sms import Button, menu_choice, normalize_gsm, render_menu
from bot.storage.consent import ConsentStore
from bot.storage.conversations import ConversationStore
from bot.storage.messages import MessageStore
from bot.storage.models import Conversation, Handoff, Message

log = logging.getLogger(__name__)

# What Rasa's NLU reads: long messages keep their start (residents put the point first
# as often as last, and the safety screen has already read the whole text).
MAX_NLU_CHARS = 1000
PHOTO_PAYLOAD = "/send_photo"
LEAVE_FORM_PAYLOAD = "/leave_form"
_LANGUAGE_PAYLOAD = re.compile(r'^/change_language\{\s*"language"\s*:\s*"(?P<lang>[a-z]{2})"\s*\}$')


def _safety_answer(verdict: SafetyVerdict) -> str:
    """The clear tier's answer: 911, 988, or 988 guidance for helping someone else."""
    if verdict.kind is SafetyKind.CRISIS:
        return "utter_crisis_other" if verdict.about_other else "utter_crisis"
    return "utter_emergency"


def _safety_line(verdict: SafetyVerdict) -> str:
    return "utter_safety_line_crisis" if verdict.kind is SafetyKind.CRISIS else "utter_safety_line_emergency"


class TurnDeferred(Exception):
    """Rasa did not answer; the job retries the conversation later (bounded)."""

    def __init__(self, message_id: int, attempts: int) -> None:
        super().__init__(f"message {message_id}: attempt {attempts} failed")
        self.message_id = message_id
        self.attempts = attempts


@dataclass(frozen=True)
class TurnContext:
    """What handling an inbound message starts from, read at once (one transaction)."""
    conversation: Conversation
    earlier_replies: list[Message]  # recorded by an earlier, interrupted attempt of its turn
    opted_out: bool
    held: Handoff | None  # the conversation waits for staff


@dataclass(frozen=True)
class PipelineConfig:
    sender_key: str
    max_turn_attempts: int = 3


class ConversationPipeline:
    def __init__(
        self,
        config: PipelineConfig,
        profile: DepartmentProfile,
        conversations: ConversationStore,
        messages: MessageStore,
        consent: ConsentStore,
        safety: SafetyScreen,
        rasa: RasaClient,
        catalog: ResponseCatalog,
        outbound: OutboundService,
        media: MediaIntake | None = None,
        handoffs: HandoffService | None = None,
        transaction: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        self._config = config
        self._profile = profile
        self._conversations = conversations
        self._messages = messages
        self._consent = consent
        self._safety = safety
        self._rasa = rasa
        self._catalog = catalog
        self._outbound = outbound
        self._media = media
        self._handoffs = handoffs
        self._transaction = transaction  # the stores' sessions inside it: one database transaction

    def process_pending(self, conversation_id: int, renew: Callable[[], None] = lambda: None) -> int:
        """Handle every stored, unhandled inbound message of one conversation, in order.
        The caller holds the conversation's lock; `renew` is called before each message to
        extend it (a backlog of slow turns can outlast it), and raises to stop. Raises
        TurnDeferred to retry later."""
        handled = 0
        while True:
            with self._transaction():
                message = self._messages.next_pending(conversation_id)
                if message is None:
                    return handled
                context = self._context(message)
            renew()
            self._handle(message, context)
            handled += 1

    def _context(self, message: Message) -> TurnContext:
        conversation = self._conversations.get(message.conversation_id)
        return TurnContext(
            conversation, self._messages.replies_to(message.id),
            conversation.channel == "sms" and self._consent.is_opted_out(conversation.address_hash),
            self._handoffs.holding(conversation.id) if self._handoffs is not None else None)

    # -- the steps -------------------------------------------------------------------

    def _handle(self, message: Message, context: TurnContext) -> None:
        conversation, opted_out = context.conversation, context.opted_out
        if context.earlier_replies:
            # An earlier attempt of this turn got Rasa's answer and recorded it, then was
            # interrupted before the message was marked handled: send what is still queued
            # rather than ask Rasa again, which would answer a second time.
            self._outbound.deliver_replies(conversation, context.earlier_replies)
            self._messages.mark_processed(message.id, intent=message.intent, confidence=message.confidence)
            return
        text = message.text or ""
        if conversation.channel == "sms":
            keyword = classify(text, opted_out)
            if keyword is not None:
                self._handle_keyword(conversation, message, keyword)
                return

        language = self._language_for(conversation, text)

        verdict = self._safety.screen(text)
        if verdict.flagged:
            assert verdict.kind is not None
            self._conversations.flag(conversation.id, verdict.kind.value)
            metrics.safety_flag(verdict.kind.value)
            self._conversations.set_menu(conversation.id, None)
            self.reply_with(conversation, _safety_answer(verdict), language)
            self._hand_off_flag(conversation, verdict.kind.value, language)
            self._messages.mark_processed(message.id, intent=None, confidence=None, safety=verdict.event)
            log.warning("safety flag on conversation %s (rule %s)", conversation.id, verdict.rule)
            return
        # Possible danger: the normal answer, then one 911/988 line; staff see the event.
        event = verdict.event
        if event is not None:
            metrics.safety_flag(event)
            log.info("possible danger on conversation %s (score %s)", conversation.id, verdict.score)

        if opted_out:
            # Nothing can reach an opted-out number; keep the message for staff, skip the turn.
            self._messages.mark_processed(message.id, safety=event)
            return

        held = context.held
        if held is not None:
            if not wants_assistant(text):
                self._take_photos(message)  # kept for staff, like the words
                if event is not None:
                    self.reply_with(conversation, _safety_line(verdict), language)
                self._messages.mark_processed(message.id, safety=event)
                self._handoffs.resident_wrote(held)  # type: ignore[union-attr]
                return
            self._handoffs.resolve(held.id, by="resident")  # type: ignore[union-attr]
            self.reply_with(conversation, "utter_handoff_back", language)
            text = "/help"  # and the assistant shows what it can do

        photos = self._take_photos(message)
        if photos.news:
            self.reply_with(conversation, "utter_photo_refused" if photos.refused else "utter_photo_failed",
                            language, values={"max_mb": self._media.max_mb if self._media else 5})
        if not text.strip():
            if photos.stored:
                text = PHOTO_PAYLOAD  # Rasa hears that a picture came; the picture stays here
            else:
                if not photos.total:
                    self.reply_with(conversation, "utter_media_only" if message.num_media else "utter_default",
                                    language)
                self._messages.mark_processed(message.id)
                return

        rasa_text = self._resolve_menu_reply(conversation, text)
        language = self._language_from_payload(conversation, rasa_text, language)
        rasa_text = self._keep_private(conversation, rasa_text)
        try:
            with metrics.rasa_turn():
                turn = self._rasa.turn(
                    sender_id(self._config.sender_key, conversation.channel, conversation.address),
                    rasa_text[:MAX_NLU_CHARS],
                    {"channel": conversation.channel, "language": language},
                )
        except RasaError as exc:
            attempts = self._messages.record_failed_attempt(message.id, f"{type(exc).__name__}: {exc}")
            log.warning("rasa turn failed for message %s (attempt %s): %s", message.id, attempts, exc)
            if attempts >= self._config.max_turn_attempts:
                self.reply_with(conversation, "utter_service_apology", language)
                self._messages.mark_failed(message.id, f"gave up after {attempts} attempts")
                return
            raise TurnDeferred(message.id, attempts) from exc

        offered: Sequence[Button] = ()
        expecting = next((m.custom.get("expect") for m in turn.messages
                          if m.custom and m.custom.get("expect") == PRIVATE_NAME_MARKER), None)
        replies: list[tuple[str, Sequence[Button]]] = []
        for bot_message in turn.messages:
            body = bot_message.text
            if bot_message.image:
                body = f"{body}\n{bot_message.image}".strip()
            if bot_message.buttons:
                offered = bot_message.buttons
            rendered = self._render(conversation, body, bot_message.buttons, language)
            if rendered.strip() or bot_message.buttons:
                replies.append((rendered, bot_message.buttons))
        if event is not None:
            line = self._catalog.render(_safety_line(verdict), self.slots(language))
            replies.append((self._render(conversation, line.text, (), language), ()))
        # The turn's outcome in one transaction: what the conversation now expects, its menu and
        # the replies; then they are sent, and the message is marked handled (see `_handle`'s start).
        with self._transaction():
            if expecting != conversation.expecting:
                self._conversations.set_expecting(conversation.id, expecting)
            if list(offered) != self._conversations.menu_of(conversation):  # most answers keep "no menu"
                self._conversations.set_menu(conversation.id, offered or None)
            recorded = self._outbound.record_replies(conversation, message.id, replies, turn.intent, turn.confidence)
        self._outbound.release_replies(conversation, recorded)
        self._messages.mark_processed(message.id, intent=turn.intent, confidence=turn.confidence, safety=event)

    def _hand_off_flag(self, conversation: Conversation, reason: str, language: str) -> None:
        """A safety flag puts the conversation at the top of the staff queue. The resident hears
        once that a person will read it, and when."""
        if self._handoffs is None:
            return
        if self._handoffs.start(conversation.id, reason).created:
            staffed = self._handoffs.staffed_now()
            self.reply_with(conversation, "utter_handoff_flagged" if staffed else "utter_handoff_flagged_closed",
                            language)
            self._end_forms(conversation, language)

    def _end_forms(self, conversation: Conversation, language: str) -> None:
        """A form in progress ends when a person takes over (as `action_request_human` does): when
        the assistant is back, the resident starts afresh instead of answering a stale question.
        Rasa's own answer to the leave payload is not sent; a Rasa failure only costs this."""
        try:
            self._rasa.turn(sender_id(self._config.sender_key, conversation.channel, conversation.address),
                            LEAVE_FORM_PAYLOAD, {"channel": conversation.channel, "language": language})
        except RasaError as exc:
            log.warning("could not end the form of conversation %s: %s", conversation.id, type(exc).__name__)

    def _take_photos(self, message: Message) -> MediaOutcome:
        """Fetch and keep the message's pictures before its turn. A provider that cannot give
        them yet defers the turn, like Rasa failing; on the last attempt they are dropped."""
        if not message.num_media or self._media is None:
            return MediaOutcome()
        last_try = message.attempts + 1 >= self._config.max_turn_attempts
        outcome = self._media.take(message.id, give_up=last_try)
        if outcome.retry:
            attempts = self._messages.record_failed_attempt(message.id, "media not fetched yet")
            raise TurnDeferred(message.id, attempts)
        return outcome

    def _handle_keyword(self, conversation: Conversation, message: Message, keyword: ConsentKeyword) -> None:
        word = (message.text or "").strip().upper()
        language = conversation.language or self._profile.languages[0]
        if keyword is ConsentKeyword.OPT_OUT:
            # Twilio confirms the opt-out itself; nothing may be sent to this number now.
            self._consent.set_opted_out(conversation.address_hash, True, word)
        elif keyword is ConsentKeyword.OPT_IN:
            self._consent.set_opted_out(conversation.address_hash, False, word)
            self.reply_with(conversation, "utter_consent_opted_in", language)
        else:
            self.reply_with(conversation, "utter_consent_help", language)
        self._messages.mark_processed(message.id, intent=f"consent_{keyword.value}", confidence=1.0)

    def _language_for(self, conversation: Conversation, text: str) -> str:
        supported = self._profile.languages
        chosen = languages.choose(conversation.language, text, default=supported[0], supported=supported)
        if chosen != conversation.language:
            self._conversations.set_language(conversation.id, chosen)
        return chosen

    def _language_from_payload(self, conversation: Conversation, text: str, language: str) -> str:
        match = _LANGUAGE_PAYLOAD.match(text.strip())
        if match and match.group("lang") in self._profile.languages and match.group("lang") != language:
            self._conversations.set_language(conversation.id, match.group("lang"))
            return match.group("lang")
        return language

    def _keep_private(self, conversation: Conversation, text: str) -> str:
        """A name asked for by a form goes to the database, never to Rasa (bot/private_answers.py).
        A question asked instead of the name goes to Rasa unchanged (the form resumes after)."""
        if conversation.expecting != PRIVATE_NAME_MARKER or text.startswith("/"):
            return text
        name = name_from(text)
        if name is None:
            return text
        try:
            intent, confidence = self._rasa.parse(text[:MAX_NLU_CHARS])
        except RasaError:
            intent, confidence = None, 0.0
        if intent in QUESTION_INTENTS and confidence >= QUESTION_CONFIDENCE:
            return text
        self._conversations.keep_private_answer(conversation.id, name)
        return PRIVATE_NAME_PAYLOAD

    def _resolve_menu_reply(self, conversation: Conversation, text: str) -> str:
        """'2' after a numbered menu means the second button's payload."""
        menu = self._conversations.menu_of(conversation)
        if menu:
            choice = menu_choice(text, menu)
            if choice is not None:
                return choice.payload
        return text

    # -- rendering and sending ---------------------------------------------------------

    def slots(self, language: str) -> dict[str, Any]:
        return {**self._profile.slot_values(language), "language": language}

    def reply_with(self, conversation: Conversation, response: str, language: str, author: str = "assistant",
                   values: Mapping[str, Any] | None = None) -> None:
        """Send one domain.yml response outside a Rasa turn (safety, consent, apologies, notices)."""
        rendered = self._catalog.render(response, {**self.slots(language), **(values or {})})
        self._send(conversation, rendered.text, rendered.buttons, language, author)

    def _send(self, conversation: Conversation, text: str, buttons: Sequence[Button], language: str,
              author: str = "assistant") -> None:
        body = self._render(conversation, text, buttons, language)
        if body.strip() or buttons:
            self._outbound.send(conversation, body, author, buttons)

    @staticmethod
    def _render(conversation: Conversation, text: str, buttons: Sequence[Button], language: str) -> str:
        if conversation.channel == "sms":
            return normalize_gsm(render_menu(text, buttons, language))
        return text  # the web widget shows the buttons as buttons

"""Conversations: one per resident per channel."""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.sms import Button, buttons_from_json, buttons_to_json
from bot.storage.database import Database
from bot.storage.models import Conversation


class ConversationStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def get_or_create(self, channel: str, address_hash: str, address: str) -> Conversation:
        """Safe when two webhook processes see a new resident at the same moment."""
        found = self.find(channel, address_hash)
        if found is not None:
            return found
        now = self._clock.now()
        try:
            with self._db.session() as session:
                conversation = Conversation(
                    channel=channel, address_hash=address_hash, address=address,
                    flagged=False, created_at=now, updated_at=now,
                )
                session.add(conversation)
            return conversation
        except IntegrityError:
            found = self.find(channel, address_hash)
            if found is None:  # pragma: no cover - the row that won the race must exist
                raise
            return found

    def find(self, channel: str, address_hash: str) -> Conversation | None:
        with self._db.session() as session:
            return session.execute(
                select(Conversation).where(
                    Conversation.channel == channel, Conversation.address_hash == address_hash
                )
            ).scalar_one_or_none()

    def for_rasa_sender(self, rasa_sender_id: str) -> Conversation | None:
        """The conversation behind Rasa's sender id ("sms-<keyed hash>"): actions know a resident
        only by it, never by the phone number."""
        channel, _, address_hash = rasa_sender_id.partition("-")
        return self.find(channel, address_hash) if address_hash else None

    def get(self, conversation_id: int) -> Conversation:
        with self._db.session() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                raise LookupError(f"conversation {conversation_id} does not exist")
            return conversation

    def _update(self, conversation_id: int, **values: object) -> None:
        with self._db.session() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                raise LookupError(f"conversation {conversation_id} does not exist")
            for key, value in values.items():
                setattr(conversation, key, value)
            conversation.updated_at = self._clock.now()

    def set_language(self, conversation_id: int, language: str) -> None:
        self._update(conversation_id, language=language)

    def set_menu(self, conversation_id: int, buttons: Sequence[Button] | None) -> None:
        self._update(conversation_id, menu=buttons_to_json(buttons))

    def flag(self, conversation_id: int, reason: str) -> None:
        self._update(conversation_id, flagged=True, flag_reason=reason, flagged_at=self._clock.now())

    def set_expecting(self, conversation_id: int, expecting: str | None) -> None:
        self._update(conversation_id, expecting=expecting)

    def keep_private_answer(self, conversation_id: int, answer: str) -> None:
        self._update(conversation_id, private_answer=answer, expecting=None)

    def take_private_answer(self, conversation_id: int) -> str | None:
        """The kept answer, removed in the same transaction (used once)."""
        with self._db.session() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                return None
            answer = conversation.private_answer
            conversation.private_answer = None
            conversation.updated_at = self._clock.now()
            return answer

    @staticmethod
    def menu_of(conversation: Conversation) -> list[Button]:
        return buttons_from_json(conversation.menu)

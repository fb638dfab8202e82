"""Messages: the transcript, and the durable inbox that makes sure nothing is lost."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.sms import Button, buttons_from_json, buttons_to_json
from bot.storage.database import Database
from bot.storage.models import Conversation, InboundMedia, InboundStatus, MediaState, Message, OutboundStatus


class MessageStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def record_inbound(
        self,
        conversation_id: int,
        channel: str,
        text: str,
        external_id: str | None,
        num_media: int = 0,
        media: Sequence[tuple[str, str | None]] = (),
    ) -> tuple[Message, bool]:
        """Store an inbound message and its media URLs (url, declared type) in one transaction;
        returns (message, created). A duplicate external id (the same Twilio MessageSid
        delivered twice) returns the stored row, created=False."""
        now = self._clock.now()
        try:
            with self._db.session() as session:
                message = Message(
                    conversation_id=conversation_id, channel=channel, direction="in",
                    author="resident", text=text, external_id=external_id,
                    status=InboundStatus.RECEIVED, num_media=max(num_media, len(media)), attempts=0,
                    created_at=now, updated_at=now,
                )
                session.add(message)
                session.flush()
                for position, (url, declared) in enumerate(media):
                    session.add(InboundMedia(
                        message_id=message.id, conversation_id=conversation_id, position=position, url=url,
                        declared_type=(declared or None) and declared[:100], state=MediaState.PENDING,
                        created_at=now, updated_at=now))
            return message, True
        except IntegrityError:
            existing = self.by_external_id(channel, external_id) if external_id else None
            if existing is None:  # pragma: no cover
                raise
            return existing, False

    def by_external_id(self, channel: str, external_id: str) -> Message | None:
        with self._db.session() as session:
            return session.execute(
                select(Message).where(Message.channel == channel, Message.external_id == external_id)
            ).scalar_one_or_none()

    def get(self, message_id: int) -> Message:
        with self._db.session() as session:
            message = session.get(Message, message_id)
            if message is None:
                raise LookupError(f"message {message_id} does not exist")
            return message

    def next_pending(self, conversation_id: int) -> Message | None:
        """The oldest inbound message of the conversation not yet handled: per-resident order."""
        with self._db.session() as session:
            return session.execute(
                select(Message)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.direction == "in",
                    Message.status.in_(InboundStatus.PENDING),
                )
                .order_by(Message.id)
                .limit(1)
            ).scalar_one_or_none()

    def _update(self, message_id: int, **values: object) -> None:
        with self._db.session() as session:
            session.execute(
                update(Message).where(Message.id == message_id).values(updated_at=self._clock.now(), **values)
            )

    def mark_processed(
        self, message_id: int, intent: str | None = None, confidence: float | None = None,
        safety: str | None = None,
    ) -> None:
        self._update(message_id, status=InboundStatus.PROCESSED, intent=intent, confidence=confidence,
                     safety=safety)

    def record_failed_attempt(self, message_id: int, error: str) -> int:
        """Counts a failed turn; returns the number of attempts so far."""
        with self._db.session() as session:
            message = session.get(Message, message_id)
            assert message is not None
            message.attempts = (message.attempts or 0) + 1
            message.error = error[:255]
            message.updated_at = self._clock.now()
            return message.attempts

    def mark_failed(self, message_id: int, error: str, safety: str | None = None) -> None:
        self._update(message_id, status=InboundStatus.FAILED, error=error[:255], safety=safety)

    def record_outbound(
        self, conversation_id: int, channel: str, author: str, text: str, status: str,
        buttons: Sequence[Button] = (),
    ) -> Message:
        now = self._clock.now()
        with self._db.session() as session:
            message = Message(
                conversation_id=conversation_id, channel=channel, direction="out", author=author,
                text=text, status=status, num_media=0, attempts=0, buttons=buttons_to_json(buttons),
                created_at=now, updated_at=now,
            )
            session.add(message)
        return message

    def record_replies(
        self, conversation_id: int, channel: str, reply_to: int, replies: Sequence[tuple[str, Sequence[Button]]],
        status: str, intent: str | None = None, confidence: float | None = None,
    ) -> list[Message]:
        """A turn's replies (text, buttons), all in one transaction with the intent read in
        inbound message `reply_to`: either every one is recorded as answering it, or none is."""
        now = self._clock.now()
        with self._db.session() as session:
            session.execute(update(Message).where(Message.id == reply_to)
                            .values(intent=intent, confidence=confidence, updated_at=now))
            recorded = [Message(
                conversation_id=conversation_id, channel=channel, direction="out", author="assistant",
                text=text, status=status, num_media=0, attempts=0, buttons=buttons_to_json(buttons),
                reply_to=reply_to, created_at=now, updated_at=now) for text, buttons in replies]
            session.add_all(recorded)
        return recorded

    def replies_to(self, message_id: int) -> list[Message]:
        """The replies recorded for an inbound message's turn, oldest first."""
        with self._db.session() as session:
            return list(session.execute(
                select(Message).where(Message.reply_to == message_id).order_by(Message.id)).scalars())

    def update_outbound(
        self, message_id: int, status: str, external_id: str | None = None, error: str | None = None,
        attempts: int | None = None,
    ) -> None:
        values: dict[str, object] = {"status": status, "error": error[:255] if error else None}
        if external_id:
            values["external_id"] = external_id
        if attempts is not None:
            values["attempts"] = attempts
        self._update(message_id, **values)

    def update_status_by_external_id(self, channel: str, external_id: str, status: str,
                                     error: str | None = None) -> Message | None:
        with self._db.session() as session:
            message = session.execute(
                select(Message).where(Message.channel == channel, Message.external_id == external_id)
            ).scalar_one_or_none()
            if message is None:
                return None
            message.status = status
            if error:
                message.error = error[:255]
            message.updated_at = self._clock.now()
            return message

    @staticmethod
    def buttons_of(message: Message) -> list[Button]:
        return buttons_from_json(message.buttons)

    def after(self, conversation_id: int, after_id: int, limit: int = 200) -> list[Message]:
        """The conversation's messages newer than `after_id`, oldest first (what a chat client
        has not seen yet)."""
        with self._db.session() as session:
            return list(
                session.execute(
                    select(Message)
                    .where(Message.conversation_id == conversation_id, Message.id > after_id)
                    .order_by(Message.id)
                    .limit(limit)
                ).scalars()
            )

    def retrying_before(self, conversation_id: int, message_id: int) -> bool:
        """Whether an earlier outbound message of the conversation waits for a send retry."""
        with self._db.session() as session:
            return session.execute(
                select(Message.id).where(
                    Message.conversation_id == conversation_id, Message.direction == "out",
                    Message.id < message_id, Message.status == OutboundStatus.RETRYING,
                ).limit(1)
            ).first() is not None

    def stale_retrying(self, older_than: datetime) -> list[tuple[int, int]]:
        """(id, attempts) of SMS replies still waiting for a retry since before `older_than`."""
        with self._db.session() as session:
            return [(row.id, row.attempts) for row in session.execute(
                select(Message.id, Message.attempts).where(
                    Message.direction == "out", Message.channel == "sms",
                    Message.status == OutboundStatus.RETRYING, Message.updated_at < older_than,
                ).order_by(Message.id))]

    def claim_stale_retry(self, message_id: int, older_than: datetime) -> bool:
        """Marks a stale retrying reply as just handled (one caller wins), if it still is one."""
        with self._db.session() as session:
            return session.execute(
                update(Message).where(Message.id == message_id, Message.status == OutboundStatus.RETRYING,
                                      Message.updated_at < older_than).values(updated_at=self._clock.now())
            ).rowcount == 1

    def transcript(self, conversation_id: int) -> list[Message]:
        with self._db.session() as session:
            return list(
                session.execute(
                    select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
                ).scalars()
            )

    def stale_pending_conversations(self, older_than: datetime) -> Sequence[int]:
        """Conversations holding a stored inbound message nobody finished: a worker died,
        or Redis lost the job. The recovery sweep enqueues them again."""
        with self._db.session() as session:
            rows = session.execute(
                select(Message.conversation_id)
                .where(
                    Message.direction == "in",
                    Message.status.in_(InboundStatus.PENDING),
                    Message.updated_at < older_than,
                )
                .distinct()
            ).scalars()
            return sorted(set(rows))

    def messages_for_address(self, channel: str, address_hash: str) -> list[Message]:
        with self._db.session() as session:
            return list(
                session.execute(
                    select(Message)
                    .join(Conversation, Conversation.id == Message.conversation_id)
                    .where(Conversation.channel == channel, Conversation.address_hash == address_hash)
                    .order_by(Message.id)
                ).scalars()
            )

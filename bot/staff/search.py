"""Searching all conversations for the staff console: by date, channel, handed off, flagged and
text. Text matches the messages (case-insensitive, `%` and `_` taken literally)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select

from bot.storage.database import Database
from bot.storage.models import Conversation, Handoff, HandoffState, Message

MAX_TEXT = 200


@dataclass(frozen=True)
class ConversationFilter:
    text: str | None = None
    channel: str | None = None
    active_from: datetime | None = None  # naive UTC, inclusive
    active_until: datetime | None = None  # naive UTC, exclusive
    handed_off: bool | None = None  # ever handed to staff
    open_handoff: bool | None = None
    flagged: bool | None = None
    safety_event: bool | None = None  # any message the safety screen marked, of either tier


@dataclass(frozen=True)
class Found:
    conversation: Conversation
    last_at: datetime | None
    messages: int


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ConversationSearch:
    def __init__(self, db: Database) -> None:
        self._db = db

    def find(self, wanted: ConversationFilter, limit: int = 50, offset: int = 0) -> list[Found]:
        stats = (select(Message.conversation_id.label("cid"), func.max(Message.created_at).label("last_at"),
                        func.count(Message.id).label("messages"))
                 .group_by(Message.conversation_id).subquery())
        statement = (select(Conversation, stats.c.last_at, stats.c.messages)
                     .join(stats, stats.c.cid == Conversation.id))
        if wanted.channel:
            statement = statement.where(Conversation.channel == wanted.channel)
        if wanted.flagged is not None:
            statement = statement.where(Conversation.flagged.is_(wanted.flagged))
        if wanted.safety_event is not None:
            marked = exists().where(Message.conversation_id == Conversation.id, Message.safety.is_not(None))
            statement = statement.where(marked if wanted.safety_event else ~marked)
        if wanted.handed_off is not None:
            ever = exists().where(Handoff.conversation_id == Conversation.id)
            statement = statement.where(ever if wanted.handed_off else ~ever)
        if wanted.open_handoff is not None:
            live = exists().where(Handoff.conversation_id == Conversation.id, Handoff.state.in_(HandoffState.OPEN))
            statement = statement.where(live if wanted.open_handoff else ~live)
        if wanted.active_from is not None or wanted.active_until is not None or wanted.text:
            matching = select(Message.id).where(Message.conversation_id == Conversation.id)
            if wanted.active_from is not None:
                matching = matching.where(Message.created_at >= wanted.active_from)
            if wanted.active_until is not None:
                matching = matching.where(Message.created_at < wanted.active_until)
            if wanted.text:
                matching = matching.where(Message.text.ilike(_like(wanted.text[:MAX_TEXT]), escape="\\"))
            statement = statement.where(exists(matching))
        statement = statement.order_by(stats.c.last_at.desc(), Conversation.id.desc()).limit(limit).offset(offset)
        with self._db.session() as session:
            return [Found(row[0], row[1], int(row[2])) for row in session.execute(statement)]

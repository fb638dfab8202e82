"""Private notes staff leave on a conversation (never sent to the resident)."""
from __future__ import annotations

from sqlalchemy import select

from bot.clock import Clock
from bot.storage.database import Database
from bot.storage.models import StaffNote

MAX_NOTE = 2000


class NoteStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def add(self, conversation_id: int, author: str, text: str) -> StaffNote:
        with self._db.session() as session:
            note = StaffNote(conversation_id=conversation_id, author=author, text=text[:MAX_NOTE],
                             created_at=self._clock.now())
            session.add(note)
        return note

    def for_conversation(self, conversation_id: int) -> list[StaffNote]:
        with self._db.session() as session:
            return list(session.execute(select(StaffNote).where(StaffNote.conversation_id == conversation_id)
                                        .order_by(StaffNote.id)).scalars())

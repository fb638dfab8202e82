"""The retention job: transcripts older than RETENTION_DAYS are redacted (the text replaced, the
rows kept, so counts and reports still add up) or purged (deleted), in batches.

A conversation with an open handoff is left alone (staff are reading it). The audit log records
each run (how many rows, before which date), never the content. Conversation rows stay: they
hold the number that replies go to, and reports point at them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update

from bot.clock import Clock
from bot.staff.audit import Action, AuditLog
from bot.storage.database import Database
from bot.storage.models import (
    Conversation, Handoff, HandoffState, InboundMedia, InboundStatus, Message, StaffNote,
)

log = logging.getLogger(__name__)

REDACTED_TEXT = "[removed after the retention period]"
BATCH = 500


@dataclass(frozen=True)
class RetentionResult:
    messages: int = 0
    notes: int = 0


class Retention:
    def __init__(self, db: Database, clock: Clock, audit: AuditLog, days: int, mode: str = "redact") -> None:
        if mode not in ("redact", "purge"):
            raise ValueError("retention mode is redact or purge")
        self._db = db
        self._clock = clock
        self._audit = audit
        self._days = days
        self._mode = mode

    def run(self) -> RetentionResult:
        if self._days <= 0:
            return RetentionResult()
        cutoff = self._clock.now() - timedelta(days=self._days)
        messages = notes = 0
        while (done := self._batch(cutoff)) != (0, 0):
            messages, notes = messages + done[0], notes + done[1]
        if messages or notes:
            self._audit.record("system", Action.RETENTION, detail=(
                f"mode={self._mode} messages={messages} notes={notes} before={cutoff.date().isoformat()}"))
            log.info("retention: %s %s messages and %s notes", self._mode, messages, notes)
        return RetentionResult(messages, notes)

    def _batch(self, cutoff: object) -> tuple[int, int]:
        held = select(Handoff.conversation_id).where(Handoff.state.in_(HandoffState.OPEN))
        with self._db.session() as session:
            rows = list(session.execute(
                select(Message.id, Message.conversation_id).where(
                    Message.created_at < cutoff, Message.conversation_id.not_in(held),
                    Message.status.not_in(InboundStatus.PENDING),  # a worker still owes it an answer
                    Message.text != REDACTED_TEXT,
                ).order_by(Message.id).limit(BATCH)))
            message_ids = [row.id for row in rows]
            note_ids = list(session.execute(
                select(StaffNote.id).where(StaffNote.created_at < cutoff, StaffNote.conversation_id.not_in(held),
                                           StaffNote.text != REDACTED_TEXT).order_by(StaffNote.id).limit(BATCH)
            ).scalars())
            if self._mode == "purge":
                if message_ids:
                    session.execute(delete(InboundMedia).where(InboundMedia.message_id.in_(message_ids)))
                    session.execute(delete(Message).where(Message.id.in_(message_ids)))
                if note_ids:
                    session.execute(delete(StaffNote).where(StaffNote.id.in_(note_ids)))
            else:
                if message_ids:
                    session.execute(update(Message).where(Message.id.in_(message_ids)).values(
                        text=REDACTED_TEXT, buttons=None, error=None))
                    session.execute(update(InboundMedia).where(InboundMedia.message_id.in_(message_ids)).values(
                        url=None))
                if note_ids:
                    session.execute(update(StaffNote).where(StaffNote.id.in_(note_ids)).values(text=REDACTED_TEXT))
            if message_ids:
                # a name kept for a form, never sent anywhere, goes with the old messages
                conversation_ids = sorted({row.conversation_id for row in rows})
                session.execute(update(Conversation).where(Conversation.id.in_(conversation_ids),
                                                           Conversation.updated_at < cutoff)
                                .values(private_answer=None))
        return len(message_ids), len(note_ids)

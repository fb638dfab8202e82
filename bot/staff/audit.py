"""The audit log: who viewed, revealed, replied, exported, resolved, and when.

Entries name the actor, the action and the conversation; `detail` is a short label chosen by
the code ("format=csv redacted=yes"), never message text or a phone number, so the log can
outlive the transcripts it talks about (the retention job records its purges here too).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.clock import Clock
from bot.storage.database import Database
from bot.storage.models import AuditEntry


class Action:
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    LOCKED_OUT = "locked_out"
    SIGN_OUT = "sign_out"
    VIEW = "view"
    REVEAL = "reveal"
    REPLY = "reply"
    NOTE = "note"
    CLAIM = "claim"
    ASSIGN = "assign"
    TAKE_OVER = "take_over"
    RESOLVE = "resolve"
    EXPORT = "export"
    REPORT_STATUS = "report_status"
    REPORT_RELEASE = "report_release"
    RETENTION = "retention"
    ON_CALL = "on_call_notice"


@dataclass(frozen=True)
class AuditQuery:
    actor: str | None = None
    action: str | None = None
    conversation_id: int | None = None
    since: datetime | None = None


class AuditLog:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def record(self, actor: str, action: str, conversation_id: int | None = None, detail: str | None = None) -> None:
        with self._db.session() as session:
            session.add(AuditEntry(at=self._clock.now(), actor=actor[:64], action=action[:32],
                                   conversation_id=conversation_id, detail=(detail or None) and detail[:255]))

    def entries(self, query: AuditQuery = AuditQuery(), limit: int = 200, offset: int = 0) -> list[AuditEntry]:
        statement = select(AuditEntry)
        if query.actor:
            statement = statement.where(AuditEntry.actor == query.actor)
        if query.action:
            statement = statement.where(AuditEntry.action == query.action)
        if query.conversation_id is not None:
            statement = statement.where(AuditEntry.conversation_id == query.conversation_id)
        if query.since is not None:
            statement = statement.where(AuditEntry.at >= query.since)
        with self._db.session() as session:
            return list(session.execute(statement.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)).scalars())

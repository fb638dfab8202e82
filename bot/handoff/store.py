"""Handoffs in the database: the source of truth any replica reads to route a message."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.storage.database import Database
from bot.storage.models import Handoff, HandoffReason, HandoffState


@dataclass(frozen=True)
class Opened:
    handoff: Handoff
    created: bool  # False: one was already open (its priority may have gone up)
    raised: bool = False  # an open one became more urgent


class HandoffStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def open(self, conversation_id: int, reason: str, report_id: int | None = None) -> Opened:
        """Open a handoff, or return the open one. Two triggers racing (two replicas) open one:
        the partial unique index refuses the second insert. A more urgent reason takes over the
        open one (an emergency during a request for a person); a holding reason makes it hold."""
        if reason not in HandoffReason.PRIORITY:
            raise ValueError(f"unknown handoff reason {reason!r}")
        priority = HandoffReason.PRIORITY[reason]
        holds = reason != HandoffReason.REPORT_REVIEW
        existing = self.open_for(conversation_id)
        if existing is None:
            now = self._clock.now()
            try:
                with self._db.session() as session:
                    handoff = Handoff(conversation_id=conversation_id, reason=reason, priority=priority, holds=holds,
                                      state=HandoffState.WAITING, report_id=report_id, created_at=now,
                                      updated_at=now)
                    session.add(handoff)
                return Opened(handoff, True)
            except IntegrityError:
                existing = self.open_for(conversation_id)
                if existing is None:  # pragma: no cover - the winner of the race must exist
                    raise
        more_urgent = priority < existing.priority
        if not (more_urgent or (holds and not existing.holds) or (report_id and not existing.report_id)):
            return Opened(existing, False)
        with self._db.session() as session:
            row = session.get(Handoff, existing.id)
            assert row is not None
            if more_urgent:
                row.priority, row.reason = priority, reason
            row.holds = row.holds or holds
            row.report_id = row.report_id or report_id
            row.updated_at = self._clock.now()
        return Opened(self.get(existing.id), False, raised=more_urgent)

    def get(self, handoff_id: int) -> Handoff:
        with self._db.session() as session:
            found = session.get(Handoff, handoff_id)
            if found is None:
                raise LookupError(f"handoff {handoff_id} does not exist")
            return found

    def open_for(self, conversation_id: int) -> Handoff | None:
        with self._db.session() as session:
            return session.execute(select(Handoff).where(
                Handoff.conversation_id == conversation_id, Handoff.state.in_(HandoffState.OPEN))
            ).scalar_one_or_none()

    def for_conversation(self, conversation_id: int) -> list[Handoff]:
        with self._db.session() as session:
            return list(session.execute(select(Handoff).where(Handoff.conversation_id == conversation_id)
                                        .order_by(Handoff.id)).scalars())

    def claim(self, handoff_id: int, staff_id: int, take_over: bool = False) -> bool:
        """A waiting handoff becomes this staff member's; two clicking at once: one wins.
        `take_over` (a supervisor assigning) moves a claimed one too."""
        allowed = HandoffState.OPEN if take_over else (HandoffState.WAITING,)
        now = self._clock.now()
        with self._db.session() as session:
            result = session.execute(update(Handoff).where(
                Handoff.id == handoff_id, Handoff.state.in_(allowed)).values(
                state=HandoffState.CLAIMED, assigned_to=staff_id, claimed_at=now, updated_at=now))
            return result.rowcount == 1

    def resolve(self, handoff_id: int, by: str) -> bool:
        """Closes an open handoff once (a second click, or the resident leaving at the same
        moment, changes nothing)."""
        now = self._clock.now()
        with self._db.session() as session:
            result = session.execute(update(Handoff).where(
                Handoff.id == handoff_id, Handoff.state.in_(HandoffState.OPEN)).values(
                state=HandoffState.RESOLVED, resolved_at=now, resolved_by=by[:64], updated_at=now))
            return result.rowcount == 1

    def queue(self, limit: int = 200) -> list[Handoff]:
        """Open handoffs, the most urgent first, then the longest waiting."""
        with self._db.session() as session:
            return list(session.execute(select(Handoff).where(Handoff.state.in_(HandoffState.OPEN))
                                        .order_by(Handoff.priority, Handoff.created_at, Handoff.id)
                                        .limit(limit)).scalars())

    def waiting_count(self) -> int:
        with self._db.session() as session:
            return int(session.execute(select(func.count()).select_from(Handoff)
                                       .where(Handoff.state == HandoffState.WAITING)).scalar_one())

    def open_ids(self, conversation_ids: Sequence[int]) -> dict[int, Handoff]:
        """The open handoff of each of these conversations (for a search results page)."""
        if not conversation_ids:
            return {}
        with self._db.session() as session:
            rows = session.execute(select(Handoff).where(Handoff.conversation_id.in_(list(conversation_ids)),
                                                         Handoff.state.in_(HandoffState.OPEN))).scalars()
            return {row.conversation_id: row for row in rows}

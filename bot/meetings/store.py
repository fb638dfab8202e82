"""Meetings and sign-ups in the SQL database: finding meetings, taking seats, the waitlist.

The last seat goes to exactly one resident: a seat is taken by a conditional UPDATE of
`meetings.seats_taken` ("... WHERE seats_taken + n <= capacity") in the same transaction as
the sign-up row. PostgreSQL re-checks the condition after a concurrent writer commits;
SQLite runs one writer at a time. No read-then-write race either way.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.storage.database import Database
from bot.storage.models import Meeting, Signup, SignupStatus

# Sign-up references residents can read out on the phone: no 0/O, 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 4
ACTIVE = (SignupStatus.REGISTERED, SignupStatus.WAITLISTED)
MAX_PARTY_SIZE = 10
CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class MeetingFilter:
    """What a resident asked for; every part optional. Times are naive UTC."""

    kinds: tuple[str, ...] = ()
    zipcode: str | None = None
    neighborhood: str | None = None
    language: str | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None

    def is_empty(self) -> bool:
        return self == MeetingFilter(starts_after=self.starts_after)


class SignupOutcome(str, Enum):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    FULL = "full"  # no seat and the resident did not want the waitlist
    ALREADY = "already"  # this resident already holds a sign-up for this meeting
    UNAVAILABLE = "unavailable"  # called off, already started, or unknown


@dataclass(frozen=True)
class SignupResult:
    outcome: SignupOutcome
    signup: Signup | None = None


@dataclass(frozen=True)
class CancelResult:
    signup: Signup | None
    promoted: list[Signup] = field(default_factory=list)


class MeetingStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def get(self, meeting_id: int) -> Meeting | None:
        with self._db.session() as session:
            return session.get(Meeting, meeting_id)

    def upcoming(self, wanted: MeetingFilter | None = None, limit: int | None = None) -> list[Meeting]:
        """Scheduled meetings that have not started, soonest first, matching the filter."""
        wanted = wanted or MeetingFilter()
        query = select(Meeting).where(Meeting.status == "scheduled", Meeting.starts_at > self._clock.now())
        if wanted.starts_after is not None:
            query = query.where(Meeting.starts_at >= wanted.starts_after)
        if wanted.starts_before is not None:
            query = query.where(Meeting.starts_at < wanted.starts_before)
        if wanted.kinds:
            query = query.where(Meeting.kind.in_(wanted.kinds))
        if wanted.zipcode:
            query = query.where(Meeting.zipcode == wanted.zipcode)
        if wanted.neighborhood:
            query = query.where(Meeting.neighborhood == wanted.neighborhood)
        if wanted.language:
            query = query.where(Meeting.languages.contains(wanted.language))
        query = query.order_by(Meeting.starts_at, Meeting.id)
        if limit is not None:
            query = query.limit(limit)
        with self._db.session() as session:
            return list(session.execute(query).scalars())

    def neighborhoods(self) -> list[str]:
        """Neighborhood names of upcoming meetings (to recognise them in a message)."""
        with self._db.session() as session:
            rows = session.execute(
                select(Meeting.neighborhood).where(
                    Meeting.neighborhood.is_not(None), Meeting.starts_at > self._clock.now()
                ).distinct()
            ).scalars()
            return sorted(name for name in rows if name)


class SignupStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    # -- taking a seat ---------------------------------------------------------------

    def register(self, meeting_id: int, conversation_id: int, name: str, party_size: int,
                 reminders: bool, waitlist: bool = True) -> SignupResult:
        """Take `party_size` seats, or a waitlist place when full (if `waitlist`)."""
        if not 1 <= party_size <= MAX_PARTY_SIZE:
            raise ValueError(f"party size must be 1-{MAX_PARTY_SIZE}")
        for _ in range(CODE_ATTEMPTS):
            try:
                return self._register(meeting_id, conversation_id, name, party_size, reminders, waitlist)
            except IntegrityError:  # same code drawn twice, or the same resident twice at once: try again
                continue
        raise RuntimeError("could not draw a unique sign-up code")

    def _register(self, meeting_id: int, conversation_id: int, name: str, party_size: int,
                  reminders: bool, waitlist: bool) -> SignupResult:
        now = self._clock.now()
        with self._db.session() as session:
            meeting = session.get(Meeting, meeting_id)
            if meeting is None or meeting.status != "scheduled" or meeting.starts_at <= now:
                return SignupResult(SignupOutcome.UNAVAILABLE)
            held = session.execute(
                select(Signup).where(Signup.meeting_id == meeting_id, Signup.conversation_id == conversation_id,
                                     Signup.status.in_(ACTIVE))
            ).scalars().first()
            if held is not None:
                return SignupResult(SignupOutcome.ALREADY, held)
            if self._take_seats(session, meeting_id, party_size):
                status = SignupStatus.REGISTERED
            elif waitlist:
                status = SignupStatus.WAITLISTED
            else:
                return SignupResult(SignupOutcome.FULL)
            signup = Signup(
                code=_new_code(), meeting_id=meeting_id, conversation_id=conversation_id,
                name=name.strip()[:120], party_size=party_size, reminders=reminders, status=status,
                notified_version=meeting.version, created_at=now, updated_at=now,
            )
            session.add(signup)
        outcome = SignupOutcome.REGISTERED if status == SignupStatus.REGISTERED else SignupOutcome.WAITLISTED
        return SignupResult(outcome, signup)

    @staticmethod
    def _take_seats(session: Session, meeting_id: int, seats: int) -> bool:
        result = session.execute(
            update(Meeting)
            .where(Meeting.id == meeting_id,
                   or_(Meeting.capacity.is_(None), Meeting.seats_taken + seats <= Meeting.capacity))
            .values(seats_taken=Meeting.seats_taken + seats)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    def has_room(self, meeting: Meeting, party_size: int = 1) -> bool:
        return meeting.capacity is None or meeting.seats_taken + party_size <= meeting.capacity

    # -- giving it back --------------------------------------------------------------

    def cancel(self, signup_id: int, conversation_id: int) -> CancelResult:
        """Drop one of this resident's sign-ups; freed seats go to the waitlist, first come first.
        The status changes by conditional UPDATE, so two cancels at once free the seats once."""
        now = self._clock.now()
        with self._db.session() as session:
            was_registered = self._set_status(session, signup_id, conversation_id, SignupStatus.REGISTERED,
                                              SignupStatus.CANCELLED, now)
            if not was_registered and not self._set_status(session, signup_id, conversation_id,
                                                           SignupStatus.WAITLISTED, SignupStatus.CANCELLED, now):
                return CancelResult(None)
            signup = session.get(Signup, signup_id, populate_existing=True)
            assert signup is not None
            promoted: list[Signup] = []
            if was_registered:
                session.execute(
                    update(Meeting).where(Meeting.id == signup.meeting_id)
                    .values(seats_taken=Meeting.seats_taken - signup.party_size)
                    .execution_options(synchronize_session=False)
                )
                promoted = self._promote(session, signup.meeting_id, now)
        return CancelResult(signup, promoted)

    @staticmethod
    def _set_status(session: Session, signup_id: int, conversation_id: int | None, old: str, new: str,
                    now: datetime, **values: object) -> bool:
        query = update(Signup).where(Signup.id == signup_id, Signup.status == old)
        if conversation_id is not None:
            query = query.where(Signup.conversation_id == conversation_id)
        extra = {"cancelled_at": now} if new == SignupStatus.CANCELLED else {}
        result = session.execute(query.values(status=new, updated_at=now, **extra, **values)
                                 .execution_options(synchronize_session=False))
        return result.rowcount == 1

    def _promote(self, session: Session, meeting_id: int, now: datetime) -> list[Signup]:
        waiting = session.execute(
            select(Signup.id, Signup.party_size)
            .where(Signup.meeting_id == meeting_id, Signup.status == SignupStatus.WAITLISTED)
            .order_by(Signup.id)
        ).all()
        promoted_ids = []
        for candidate_id, party_size in waiting:
            if not self._take_seats(session, meeting_id, party_size):
                continue
            if self._set_status(session, candidate_id, None, SignupStatus.WAITLISTED, SignupStatus.REGISTERED,
                                now, promoted_at=now):
                promoted_ids.append(candidate_id)
            else:  # promoted (or gone) meanwhile: give the seats back
                session.execute(update(Meeting).where(Meeting.id == meeting_id)
                                .values(seats_taken=Meeting.seats_taken - party_size)
                                .execution_options(synchronize_session=False))
        if not promoted_ids:
            return []
        return list(session.execute(
            select(Signup).where(Signup.id.in_(promoted_ids)).order_by(Signup.id)
            .execution_options(populate_existing=True)
        ).scalars())

    # -- reading ---------------------------------------------------------------------

    def upcoming_for(self, conversation_id: int) -> list[tuple[Signup, Meeting]]:
        """This resident's active sign-ups for meetings that have not started, soonest first."""
        with self._db.session() as session:
            rows = session.execute(
                select(Signup, Meeting).join(Meeting, Meeting.id == Signup.meeting_id)
                .where(Signup.conversation_id == conversation_id, Signup.status.in_(ACTIVE),
                       Meeting.status == "scheduled", Meeting.starts_at > self._clock.now())
                .order_by(Meeting.starts_at, Signup.id)
            ).all()
            return [(signup, meeting) for signup, meeting in rows]

    def by_code(self, code: str) -> Signup | None:
        with self._db.session() as session:
            return session.execute(select(Signup).where(Signup.code == code.strip().upper())).scalar_one_or_none()

    def roster(self, meeting_id: int) -> list[Signup]:
        """Everyone registered or waiting for one meeting, in sign-up order."""
        with self._db.session() as session:
            return list(session.execute(
                select(Signup).where(Signup.meeting_id == meeting_id, Signup.status.in_(ACTIVE))
                .order_by(Signup.status, Signup.id)
            ).scalars())


def _new_code() -> str:
    return "M-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


"""One-time texts about sign-ups: reminders, "a seat opened, you're in", "the meeting moved".

A database-driven sweep (run by bot/sweeper.py every SWEEP_INTERVAL, any number of replicas):
each notice is claimed by inserting its (sign-up, kind) row before it is sent, so it goes out
once even with several sweepers and across restarts. Nothing is texted during quiet hours
(local time); what is due then waits for the morning. A reminder whose moment has passed
while a nearer one is due is skipped (one "in 2 hours" beats "tomorrow" and "in 2 hours").
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any, Callable, Mapping, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.meetings.wording import CalendarWords, meeting_values
from bot.storage.database import Database
from bot.storage.models import Conversation, Meeting, Signup, SignupNotice, SignupStatus

log = logging.getLogger(__name__)

# send(conversation, response name, meeting, signup) texts one notice on the resident's channel.
Sender = Callable[[Conversation, str, Meeting, Signup], None]


@dataclass(frozen=True)
class NoticeRules:
    reminder_minutes: Sequence[int]
    quiet_hours: tuple[str, str]
    timezone: str


@dataclass
class SweepResult:
    sent: int = 0
    skipped: int = 0
    quiet: bool = False


def in_quiet_hours(moment_utc: datetime, quiet: tuple[str, str], tz: str) -> bool:
    start, end = (time.fromisoformat(part) for part in quiet)
    if start == end:
        return False
    local = moment_utc.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz)).time()
    return (start <= local or local < end) if start > end else (start <= local < end)


class NoticeSweep:
    def __init__(self, db: Database, clock: Clock, rules: NoticeRules, send: Sender,
                 is_opted_out: Callable[[Conversation], bool]) -> None:
        self._db = db
        self._clock = clock
        self._rules = rules
        self._send = send
        self._is_opted_out = is_opted_out

    def run(self) -> SweepResult:
        result = SweepResult()
        now = self._clock.now()
        if in_quiet_hours(now, self._rules.quiet_hours, self._rules.timezone):
            result.quiet = True
            return result
        rows, done = self._active(now)
        for signup, meeting, conversation in rows:
            for kind, response in self._due(signup, meeting, now, done):
                self._deliver(signup, meeting, conversation, kind, response, result)
        return result

    def _active(self, now: datetime) -> tuple[list[tuple[Signup, Meeting, Conversation]], set[tuple[int, str]]]:
        """Sign-ups that may have a notice due, and the notices they already had."""
        horizon = now + timedelta(minutes=max(self._rules.reminder_minutes, default=0))
        with self._db.session() as session:
            rows = session.execute(
                select(Signup, Meeting, Conversation)
                .join(Meeting, Meeting.id == Signup.meeting_id)
                .join(Conversation, Conversation.id == Signup.conversation_id)
                .where(Signup.status.in_((SignupStatus.REGISTERED, SignupStatus.WAITLISTED)),
                       Meeting.starts_at > now)
                .where((Meeting.starts_at <= horizon) | (Signup.promoted_at.is_not(None))
                       | (Signup.notified_version < Meeting.version))
            ).all()
            done = {(n.signup_id, n.kind) for n in session.execute(
                select(SignupNotice).where(SignupNotice.signup_id.in_([r[0].id for r in rows] or [0]))
            ).scalars()}
        return [(s, m, c) for s, m, c in rows], done

    def _due(self, signup: Signup, meeting: Meeting, now: datetime,
             done: set[tuple[int, str]]) -> list[tuple[str, str | None]]:
        """(notice kind, response or None to skip) still to do for this sign-up."""
        due: list[tuple[str, str | None]] = []
        if signup.notified_version < meeting.version:
            response = "utter_meeting_called_off" if meeting.status == "cancelled" else "utter_meeting_moved"
            due.append((f"changed_{meeting.version}", response))
        if meeting.status != "scheduled":
            return [d for d in due if (signup.id, d[0]) not in done]
        if signup.status == SignupStatus.REGISTERED and signup.promoted_at is not None:
            due.append(("promoted", "utter_signup_promoted"))
        if signup.status == SignupStatus.REGISTERED and signup.reminders:
            started = sorted(m for m in self._rules.reminder_minutes
                             if meeting.starts_at - timedelta(minutes=m) <= now)
            for index, minutes in enumerate(started):
                # the nearest reminder whose time has come is sent; earlier, larger ones are skipped
                due.append((f"reminder_{minutes}", "utter_meeting_reminder" if index == 0 else None))
        return [d for d in due if (signup.id, d[0]) not in done]

    def _claim(self, signup_id: int, kind: str, outcome: str) -> bool:
        try:
            with self._db.session() as session:
                session.add(SignupNotice(signup_id=signup_id, kind=kind, outcome=outcome,
                                         created_at=self._clock.now()))
            return True
        except IntegrityError:  # another sweeper got there first
            return False

    def _deliver(self, signup: Signup, meeting: Meeting, conversation: Conversation, kind: str,
                 response: str | None, result: SweepResult) -> None:
        skip = response is None or self._is_opted_out(conversation)
        if not self._claim(signup.id, kind, "skipped" if skip else "sent"):
            return
        if kind.startswith("changed_"):
            with self._db.session() as session:
                stored = session.get(Signup, signup.id)
                if stored is not None:
                    stored.notified_version = max(stored.notified_version, meeting.version)
        if skip:
            result.skipped += 1
            return
        assert response is not None
        self._send(conversation, response, meeting, signup)
        result.sent += 1
        log.info("meeting notice %s sent for sign-up %s", kind, signup.id)


def notice_values(meeting: Meeting, signup: Signup, words_table: Mapping[str, Any]) -> dict[str, str]:
    """Placeholders of the notice responses."""
    return {**meeting_values(meeting, CalendarWords.from_table(words_table)), "code": signup.code}

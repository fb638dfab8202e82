"""Reminders and other one-time sign-up texts: consent, opt-out, quiet hours, exactly once."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any, Iterator

import pytest

from bot.meetings.notices import NoticeRules, NoticeSweep, in_quiet_hours
from bot.meetings.store import SignupStore
from bot.storage.conversations import ConversationStore
from bot.storage.database import Database
from bot.storage.models import Conversation, Meeting, Signup, SignupNotice
from tests.conftest import MutableClock

TZ = "America/Los_Angeles"
# Meeting: Thursday 26 Nov 2026, 18:30 in Port Alder = 02:30 UTC on the 27th.
START = datetime(2026, 11, 27, 2, 30)
RULES = NoticeRules(reminder_minutes=(1440, 120), quiet_hours=("21:00", "08:00"), timezone=TZ)


class Outbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, int]] = []
        self.opted_out: set[str] = set()
        self._lock = threading.Lock()

    def send(self, conversation: Conversation, response: str, meeting: Meeting, signup: Signup) -> None:
        with self._lock:
            self.sent.append((conversation.address_hash, response, signup.id))

    def is_opted_out(self, conversation: Conversation) -> bool:
        return conversation.address_hash in self.opted_out


class World:
    def __init__(self, url: str) -> None:
        self.db = Database(url)
        self.clock = MutableClock(START - timedelta(days=3))
        self.outbox = Outbox()
        self.signups = SignupStore(self.db, self.clock)
        self.conversations = ConversationStore(self.db, self.clock)
        now = self.clock.now()
        self.meeting = Meeting(source_uid="m1", title="Town Hall", kind="town_hall", starts_at=START,
                               ends_at=START + timedelta(hours=1), timezone=TZ, address="12 Elm St", capacity=1,
                               seats_taken=0, languages="en", status="scheduled", version=1, created_at=now,
                               updated_at=now)
        with self.db.session() as session:
            session.add(self.meeting)

    def resident(self, name: str, reminders: bool = True) -> Signup:
        conversation = self.conversations.get_or_create("sms", name, f"+1503555{abs(hash(name)) % 10000:04d}")
        result = self.signups.register(self.meeting.id, conversation.id, name, 1, reminders)
        assert result.signup is not None
        return result.signup

    def sweep(self) -> NoticeSweep:
        return NoticeSweep(self.db, self.clock, RULES, self.outbox.send, self.outbox.is_opted_out)

    def at(self, before_start: timedelta) -> None:
        self.clock.current = START - before_start

    def notices(self) -> list[tuple[int, str, str]]:
        with self.db.session() as session:
            return sorted((n.signup_id, n.kind, n.outcome) for n in session.query(SignupNotice))


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    w = World(database_url)
    yield w
    w.db.dispose()


def test_reminders_a_day_and_two_hours_before_only_with_consent(world: World) -> None:
    yes = world.resident("ana")
    world.resident("bo", reminders=False)  # waitlisted (capacity 1) and said no
    world.at(timedelta(days=2))
    assert world.sweep().run().sent == 0
    world.at(timedelta(hours=23, minutes=59))  # Wed 18:31 local
    assert world.sweep().run().sent == 1
    world.at(timedelta(hours=1, minutes=59))
    assert world.sweep().run().sent == 1
    assert world.outbox.sent == [("ana", "utter_meeting_reminder", yes.id)] * 2
    assert world.notices() == [(yes.id, "reminder_120", "sent"), (yes.id, "reminder_1440", "sent")]
    world.clock.advance(minutes=1)
    assert world.sweep().run().sent == 0  # each once


def test_a_missed_day_before_reminder_is_skipped_when_the_nearer_one_is_due(world: World) -> None:
    signup = world.resident("ana")
    world.at(timedelta(minutes=90))
    assert world.sweep().run().sent == 1
    assert world.notices() == [(signup.id, "reminder_120", "sent"), (signup.id, "reminder_1440", "skipped")]


def test_nothing_during_quiet_hours_and_it_waits_for_the_morning(world: World) -> None:
    quiet = NoticeRules(reminder_minutes=(1440,), quiet_hours=("21:00", "08:00"), timezone=TZ)
    world.resident("ana")
    world.clock.current = datetime(2026, 11, 26, 6, 0)  # Wed 22:00 local, within 24 h
    assert in_quiet_hours(world.clock.now(), quiet.quiet_hours, TZ)
    sweep = NoticeSweep(world.db, world.clock, quiet, world.outbox.send, world.outbox.is_opted_out)
    result = sweep.run()
    assert result.quiet and result.sent == 0 and world.outbox.sent == []
    world.clock.current = datetime(2026, 11, 26, 16, 0)  # Thu 08:00 local
    assert sweep.run().sent == 1


@pytest.mark.parametrize("moment,quiet", [
    (datetime(2026, 11, 26, 4, 59), False),  # 20:59 local
    (datetime(2026, 11, 26, 5, 0), True),  # 21:00
    (datetime(2026, 11, 26, 15, 59), True),  # 07:59
    (datetime(2026, 11, 26, 16, 0), False),  # 08:00
    (datetime(2026, 7, 1, 15, 30), False),  # 08:30 PDT (UTC-7)
])
def test_quiet_hours_are_local_time(moment: datetime, quiet: bool) -> None:
    assert in_quiet_hours(moment, ("21:00", "08:00"), TZ) is quiet
    assert in_quiet_hours(moment, ("00:00", "00:00"), TZ) is False  # "off"


def test_an_opted_out_number_gets_nothing(world: World) -> None:
    signup = world.resident("ana")
    world.outbox.opted_out.add("ana")
    world.at(timedelta(hours=3))
    assert world.sweep().run().skipped == 1
    assert world.outbox.sent == [] and world.notices() == [(signup.id, "reminder_1440", "skipped")]


def test_a_waitlisted_resident_moved_in_is_told_once(world: World) -> None:
    first = world.resident("ana")
    waiting = world.resident("bo", reminders=False)
    world.signups.cancel(first.id, first.conversation_id)
    assert world.sweep().run().sent == 1
    assert world.outbox.sent == [("bo", "utter_signup_promoted", waiting.id)]
    assert world.sweep().run().sent == 0


def test_a_moved_meeting_and_a_called_off_one_are_told_once_per_change(world: World) -> None:
    signup = world.resident("ana", reminders=False)
    with world.db.session() as session:
        meeting = session.get(Meeting, world.meeting.id)
        meeting.starts_at += timedelta(hours=1)
        meeting.version = 2
    assert world.sweep().run().sent == 1
    assert world.sweep().run().sent == 0
    with world.db.session() as session:
        meeting = session.get(Meeting, world.meeting.id)
        meeting.status, meeting.version = "cancelled", 3
    assert world.sweep().run().sent == 1
    assert [r for _, r, _ in world.outbox.sent] == ["utter_meeting_moved", "utter_meeting_called_off"]
    with world.db.session() as session:
        assert session.get(Signup, signup.id).notified_version == 3


def test_several_sweepers_at_once_send_each_reminder_once(world: World) -> None:
    for name in ("ana", "bo", "cy", "di"):
        world.resident(name)
    with world.db.session() as session:
        session.get(Meeting, world.meeting.id).capacity = None
    # two of them were waitlisted by capacity 1; register more seats for the rest
    with world.db.session() as session:
        for signup in session.query(Signup):
            signup.status = "registered"
    world.at(timedelta(hours=5))
    barrier = threading.Barrier(4)
    errors: list[Any] = []

    def run() -> None:
        try:
            barrier.wait()
            world.sweep().run()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(h for h, _, _ in world.outbox.sent) == ["ana", "bo", "cy", "di"]

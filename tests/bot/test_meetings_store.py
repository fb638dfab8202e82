"""Meetings and sign-ups against SQLite (a file) and, when TEST_POSTGRES_URL is set, PostgreSQL:
finding meetings, taking seats, the waitlist, and the last seat under concurrent sign-ups."""
from __future__ import annotations

import itertools
import re
import threading
from datetime import datetime, timedelta
from typing import Callable, TypeVar

import pytest

from bot.meetings.filters import meeting_filter
from bot.meetings.store import (
    MAX_PARTY_SIZE, MeetingFilter, MeetingStore, SignupOutcome, SignupResult, SignupStore,
)
from bot.storage.database import Database
from bot.storage.models import Meeting, Signup, SignupStatus
from tests.conftest import MutableClock

T = TypeVar("T")

# The clock's start: Tuesday 24 November 2026, 17:00 UTC (9am in Los Angeles).
NOW = datetime(2026, 11, 24, 17, 0, 0)
CODE = re.compile(r"^M-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}$")
_uids = itertools.count(1)


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(NOW)


@pytest.fixture
def meetings(db: Database, clock: MutableClock) -> MeetingStore:
    return MeetingStore(db, clock)


@pytest.fixture
def signups(db: Database, clock: MutableClock) -> SignupStore:
    return SignupStore(db, clock)


def add_meeting(db: Database, **fields: object) -> Meeting:
    values: dict[str, object] = dict(
        source_uid=f"test-{next(_uids)}", title="Coffee with a Cop", kind="coffee_with_a_cop",
        starts_at=NOW + timedelta(days=2), timezone="America/Los_Angeles",
        address="Harbor Cafe, 118 Front St, Port Alder, OR 97201", room=None, virtual_url=None,
        neighborhood=None, zipcode=None, capacity=None, seats_taken=0, languages="en",
        status="scheduled", version=1, created_at=NOW, updated_at=NOW,
    )
    values.update(fields)
    values.setdefault("ends_at", values["starts_at"] + timedelta(hours=1))  # type: ignore[operator]
    meeting = Meeting(**values)
    with db.session() as session:
        session.add(meeting)
    return meeting


def seats(meetings: MeetingStore, meeting_id: int) -> int:
    meeting = meetings.get(meeting_id)
    assert meeting is not None
    return meeting.seats_taken


def all_signups(db: Database, meeting_id: int) -> list[Signup]:
    with db.session() as session:
        return list(session.query(Signup).filter(Signup.meeting_id == meeting_id).order_by(Signup.id))


def registered_seats(db: Database, meeting_id: int) -> int:
    return sum(s.party_size for s in all_signups(db, meeting_id) if s.status == SignupStatus.REGISTERED)


def ids(found: list[Meeting]) -> list[int]:
    return [m.id for m in found]


# -- finding meetings ----------------------------------------------------------------------

def test_upcoming_lists_soonest_first_with_ties_in_insertion_order(db: Database, meetings: MeetingStore) -> None:
    late = add_meeting(db, starts_at=NOW + timedelta(days=5))
    soon = add_meeting(db, starts_at=NOW + timedelta(hours=1))
    tie_a = add_meeting(db, starts_at=NOW + timedelta(days=3))
    tie_b = add_meeting(db, starts_at=NOW + timedelta(days=3))
    assert ids(meetings.upcoming()) == [soon.id, tie_a.id, tie_b.id, late.id]
    assert ids(meetings.upcoming(limit=2)) == [soon.id, tie_a.id]


def test_upcoming_leaves_out_called_off_and_started_meetings(db: Database, meetings: MeetingStore,
                                                             clock: MutableClock) -> None:
    add_meeting(db, status="cancelled", starts_at=NOW + timedelta(days=1))
    add_meeting(db, starts_at=NOW - timedelta(minutes=30))  # under way
    add_meeting(db, starts_at=NOW)  # starting this very minute
    later = add_meeting(db, starts_at=NOW + timedelta(minutes=1))
    assert ids(meetings.upcoming()) == [later.id]
    clock.advance(minutes=1)
    assert meetings.upcoming() == []


def test_upcoming_filters_by_kind(db: Database, meetings: MeetingStore) -> None:
    coffee = add_meeting(db, kind="coffee_with_a_cop")
    hall = add_meeting(db, kind="town_hall", starts_at=NOW + timedelta(days=3))
    add_meeting(db, kind="youth_program")
    assert ids(meetings.upcoming(MeetingFilter(kinds=("town_hall",)))) == [hall.id]
    assert ids(meetings.upcoming(MeetingFilter(kinds=("town_hall", "coffee_with_a_cop")))) == [coffee.id, hall.id]


def test_upcoming_filters_by_zipcode_and_neighborhood(db: Database, meetings: MeetingStore) -> None:
    harbor = add_meeting(db, zipcode="97201", neighborhood="Harbor District")
    add_meeting(db, zipcode="97202", neighborhood="North Park")
    add_meeting(db, zipcode=None, neighborhood=None)
    assert ids(meetings.upcoming(MeetingFilter(zipcode="97201"))) == [harbor.id]
    assert ids(meetings.upcoming(MeetingFilter(neighborhood="Harbor District"))) == [harbor.id]
    assert meetings.upcoming(MeetingFilter(zipcode="97201", neighborhood="North Park")) == []


def test_upcoming_filters_by_language_within_a_list(db: Database, meetings: MeetingStore) -> None:
    bilingual = add_meeting(db, languages="en,es")
    spanish = add_meeting(db, languages="es", starts_at=NOW + timedelta(days=3))
    add_meeting(db, languages="en")
    assert ids(meetings.upcoming(MeetingFilter(language="es"))) == [bilingual.id, spanish.id]
    assert len(meetings.upcoming(MeetingFilter(language="en"))) == 2


def test_upcoming_filters_by_time_window_and_never_returns_the_past(db: Database, meetings: MeetingStore) -> None:
    add_meeting(db, starts_at=NOW - timedelta(hours=2))
    first = add_meeting(db, starts_at=NOW + timedelta(hours=2))
    second = add_meeting(db, starts_at=NOW + timedelta(days=1))
    add_meeting(db, starts_at=NOW + timedelta(days=2))
    window = MeetingFilter(starts_after=NOW + timedelta(hours=1), starts_before=NOW + timedelta(days=2))
    assert ids(meetings.upcoming(window)) == [first.id, second.id]
    # A window that began yesterday still starts now: no meeting already under way.
    since_yesterday = MeetingFilter(starts_after=NOW - timedelta(days=1), starts_before=NOW + timedelta(hours=3))
    assert ids(meetings.upcoming(since_yesterday)) == [first.id]


def test_a_local_day_filter_finds_a_late_evening_meeting_stored_on_the_next_utc_day(
        db: Database, meetings: MeetingStore) -> None:
    # Saturday 28 Nov 2026, 11:30pm in Los Angeles is Sunday 07:30 UTC.
    saturday_night = add_meeting(db, starts_at=datetime(2026, 11, 29, 7, 30))
    sunday_morning = add_meeting(db, starts_at=datetime(2026, 11, 29, 18, 0))
    neighborhoods = meetings.neighborhoods()

    def found(text: str) -> list[int]:
        wanted = meeting_filter(text, [], None, None, neighborhoods, NOW, "America/Los_Angeles")
        return ids(meetings.upcoming(wanted))

    assert found("anything on saturday?") == [saturday_night.id]
    assert found("el domingo") == [sunday_morning.id]


def test_neighborhoods_names_upcoming_meetings_once_sorted(db: Database, meetings: MeetingStore) -> None:
    add_meeting(db, neighborhood="North Park")
    add_meeting(db, neighborhood="Harbor District")
    add_meeting(db, neighborhood="Harbor District", starts_at=NOW + timedelta(days=4))
    add_meeting(db, neighborhood="Old Mill", starts_at=NOW - timedelta(days=1))
    add_meeting(db, neighborhood=None)
    assert meetings.neighborhoods() == ["Harbor District", "North Park"]


def test_an_empty_filter_is_empty_whatever_its_start() -> None:
    assert MeetingFilter().is_empty()
    assert MeetingFilter(starts_after=NOW).is_empty()
    assert not MeetingFilter(kinds=("town_hall",)).is_empty()
    assert not MeetingFilter(language="es").is_empty()


# -- taking a seat -------------------------------------------------------------------------

def test_register_takes_seats_and_gives_a_readable_code(db: Database, meetings: MeetingStore, signups: SignupStore,
                                                        resident: Callable[[], int]) -> None:
    meeting = add_meeting(db, capacity=10, version=3)
    someone = resident()
    result = signups.register(meeting.id, someone, "  Ana Ruiz  ", 3, reminders=True)
    assert result.outcome == SignupOutcome.REGISTERED and result.signup is not None
    signup = result.signup
    assert CODE.match(signup.code), signup.code
    assert (signup.status, signup.party_size, signup.name, signup.reminders) == (
        SignupStatus.REGISTERED, 3, "Ana Ruiz", True)
    assert signup.notified_version == 3 and signup.created_at == NOW
    assert seats(meetings, meeting.id) == 3
    found = signups.by_code(" " + signup.code.lower() + " ")
    assert found is not None and found.id == signup.id
    assert signups.by_code("M-2222" if signup.code != "M-2222" else "M-3333") is None


def test_codes_differ_between_sign_ups(db: Database, signups: SignupStore, resident: Callable[[], int]) -> None:
    meeting = add_meeting(db)
    codes = {signups.register(meeting.id, resident(), "R", 1, False).signup.code for _ in range(12)}
    assert len(codes) == 12 and all(CODE.match(code) for code in codes)


def test_a_long_name_is_cut_to_the_column(db: Database, signups: SignupStore, resident: Callable[[], int]) -> None:
    result = signups.register(add_meeting(db).id, resident(), "N" * 300, 1, False)
    assert result.signup is not None and result.signup.name == "N" * 120


@pytest.mark.parametrize("party", [0, -1, MAX_PARTY_SIZE + 1])
def test_party_size_out_of_bounds_is_refused_and_writes_nothing(
        party: int, db: Database, meetings: MeetingStore, signups: SignupStore, resident: Callable[[], int]) -> None:
    meeting = add_meeting(db, capacity=50)
    with pytest.raises(ValueError):
        signups.register(meeting.id, resident(), "Ana", party, reminders=False)
    assert all_signups(db, meeting.id) == [] and seats(meetings, meeting.id) == 0


@pytest.mark.parametrize("party", [1, MAX_PARTY_SIZE])
def test_party_size_bounds_are_inclusive(party: int, db: Database, meetings: MeetingStore, signups: SignupStore,
                                         resident: Callable[[], int]) -> None:
    meeting = add_meeting(db, capacity=50)
    assert signups.register(meeting.id, resident(), "Ana", party, False).outcome == SignupOutcome.REGISTERED
    assert seats(meetings, meeting.id) == party


def test_the_same_resident_twice_gets_the_sign_up_they_hold(db: Database, meetings: MeetingStore,
                                                            signups: SignupStore, resident: Callable[[], int]) -> None:
    meeting = add_meeting(db, capacity=10)
    someone = resident()
    first = signups.register(meeting.id, someone, "Ana", 2, False)
    again = signups.register(meeting.id, someone, "Ana", 4, True)
    assert again.outcome == SignupOutcome.ALREADY
    assert again.signup is not None and first.signup is not None and again.signup.id == first.signup.id
    assert seats(meetings, meeting.id) == 2 and len(all_signups(db, meeting.id)) == 1
    # After dropping it, the resident can sign up again.
    signups.cancel(first.signup.id, someone)
    assert signups.register(meeting.id, someone, "Ana", 1, False).outcome == SignupOutcome.REGISTERED
    assert seats(meetings, meeting.id) == 1


def test_a_waitlisted_resident_asking_again_is_already_on_the_list(db: Database, signups: SignupStore,
                                                                   resident: Callable[[], int]) -> None:
    meeting = add_meeting(db, capacity=1)
    signups.register(meeting.id, resident(), "First", 1, False)
    someone = resident()
    waiting = signups.register(meeting.id, someone, "Second", 1, False)
    assert waiting.outcome == SignupOutcome.WAITLISTED
    again = signups.register(meeting.id, someone, "Second", 1, False)
    assert again.outcome == SignupOutcome.ALREADY and again.signup.id == waiting.signup.id


def test_the_same_resident_may_sign_up_for_two_meetings(db: Database, signups: SignupStore,
                                                        resident: Callable[[], int]) -> None:
    someone = resident()
    for meeting in (add_meeting(db), add_meeting(db)):
        assert signups.register(meeting.id, someone, "Ana", 1, False).outcome == SignupOutcome.REGISTERED


def test_called_off_started_or_unknown_meetings_are_unavailable(db: Database, meetings: MeetingStore,
                                                               signups: SignupStore, clock: MutableClock,
                                                               resident: Callable[[], int]) -> None:
    someone = resident()
    called_off = add_meeting(db, status="cancelled", capacity=10)
    started = add_meeting(db, starts_at=NOW - timedelta(minutes=5), capacity=10)
    starting_now = add_meeting(db, starts_at=NOW, capacity=10)
    for meeting_id in (called_off.id, started.id, starting_now.id, 999_999):
        assert signups.register(meeting_id, someone, "Ana", 1, False) == SignupResult(SignupOutcome.UNAVAILABLE)
    for meeting in (called_off, started, starting_now):
        assert all_signups(db, meeting.id) == [] and seats(meetings, meeting.id) == 0
    # The clock decides: an hour later, a meeting that was open is not.
    soon = add_meeting(db, starts_at=NOW + timedelta(minutes=30))
    clock.advance(hours=1)
    assert signups.register(soon.id, someone, "Ana", 1, False).outcome == SignupOutcome.UNAVAILABLE


def test_a_full_meeting_puts_residents_on_the_waitlist_or_says_full(db: Database, meetings: MeetingStore,
                                                                    signups: SignupStore,
                                                                    resident: Callable[[], int]) -> None:
    meeting = add_meeting(db, capacity=3)
    assert signups.register(meeting.id, resident(), "A", 2, False).outcome == SignupOutcome.REGISTERED
    # One seat left: a party of two waits even though the room is not full.
    pair = signups.register(meeting.id, resident(), "B", 2, False)
    assert pair.outcome == SignupOutcome.WAITLISTED and pair.signup.status == SignupStatus.WAITLISTED
    assert seats(meetings, meeting.id) == 2
    refused = signups.register(meeting.id, resident(), "C", 2, False, waitlist=False)
    assert refused == SignupResult(SignupOutcome.FULL)
    assert signups.register(meeting.id, resident(), "D", 1, False, waitlist=False).outcome == SignupOutcome.REGISTERED
    assert seats(meetings, meeting.id) == 3
    assert [s.name for s in all_signups(db, meeting.id)] == ["A", "B", "D"]


def test_a_meeting_without_capacity_never_fills(db: Database, meetings: MeetingStore, signups: SignupStore,
                                                resident: Callable[[], int]) -> None:
    meeting = add_meeting(db, capacity=None)
    outcomes = {signups.register(meeting.id, resident(), "R", MAX_PARTY_SIZE, False).outcome for _ in range(5)}
    assert outcomes == {SignupOutcome.REGISTERED}
    assert seats(meetings, meeting.id) == 5 * MAX_PARTY_SIZE


def test_has_room_compares_seats_with_capacity(db: Database, signups: SignupStore) -> None:
    assert signups.has_room(Meeting(capacity=None, seats_taken=500), 10)
    assert signups.has_room(Meeting(capacity=5, seats_taken=3), 2)
    assert not signups.has_room(Meeting(capacity=5, seats_taken=3), 3)
    assert not signups.has_room(Meeting(capacity=5, seats_taken=5))


# -- giving it back ------------------------------------------------------------------------

def test_cancel_frees_seats_and_promotes_the_first_waitlisted(db: Database, meetings: MeetingStore,
                                                              signups: SignupStore, clock: MutableClock,
                                                              resident: Callable[[], int]) -> None:
    meeting = add_meeting(db, capacity=2)
    holder = resident()
    held = signups.register(meeting.id, holder, "Holder", 2, False).signup
    first = signups.register(meeting.id, resident(), "First", 2, False).signup
    second = signups.register(meeting.id, resident(), "Second", 2, False).signup
    clock.advance(minutes=10)
    result = signups.cancel(held.id, holder)
    assert result.signup is not None and result.signup.id == held.id
    assert result.signup.status == SignupStatus.CANCELLED and result.signup.cancelled_at == clock.now()
    assert [s.id for s in result.promoted] == [first.id]
    assert result.promoted[0].promoted_at == clock.now()
    statuses = {s.id: (s.status, s.promoted_at) for s in all_signups(db, meeting.id)}
    assert statuses == {
        held.id: (SignupStatus.CANCELLED, None),
        first.id: (SignupStatus.REGISTERED, clock.now()),
        second.id: (SignupStatus.WAITLISTED, None),
    }
    assert seats(meetings, meeting.id) == 2


def test_promotion_skips_a_party_too_big_and_seats_a_later_smaller_one(db: Database, meetings: MeetingStore,
                                                                       signups: SignupStore,
                                                                       resident: Callable[[], int]) -> None:
    meeting = add_meeting(db, capacity=4)
    signups.register(meeting.id, resident(), "Stays", 2, False)
    leaver = resident()
    leaving = signups.register(meeting.id, leaver, "Leaves", 2, False).signup
    big = signups.register(meeting.id, resident(), "Big", 3, False).signup
    small = signups.register(meeting.id, resident(), "Small", 1, False).signup
    smaller = signups.register(meeting.id, resident(), "Smaller", 1, False).signup
    also_small = signups.register(meeting.id, resident(), "AlsoSmall", 1, False).signup
    assert {big.status, small.status, smaller.status, also_small.status} == {SignupStatus.WAITLISTED}
    result = signups.cancel(leaving.id, leaver)
    # Two seats free: the party of 3 keeps its place, the next two singles get in, in order.
    assert [s.id for s in result.promoted] == [small.id, smaller.id]
    by_id = {s.id: s.status for s in all_signups(db, meeting.id)}
    assert by_id[big.id] == SignupStatus.WAITLISTED and by_id[also_small.id] == SignupStatus.WAITLISTED
    assert seats(meetings, meeting.id) == 4 == registered_seats(db, meeting.id)


def test_cancel_by_another_resident_changes_nothing(db: Database, meetings: MeetingStore, signups: SignupStore,
                                                   resident: Callable[[], int]) -> None:
    meeting = add_meeting(db, capacity=1)
    owner, stranger = resident(), resident()
    held = signups.register(meeting.id, owner, "Owner", 1, False).signup
    waiting = signups.register(meeting.id, resident(), "Waiting", 1, False).signup
    result = signups.cancel(held.id, stranger)
    assert result.signup is None and result.promoted == []
    assert {s.id: s.status for s in all_signups(db, meeting.id)} == {
        held.id: SignupStatus.REGISTERED, waiting.id: SignupStatus.WAITLISTED}
    assert seats(meetings, meeting.id) == 1


def test_cancel_of_an_unknown_or_already_cancelled_sign_up_does_nothing(
        db: Database, meetings: MeetingStore, signups: SignupStore, resident: Callable[[], int]) -> None:
    meeting = add_meeting(db, capacity=5)
    owner = resident()
    signups.register(meeting.id, resident(), "Other", 2, False)
    held = signups.register(meeting.id, owner, "Owner", 2, False).signup
    assert signups.cancel(held.id, owner).signup is not None
    assert seats(meetings, meeting.id) == 2
    assert signups.cancel(held.id, owner).signup is None
    assert signups.cancel(999_999, owner).signup is None
    assert seats(meetings, meeting.id) == 2


def test_dropping_a_waitlist_place_frees_no_seat(db: Database, meetings: MeetingStore, signups: SignupStore,
                                                 resident: Callable[[], int]) -> None:
    meeting = add_meeting(db, capacity=1)
    signups.register(meeting.id, resident(), "Seated", 1, False)
    waiter = resident()
    waiting = signups.register(meeting.id, waiter, "Waiting", 1, False).signup
    behind = signups.register(meeting.id, resident(), "Behind", 1, False).signup
    result = signups.cancel(waiting.id, waiter)
    assert result.signup is not None and result.signup.status == SignupStatus.CANCELLED
    assert result.promoted == []
    assert seats(meetings, meeting.id) == 1
    statuses = {s.id: s.status for s in all_signups(db, meeting.id)}
    assert statuses[behind.id] == SignupStatus.WAITLISTED


# -- reading ------------------------------------------------------------------------------

def test_upcoming_for_lists_active_future_sign_ups_soonest_first(db: Database, signups: SignupStore,
                                                                 clock: MutableClock,
                                                                 resident: Callable[[], int]) -> None:
    someone, other = resident(), resident()
    later = add_meeting(db, starts_at=NOW + timedelta(days=6))
    sooner = add_meeting(db, starts_at=NOW + timedelta(days=1), capacity=1)
    dropped = add_meeting(db, starts_at=NOW + timedelta(days=2))
    starts_soon = add_meeting(db, starts_at=NOW + timedelta(hours=2))
    not_mine = add_meeting(db, starts_at=NOW + timedelta(days=3))
    signups.register(later.id, someone, "Ana", 1, False)
    signups.register(sooner.id, other, "Seated", 1, False)
    waiting = signups.register(sooner.id, someone, "Ana", 1, False)
    assert waiting.outcome == SignupOutcome.WAITLISTED
    gone = signups.register(dropped.id, someone, "Ana", 1, False).signup
    signups.cancel(gone.id, someone)
    signups.register(starts_soon.id, someone, "Ana", 1, False)
    signups.register(not_mine.id, other, "Other", 1, False)

    held = signups.upcoming_for(someone)
    assert [m.id for _, m in held] == [starts_soon.id, sooner.id, later.id]
    assert [s.status for s, _ in held] == [SignupStatus.REGISTERED, SignupStatus.WAITLISTED,
                                          SignupStatus.REGISTERED]
    assert all(s.conversation_id == someone and s.meeting_id == m.id for s, m in held)
    clock.advance(hours=3)  # the 2-hours-away meeting has started
    assert [m.id for _, m in signups.upcoming_for(someone)] == [sooner.id, later.id]
    assert signups.upcoming_for(resident()) == []


def test_roster_lists_registered_then_waitlisted_without_cancelled(db: Database, signups: SignupStore,
                                                                    resident: Callable[[], int]) -> None:
    meeting = add_meeting(db, capacity=2)
    other_meeting = add_meeting(db)
    a = signups.register(meeting.id, resident(), "A", 1, False).signup
    leaver = resident()
    b = signups.register(meeting.id, leaver, "B", 1, False).signup
    c = signups.register(meeting.id, resident(), "C", 2, False).signup  # waits: too big
    d = signups.register(meeting.id, resident(), "D", 1, False).signup  # waits
    signups.register(other_meeting.id, resident(), "Elsewhere", 1, False)
    assert [s.name for s in signups.roster(meeting.id)] == ["A", "B", "C", "D"]
    signups.cancel(b.id, leaver)  # D is promoted past C, whose party does not fit
    roster = signups.roster(meeting.id)
    assert [(s.id, s.status) for s in roster] == [
        (a.id, SignupStatus.REGISTERED), (d.id, SignupStatus.REGISTERED), (c.id, SignupStatus.WAITLISTED)]
    assert signups.roster(999_999) == []


# -- concurrency ---------------------------------------------------------------------------

def together(count: int, work: Callable[[int], T]) -> list[T]:
    """Runs work(0..count-1) on `count` threads released at the same moment by a barrier."""
    barrier = threading.Barrier(count)
    results: list[T | None] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[index] = work(index)
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    assert not errors, errors
    return results  # type: ignore[return-value]


def test_the_last_seat_goes_to_exactly_one_of_many_at_once(db: Database, meetings: MeetingStore,
                                                           signups: SignupStore,
                                                           resident: Callable[[], int]) -> None:
    meeting = add_meeting(db, capacity=1)
    people = [resident() for _ in range(8)]
    results = together(8, lambda i: signups.register(meeting.id, people[i], f"R{i}", 1, False))
    outcomes = sorted(r.outcome.value for r in results)
    assert outcomes == ["registered"] + ["waitlisted"] * 7
    assert seats(meetings, meeting.id) == 1 == registered_seats(db, meeting.id)
    stored = all_signups(db, meeting.id)
    assert len(stored) == 8 and len({s.code for s in stored}) == 8
    assert len({s.conversation_id for s in stored}) == 8


def test_parties_racing_for_seats_never_overfill(db: Database, meetings: MeetingStore, signups: SignupStore,
                                                 resident: Callable[[], int]) -> None:
    odd = add_meeting(db, capacity=3)
    even = add_meeting(db, capacity=4)
    people = [resident() for _ in range(8)]
    results = together(8, lambda i: signups.register(odd.id, people[i], f"R{i}", 2, False))
    assert sorted(r.outcome.value for r in results) == ["registered"] + ["waitlisted"] * 7
    assert seats(meetings, odd.id) == 2 == registered_seats(db, odd.id)
    results = together(8, lambda i: signups.register(even.id, people[i], f"R{i}", 2, False, waitlist=False))
    assert sorted(r.outcome.value for r in results) == ["full"] * 6 + ["registered"] * 2
    assert seats(meetings, even.id) == 4 == registered_seats(db, even.id)
    assert len(all_signups(db, even.id)) == 2


def test_cancels_and_sign_ups_at_once_keep_the_seat_count_true(db: Database, meetings: MeetingStore,
                                                               signups: SignupStore,
                                                               resident: Callable[[], int]) -> None:
    capacity = 3
    for round_number in range(3):
        meeting = add_meeting(db, capacity=capacity)
        holders = [resident() for _ in range(capacity)]
        held = [signups.register(meeting.id, h, f"H{i}", 1, False).signup for i, h in enumerate(holders)]
        queued = [resident() for _ in range(2)]
        for q in queued:
            assert signups.register(meeting.id, q, "Q", 1, False).outcome == SignupOutcome.WAITLISTED
        newcomers = [resident() for _ in range(5)]
        leaving = held[:2]

        def act(i: int) -> object:
            if i < len(leaving):
                return signups.cancel(leaving[i].id, holders[i])
            return signups.register(meeting.id, newcomers[i - len(leaving)], f"N{i}", 1, False)

        results = together(len(leaving) + len(newcomers), act)
        assert all(r.signup is not None for r in results[:len(leaving)])
        taken = seats(meetings, meeting.id)
        assert 0 <= taken <= capacity, (round_number, taken)
        assert taken == registered_seats(db, meeting.id), round_number
        stored = all_signups(db, meeting.id)
        assert sum(s.status == SignupStatus.CANCELLED for s in stored) == 2
        # The two queued first were waiting before anyone left: they get the freed seats.
        by_conversation = {s.conversation_id: s.status for s in stored}
        assert all(by_conversation[q] == SignupStatus.REGISTERED for q in queued), round_number


# -- races found by review (each failed before the conditional updates / the unique index) -----------

def test_two_cancels_of_the_same_sign_up_at_once_free_its_seats_once(
        db: Database, meetings: MeetingStore, signups: SignupStore, resident: Callable[[], int]) -> None:
    for _ in range(5):
        meeting = add_meeting(db, capacity=1)
        owner = resident()
        held = signups.register(meeting.id, owner, "Owner", 1, False).signup
        assert held is not None
        signups.register(meeting.id, resident(), "W1", 1, False)
        signups.register(meeting.id, resident(), "W2", 1, False)
        results = together(2, lambda i: signups.cancel(held.id, owner))
        assert sum(r.signup is not None for r in results) == 1
        registered = [s.name for s in all_signups(db, meeting.id) if s.status == SignupStatus.REGISTERED]
        assert registered == ["W1"] and seats(meetings, meeting.id) == 1


def test_the_same_resident_twice_at_once_holds_one_sign_up(
        db: Database, meetings: MeetingStore, signups: SignupStore, resident: Callable[[], int]) -> None:
    for _ in range(5):
        meeting = add_meeting(db, capacity=5)
        someone = resident()
        results = together(2, lambda i: signups.register(meeting.id, someone, "Ana", 1, False))
        assert sorted(r.outcome.value for r in results) == ["already", "registered"]
        assert seats(meetings, meeting.id) == 1


def test_sign_ups_for_a_called_off_meeting_are_not_listed_as_upcoming(
        db: Database, signups: SignupStore, resident: Callable[[], int]) -> None:
    meeting = add_meeting(db, capacity=5)
    someone = resident()
    signups.register(meeting.id, someone, "Ana", 1, False)
    with db.session() as session:
        session.get(Meeting, meeting.id).status = "cancelled"
    assert signups.upcoming_for(someone) == []


def test_a_meeting_at_local_midnight_belongs_to_its_day(db: Database, meetings: MeetingStore) -> None:
    midnight = add_meeting(db, starts_at=datetime(2026, 11, 28, 8, 0))  # Sat 00:00 PST
    wanted = meeting_filter("saturday", [], None, None, [], NOW, "America/Los_Angeles")
    assert ids(meetings.upcoming(wanted)) == [midnight.id]

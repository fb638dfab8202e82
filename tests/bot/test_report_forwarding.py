"""Forwarding reports to the department's system, polling their status and texting the
resident when one closes: end to end against the local GeoReport v2 server (real HTTP, the
real Open311Client) and the real database (SQLite, and PostgreSQL when TEST_POSTGRES_URL is set).
Time is a manual clock: backoff is tested by moving it, never by sleeping."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator

import pytest

from bot.meetings.notices import in_quiet_hours
from bot.reports.forwarding import (
    AMBIGUOUS,
    NOT_SENT,
    Backoff,
    ClosedReportNotices,
    ForwardSummary,
    ReportForwarder,
    ReportStatusPoll,
)
from bot.reports.open311 import Open311Client, Open311Config, Open311ConfigError
from bot.reports.store import ReportFilter, ReportStore
from bot.reports.systems import DESCRIPTION_LIMIT, LocalSystem, Open311System
from bot.storage.database import Database
from bot.storage.models import OutboxState, Report, ReportStatus
from tests.conftest import MutableClock
from tests.fakes.open311 import FakeOpen311

NOW = datetime(2026, 11, 24, 17, 0, 0)  # 9:00 AM in Port Alder (America/Los_Angeles)
ZONE = "America/Los_Angeles"
CODES = {"graffiti": "GRF-01", "noise": "NOISE", "abandoned_vehicle": "AV"}
PHONE = "+15035550150"


def photo_url(key: str) -> str:
    return f"https://assistant.portalder.example/media/{key}"


@pytest.fixture
def fake(open311_server: FakeOpen311) -> Iterator[FakeOpen311]:
    open311_server.reset()
    open311_server.requested_datetime = "2026-11-24T09:00:00-08:00"  # when our clock says NOW
    yield open311_server
    open311_server.release()


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(NOW)


def _system(fake: FakeOpen311, clock: MutableClock, *, timeout: float = 5.0, api_key: str | None = None,
            contact: Callable[[Report], str | None] | None = None) -> Open311System:
    client = Open311Client(Open311Config(base_url=fake.base_url, api_key=api_key or fake.api_key,
                                         service_codes=CODES, timeout=timeout))
    return Open311System(client, photo_url, contact or (lambda report: PHONE), clock=clock, timezone=ZONE)


def _file(store: ReportStore, who: int, report_type: str = "graffiti",
          description: str = "Tags on the wall behind the library", **details: Any) -> Report:
    details.setdefault("place_text", "400 Main St")
    return store.create(who, report_type, description, forward=True, **details)


def _stored(store: ReportStore, report: Report) -> Report:
    stored = store.get(report.id)
    assert stored is not None
    return stored


def _quiet(clock: MutableClock) -> Callable[[], bool]:
    return lambda: in_quiet_hours(clock.now(), ("21:00", "08:00"), ZONE)


# -- submission -------------------------------------------------------------------------------------

def test_a_report_reaches_the_department_with_what_staff_need(store: ReportStore, resident: Callable[[], int],
                                                              fake: FakeOpen311, clock: MutableClock) -> None:
    report = _file(store, resident(), place_json={"kind": "address", "lat": 45.5231, "lon": -122.6765},
                   occurred_at=NOW - timedelta(hours=10), occurred_text="last night")
    store.add_photo(report.id, "reports/a.jpg", "image/jpeg")
    store.add_photo(report.id, "reports/b.jpg", "image/jpeg")
    forwarder = ReportForwarder(store, _system(fake, clock), clock)

    assert forwarder.run_once() == ForwardSummary(sent=1)
    (created,) = fake.created
    assert created.value("description") == ("[R-1000] Tags on the wall behind the library\n"
                                            "When: last night (Mon Nov 23 2026, 11:00 PM PST)\n"
                                            "2 photos; the first is attached")
    assert (created.service_code, created.value("address_string")) == ("GRF-01", "400 Main St")
    assert (created.value("lat"), created.value("long")) == ("45.5231", "-122.6765")
    assert created.value("media_url") == "https://assistant.portalder.example/media/reports/a.jpg"
    assert created.value("phone") == PHONE
    stored = _stored(store, report)
    assert (stored.status, stored.upstream_id, stored.upstream_token) == (ReportStatus.FORWARDED,
                                                                          created.request_id, None)
    assert store.outbox(report.id).state == OutboxState.DONE  # type: ignore[union-attr]
    assert forwarder.run_once() == ForwardSummary()
    assert len(fake.calls_to("POST", "requests")) == 1


def test_an_anonymous_report_sends_no_phone_and_no_photo_without_a_url(
        store: ReportStore, resident: Callable[[], int], fake: FakeOpen311, clock: MutableClock) -> None:
    looked_up: list[int] = []

    def contact(report: Report) -> str:
        looked_up.append(report.id)
        return PHONE

    client = Open311Client(Open311Config(base_url=fake.base_url, api_key=fake.api_key, service_codes=CODES))
    report = _file(store, resident(), anonymous=True, place_text=None, place_json={"lat": 45.5, "long": -122.6})
    store.add_photo(report.id, "reports/a.jpg", "image/jpeg")
    assert ReportForwarder(store, Open311System(client, None, contact), clock).run_once() == ForwardSummary(sent=1)
    form = fake.created[0].form
    assert not {"phone", "first_name", "last_name", "email", "media_url", "address_string"} & set(form)
    assert form["description"] == ["[R-1000] Tags on the wall behind the library"]
    assert (form["lat"], form["long"]) == (["45.5"], ["-122.6"])
    assert looked_up == []  # the phone number was not even looked up


def test_a_long_description_keeps_the_reference_and_the_time(store: ReportStore, resident: Callable[[], int],
                                                             fake: FakeOpen311, clock: MutableClock) -> None:
    report = _file(store, resident(), description="loud " * 2000, occurred_text="around 2 AM")
    description = _system(fake, clock).submission(report).description
    assert len(description) <= DESCRIPTION_LIMIT
    assert description.startswith("[R-1000] loud loud") and description.endswith("...\nWhen: around 2 AM")


def test_a_token_answer_is_resolved_by_the_status_poll(store: ReportStore, resident: Callable[[], int],
                                                       fake: FakeOpen311, clock: MutableClock) -> None:
    fake.answer_with_tokens = True
    system = _system(fake, clock)
    report = _file(store, resident())
    assert ReportForwarder(store, system, clock).run_once() == ForwardSummary(sent=1)
    token = fake.created[0].token
    stored = _stored(store, report)
    assert token and (stored.status, stored.upstream_token, stored.upstream_id) == (ReportStatus.FORWARDED,
                                                                                    token, None)
    poll = ReportStatusPoll(store, system, clock)
    assert poll.run_once() == 0  # no id assigned yet
    assert _stored(store, report).upstream_id is None

    request_id = fake.assign(token)
    assert poll.run_once() == 1
    stored = _stored(store, report)
    assert (stored.upstream_id, stored.status) == (request_id, ReportStatus.OPEN)
    assert poll.run_once() == 0
    assert len(fake.calls_to("GET", f"tokens/{token}")) == 2  # asked until assigned, then polled by id


def test_a_token_the_server_forgot_does_not_stop_the_others(store: ReportStore, resident: Callable[[], int],
                                                            fake: FakeOpen311, clock: MutableClock) -> None:
    fake.answer_with_tokens = True
    system = _system(fake, clock)
    forgotten, kept = _file(store, resident()), _file(store, resident())
    ReportForwarder(store, system, clock).run_once()
    fake.created[0].token = "lost-in-a-migration"
    request_id = fake.assign(str(fake.created[1].token))
    assert ReportStatusPoll(store, system, clock).run_once() == 1
    assert _stored(store, forgotten).upstream_id is None
    assert (_stored(store, kept).upstream_id, _stored(store, kept).status) == (request_id, ReportStatus.OPEN)


# -- status and closing the loop ------------------------------------------------------------------

def test_polling_follows_the_status_and_the_closing_text_goes_once_to_who_consented(
        store: ReportStore, resident: Callable[[], int], fake: FakeOpen311, clock: MutableClock) -> None:
    system = _system(fake, clock)
    consenting = _file(store, resident(), follow_up_consent=True)
    silent = _file(store, resident(), follow_up_consent=False)
    assert ReportForwarder(store, system, clock).run_once() == ForwardSummary(sent=2)
    poll = ReportStatusPoll(store, system, clock)
    assert poll.run_once() == 2  # forwarded -> open
    assert poll.run_once() == 0

    first, second = (str(r.request_id) for r in fake.created)
    fake.set_status(first, "open", notes="Assigned to Public Works")
    clock.advance(minutes=5)
    assert poll.run_once() == 1
    stored = _stored(store, consenting)
    assert (stored.status, stored.status_notes, stored.updated_at) == (ReportStatus.OPEN,
                                                                       "Assigned to Public Works", clock.now())

    fake.set_status(first, "closed", notes="Painted over by Public Works.")
    fake.set_status(second, "closed", notes="Cleaned")
    clock.advance(hours=2)
    assert poll.run_once() == 2
    stored = _stored(store, consenting)
    assert (stored.status, stored.status_notes, stored.closed_at) == (ReportStatus.CLOSED,
                                                                      "Painted over by Public Works.", clock.now())
    assert poll.run_once() == 0  # closed reports are no longer polled

    texts: list[tuple[int, str | None]] = []
    notices = ClosedReportNotices(store, lambda report: texts.append((report.id, report.status_notes)),
                                  can_text=lambda report: True, quiet=_quiet(clock))
    assert notices.run_once() == 1
    assert notices.run_once() == 0
    assert texts == [(consenting.id, "Painted over by Public Works.")]
    assert _stored(store, silent).closed_notified_at is None  # never texted: no consent


def test_an_unchanged_status_writes_nothing(store: ReportStore, resident: Callable[[], int],
                                            fake: FakeOpen311, clock: MutableClock) -> None:
    system = _system(fake, clock)
    report = _file(store, resident())
    ReportForwarder(store, system, clock).run_once()
    poll = ReportStatusPoll(store, system, clock)
    assert poll.run_once() == 1
    opened_at = _stored(store, report).updated_at
    clock.advance(hours=1)
    assert poll.run_once() == 0
    assert _stored(store, report).updated_at == opened_at


def test_the_poll_walks_every_tracked_report_in_pages(store: ReportStore, resident: Callable[[], int],
                                                      fake: FakeOpen311, clock: MutableClock) -> None:
    system = _system(fake, clock)
    who = resident()
    reports = [_file(store, who) for _ in range(5)]
    assert ReportForwarder(store, system, clock).run_once() == ForwardSummary(sent=5)
    before = len(fake.calls_to("GET", "requests"))
    assert ReportStatusPoll(store, system, clock, batch=2).run_once() == 5
    assert len(fake.calls_to("GET", "requests")) - before == 3
    assert {_stored(store, r).status for r in reports} == {ReportStatus.OPEN}


def test_an_unavailable_server_skips_the_poll_round_quietly(store: ReportStore, resident: Callable[[], int],
                                                            fake: FakeOpen311, clock: MutableClock,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    system = _system(fake, clock)
    report = _file(store, resident(), description="Ana Ruiz saw tags on the wall")
    ReportForwarder(store, system, clock).run_once()
    poll = ReportStatusPoll(store, system, clock)
    fake.fail_next()
    caplog.set_level(logging.DEBUG)
    assert poll.run_once() == 0
    assert _stored(store, report).status == ReportStatus.FORWARDED
    assert "status poll skipped" in caplog.text
    assert PHONE not in caplog.text and "Ana Ruiz" not in caplog.text
    assert poll.run_once() == 1


def test_no_closing_text_in_quiet_hours_it_waits_for_the_morning(store: ReportStore, resident: Callable[[], int],
                                                                 clock: MutableClock) -> None:
    report = store.create(resident(), "noise", "party", place_text="12 Elm St", follow_up_consent=True)
    clock.advance(hours=13)  # 10 PM in Port Alder
    store.set_status(report.id, ReportStatus.CLOSED, "Officer visited; all quiet")  # a staff action
    texts: list[int] = []
    notices = ClosedReportNotices(store, lambda r: texts.append(r.id), can_text=lambda r: True, quiet=_quiet(clock))
    assert notices.run_once() == 0
    assert texts == [] and _stored(store, report).closed_notified_at is None
    clock.advance(hours=10)  # 8 AM
    assert notices.run_once() == 1
    assert texts == [report.id]


def test_a_resident_who_cannot_be_texted_is_marked_and_never_texted(store: ReportStore,
                                                                    resident: Callable[[], int],
                                                                    clock: MutableClock) -> None:
    report = store.create(resident(), "noise", "party", place_text="12 Elm St", follow_up_consent=True)
    store.set_status(report.id, ReportStatus.CLOSED, "Resolved")
    texts: list[int] = []
    reachable = {"now": False}
    notices = ClosedReportNotices(store, lambda r: texts.append(r.id), can_text=lambda r: reachable["now"],
                                  quiet=lambda: False)
    assert notices.run_once() == 0
    assert _stored(store, report).closed_notified_at == NOW and store.closed_unnotified() == []
    reachable["now"] = True  # opted back in later: no stale "your report was closed"
    assert notices.run_once() == 0 and texts == []


def test_two_sweepers_racing_send_each_closing_text_once(store: ReportStore, resident: Callable[[], int],
                                                         db: Database, clock: MutableClock) -> None:
    who = resident()
    reports = [store.create(who, "noise", f"party {n}", place_text="12 Elm St", follow_up_consent=True)
               for n in range(6)]
    for report in reports:
        store.set_status(report.id, ReportStatus.CLOSED, "Resolved")
    sweepers = 2
    both_listed = threading.Barrier(sweepers)
    texts: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def sweep() -> None:
        other_db = Database(db.url)  # its own connections, like another replica
        listed = threading.Event()

        def can_text(report: Report) -> bool:
            if not listed.is_set():  # both have read the same closed reports before either claims
                listed.set()
                both_listed.wait(timeout=10)
            return True

        def send(report: Report) -> None:
            with lock:
                texts.append(report.id)

        try:
            ClosedReportNotices(ReportStore(other_db, clock), send, can_text, quiet=lambda: False).run_once()
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            other_db.dispose()

    threads = [threading.Thread(target=sweep) for _ in range(sweepers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(texts) == sorted(report.id for report in reports)  # each once, none twice


# -- outages and retries -------------------------------------------------------------------------

def test_an_outage_keeps_the_report_and_a_retry_creates_it_once(store: ReportStore, resident: Callable[[], int],
                                                                fake: FakeOpen311, clock: MutableClock) -> None:
    report = _file(store, resident())
    forwarder = ReportForwarder(store, _system(fake, clock), clock)
    fake.fail_next()
    assert forwarder.run_once() == ForwardSummary(retried=1)
    row = store.outbox(report.id)
    assert row is not None and (row.state, row.attempts, row.next_attempt_at) == (OutboxState.PENDING, 1,
                                                                                  NOW + timedelta(minutes=1))
    assert row.last_error.startswith(NOT_SENT) and "503" in row.last_error
    assert _stored(store, report).status == ReportStatus.RECEIVED  # kept in our database
    assert forwarder.run_once() == ForwardSummary()  # not due yet

    clock.advance(minutes=1)
    assert forwarder.run_once() == ForwardSummary(sent=1)
    assert len(fake.created) == 1 and len(fake.calls_to("POST", "requests")) == 2
    assert fake.calls_to("GET", "requests") == []  # a 503 created nothing: no need to look first
    assert _stored(store, report).upstream_id == fake.created[0].request_id


@pytest.mark.parametrize("outage", ["read timeout", "dropped connection"])
def test_an_ambiguous_failure_is_found_upstream_and_not_sent_twice(
        store: ReportStore, resident: Callable[[], int], fake: FakeOpen311, clock: MutableClock, outage: str) -> None:
    forwarder = ReportForwarder(store, _system(fake, clock, timeout=0.3), clock)
    who = resident()
    other = _file(store, who, description="Another tag, another report")
    assert forwarder.run_once() == ForwardSummary(sent=1)
    clock.advance(minutes=10)
    report = _file(store, who)
    if outage == "read timeout":
        fake.hang_next(create=True)  # the server creates the request, the client times out
    else:
        fake.drop_next(create=True)  # the server creates the request, the answer never comes
    assert forwarder.run_once() == ForwardSummary(retried=1)
    fake.release()
    assert len(fake.created) == 2
    row = store.outbox(report.id)
    assert row is not None and row.last_error.startswith(AMBIGUOUS)

    clock.advance(minutes=1)
    assert forwarder.run_once() == ForwardSummary(reconciled=1)
    assert len(fake.created) == 2 and len(fake.calls_to("POST", "requests")) == 2  # no second POST
    (search,) = fake.calls_to("GET", "requests")
    assert search.query["service_code"] == ["GRF-01"]
    assert search.query["start_date"] == ["2026-11-23T17:10:00Z"]
    assert search.query["end_date"] == ["2026-11-25T17:11:00Z"]
    stored = _stored(store, report)
    assert (stored.status, stored.upstream_id) == (ReportStatus.FORWARDED, fake.created[1].request_id)
    assert _stored(store, other).upstream_id == fake.created[0].request_id
    assert store.outbox(report.id).state == OutboxState.DONE  # type: ignore[union-attr]


def test_an_ambiguous_failure_that_created_nothing_is_sent_after_looking(
        store: ReportStore, resident: Callable[[], int], fake: FakeOpen311, clock: MutableClock) -> None:
    forwarder = ReportForwarder(store, _system(fake, clock, timeout=0.3), clock)
    who = resident()
    _file(store, who, description="Another tag")  # R-1000: upstream already, must not be taken for R-1001
    forwarder.run_once()
    report = _file(store, who)
    fake.hang_next()  # times out before the server did anything
    assert forwarder.run_once() == ForwardSummary(retried=1)
    fake.release()
    assert len(fake.created) == 1
    clock.advance(minutes=1)
    assert forwarder.run_once() == ForwardSummary(sent=1)
    assert len(fake.calls_to("GET", "requests")) == 1 and len(fake.created) == 2
    assert fake.created[1].value("description") == "[R-1001] Tags on the wall behind the library"
    assert _stored(store, report).upstream_id == fake.created[1].request_id


def test_an_ambiguity_stays_until_someone_has_looked(store: ReportStore, resident: Callable[[], int],
                                                     fake: FakeOpen311, clock: MutableClock) -> None:
    """The search is refused once (so the report is sent again) and that POST fails too: the
    first, lost request is still unexplained, so the next attempt looks again and finds it."""
    forwarder = ReportForwarder(store, _system(fake, clock, timeout=0.3), clock)
    report = _file(store, resident())
    fake.hang_next(create=True)
    assert forwarder.run_once() == ForwardSummary(retried=1)
    fake.release()
    clock.advance(minutes=1)
    fake.answer_next('[{"code": 400, "description": "start_date is not supported"}]', status=400)  # the search
    fake.answer_next("<html>busy</html>", "text/html", status=503)  # the POST
    assert forwarder.run_once() == ForwardSummary(retried=1)
    row = store.outbox(report.id)
    assert row is not None and row.last_error.startswith(AMBIGUOUS) and "503" in row.last_error
    clock.advance(minutes=2)
    assert forwarder.run_once() == ForwardSummary(reconciled=1)
    assert len(fake.created) == 1 and _stored(store, report).upstream_id == fake.created[0].request_id


def test_a_row_released_after_its_worker_died_is_looked_for_before_resending(
        store: ReportStore, resident: Callable[[], int], fake: FakeOpen311, clock: MutableClock) -> None:
    system = _system(fake, clock)
    report = _file(store, resident())
    (item,) = store.claim_due(clock.now())
    system.submit(item.report, [])  # the worker sent it, then died before recording the answer
    clock.advance(minutes=20)
    assert store.release_stuck(older_than=clock.now() - timedelta(minutes=15)) == 1
    assert ReportForwarder(store, system, clock).run_once() == ForwardSummary(reconciled=1)
    assert len(fake.created) == 1
    assert _stored(store, report).upstream_id == fake.created[0].request_id


def test_backoff_doubles_from_a_minute_and_is_capped_at_an_hour() -> None:
    assert [Backoff().delay(n) for n in range(1, 10)] == [timedelta(minutes=m)
                                                         for m in (1, 2, 4, 8, 16, 32, 60, 60, 60)]
    assert Backoff().delay(10_000) == timedelta(hours=1)
    custom = Backoff(first=timedelta(seconds=30), factor=3, cap=timedelta(minutes=10))
    assert [custom.delay(n) for n in (1, 2, 3, 4, 5)] == [timedelta(seconds=s) for s in (30, 90, 270, 600, 600)]


def test_retries_follow_the_backoff_until_the_report_is_accepted(store: ReportStore, resident: Callable[[], int],
                                                                 fake: FakeOpen311, clock: MutableClock) -> None:
    report = _file(store, resident())
    forwarder = ReportForwarder(store, _system(fake, clock), clock)
    fake.fail_next(8)
    waits: list[timedelta] = []
    for _ in range(8):
        assert forwarder.run_once() == ForwardSummary(retried=1)
        row = store.outbox(report.id)
        assert row is not None
        waits.append(row.next_attempt_at - clock.now())
        clock.advance(seconds=(row.next_attempt_at - clock.now()).total_seconds() - 1)
        assert forwarder.run_once() == ForwardSummary()  # a second early: not yet
        clock.advance(seconds=1)
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)]
    assert store.stuck(older_than=clock.now() - timedelta(minutes=15)) == []  # waiting, not abandoned...
    assert [r.id for r, _ in store.failing(min_attempts=5)] == [report.id]  # ...but staff see it failing
    assert forwarder.run_once() == ForwardSummary(sent=1)
    assert store.failing(min_attempts=1) == []
    assert len(fake.created) == 1 and store.outbox(report.id).attempts == 9  # type: ignore[union-attr]


def test_a_refused_api_key_waits_for_staff_instead_of_rejecting_reports(
        store: ReportStore, resident: Callable[[], int], fake: FakeOpen311, clock: MutableClock) -> None:
    report = _file(store, resident())
    told: list[Report] = []
    wrong = ReportForwarder(store, _system(fake, clock, api_key="rotated-key-0000"), clock, on_rejected=told.append)
    assert wrong.run_once() == ForwardSummary(retried=1)
    row = store.outbox(report.id)
    assert row is not None and row.state == OutboxState.PENDING and row.last_error.startswith(NOT_SENT)
    assert told == [] and _stored(store, report).status == ReportStatus.RECEIVED
    clock.advance(minutes=1)  # staff fixed the key
    assert ReportForwarder(store, _system(fake, clock), clock).run_once() == ForwardSummary(sent=1)
    assert fake.calls_to("GET", "requests") == [] and len(fake.created) == 1


# -- rejections ----------------------------------------------------------------------------------

def test_a_rejected_report_is_final_the_resident_is_told_and_staff_see_it(
        store: ReportStore, resident: Callable[[], int], fake: FakeOpen311, clock: MutableClock) -> None:
    told: list[Report] = []
    forwarder = ReportForwarder(store, _system(fake, clock), clock, on_rejected=told.append)
    # the department's noise service requires an attribute we do not send: HTTP 400, an error array
    report = _file(store, resident(), "noise", "Music until 3 AM every night", place_text="12 Elm St")
    assert forwarder.run_once() == ForwardSummary(rejected=1)
    assert [r.id for r in told] == [report.id]
    assert _stored(store, report).status == ReportStatus.REJECTED
    row = store.outbox(report.id)
    assert row is not None and row.state == OutboxState.REJECTED
    assert "attribute WHEN is required" in row.last_error
    assert [r.id for r in store.search(ReportFilter(status=ReportStatus.REJECTED))] == [report.id]
    clock.advance(days=1)
    assert forwarder.run_once() == ForwardSummary()
    assert len(fake.calls_to("POST", "requests")) == 1 and fake.created == [] and len(told) == 1


@pytest.mark.parametrize("report_type, place_text", [("fireworks", "400 Main St"), ("graffiti", None)])
def test_a_report_the_system_cannot_take_is_rejected_without_a_call(
        store: ReportStore, resident: Callable[[], int], fake: FakeOpen311, clock: MutableClock,
        report_type: str, place_text: str | None) -> None:
    """No service code for its type, or no location: the same report can never be sent."""
    told: list[Report] = []
    report = _file(store, resident(), report_type, "Something", place_text=place_text)
    forwarder = ReportForwarder(store, _system(fake, clock), clock, on_rejected=told.append)
    assert forwarder.run_once() == ForwardSummary(rejected=1)
    assert [r.id for r in told] == [report.id] and fake.calls == []
    assert _stored(store, report).status == ReportStatus.REJECTED


def test_a_failing_rejection_callback_does_not_stop_the_batch(store: ReportStore, resident: Callable[[], int],
                                                              fake: FakeOpen311, clock: MutableClock) -> None:
    def on_rejected(report: Report) -> None:
        raise RuntimeError("outbound queue down")

    who = resident()
    refused = _file(store, who, "noise", "Music", place_text="12 Elm St")
    fine = _file(store, who)
    forwarder = ReportForwarder(store, _system(fake, clock), clock, on_rejected=on_rejected)
    assert forwarder.run_once() == ForwardSummary(sent=1, rejected=1)
    assert _stored(store, refused).status == ReportStatus.REJECTED
    assert _stored(store, fine).status == ReportStatus.FORWARDED


# -- the local system ----------------------------------------------------------------------------

def test_the_local_system_forwards_and_polls_nothing(store: ReportStore, resident: Callable[[], int],
                                                     clock: MutableClock) -> None:
    local = LocalSystem()
    who = resident()
    report = store.create(who, "graffiti", "Tags", place_text="400 Main St", follow_up_consent=True,
                          forward=local.forwards)
    assert store.outbox(report.id) is None
    queued = _file(store, who)  # queued while an Open311 endpoint was configured
    assert ReportForwarder(store, local, clock).run_once() == ForwardSummary()
    row = store.outbox(queued.id)
    assert row is not None and (row.state, row.attempts) == (OutboxState.PENDING, 0)
    assert ReportStatusPoll(store, local, clock).run_once() == 0

    store.set_status(report.id, ReportStatus.CLOSED, "Cleaned by Public Works")  # staff close it here
    texts: list[int] = []
    notices = ClosedReportNotices(store, lambda r: texts.append(r.id), can_text=lambda r: True, quiet=_quiet(clock))
    assert notices.run_once() == 1 and texts == [report.id]


@pytest.mark.parametrize("attributes", [{"NOISE": "when"}, {"NOISE.WHEN": "the time"}, {".WHEN": "when"}])
def test_a_misconfigured_attribute_answer_stops_start_up(attributes: dict[str, str]) -> None:
    client = Open311Client(Open311Config(base_url="https://311.example/v2", api_key="k"))
    with pytest.raises(Open311ConfigError, match="OPEN311_ATTRIBUTES"):
        Open311System(client, attributes=attributes)

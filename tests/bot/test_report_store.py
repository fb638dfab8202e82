"""Reports against SQLite (a file) and, when TEST_POSTGRES_URL is set, PostgreSQL:
references, the resident's own look-ups, staff filters, and the forwarding outbox under
concurrent workers."""
from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from bot.reports.store import ReportFilter, ReportStore, normalize_reference
from bot.storage.migrate import alembic_config
from bot.storage.models import OutboxState, ReportStatus
from tests.conftest import MutableClock

NOW = datetime(2026, 11, 24, 17, 0, 0)
REFERENCE = re.compile(r"^R-\d{4,}$")


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(NOW)


def test_references_are_readable_unique_and_increasing(store: ReportStore, resident: Callable[[], int]) -> None:
    who = resident()
    reports = [store.create(who, "noise", f"loud music {n}") for n in range(5)]
    references = [report.reference for report in reports]
    assert all(REFERENCE.match(reference) for reference in references)
    assert references[0] == "R-1000"
    numbers = [int(reference[2:]) for reference in references]
    assert numbers == sorted(numbers) and len(set(numbers)) == 5
    stored = store.get(reports[0].id)
    assert stored is not None and stored.reference == "R-1000" and stored.status == ReportStatus.RECEIVED


def test_references_stay_unique_when_filed_at_once(store: ReportStore, resident: Callable[[], int]) -> None:
    who = resident()
    workers = 6
    barrier = threading.Barrier(workers)
    references: list[str] = []
    lock = threading.Lock()

    def file() -> None:
        barrier.wait()
        report = store.create(who, "noise", "barking dog")
        with lock:
            references.append(report.reference)

    threads = [threading.Thread(target=file) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(references)) == workers


def test_create_keeps_every_detail(store: ReportStore, resident: Callable[[], int]) -> None:
    who = resident()
    occurred = NOW - timedelta(hours=10)
    report = store.create(
        who, "abandoned_vehicle", "  a blue sedan with flat tyres  ", place_text="corner of 5th and Main",
        place_json={"lat": 45.5, "long": -122.6}, occurred_at=occurred, occurred_text="last night",
        follow_up_consent=True, anonymous=True,
    )
    stored = store.get(report.id)
    assert stored is not None
    assert stored.description == "a blue sedan with flat tyres"
    assert json.loads(stored.place_json) == {"lat": 45.5, "long": -122.6}
    assert (stored.occurred_at, stored.occurred_text) == (occurred, "last night")
    assert stored.anonymous and stored.follow_up_consent and stored.conversation_id == who
    assert stored.created_at == NOW and stored.closed_at is None


def test_photos_belong_to_their_report(store: ReportStore, resident: Callable[[], int]) -> None:
    who = resident()
    first, second = store.create(who, "graffiti", "tag on wall"), store.create(who, "graffiti", "another")
    store.add_photo(first.id, "reports/a.jpg", "image/jpeg", 1024, 768)
    store.add_photo(first.id, "reports/b.jpg", "image/jpeg", 800, 600)
    store.add_photo(second.id, "reports/c.jpg", "image/jpeg")
    assert [photo.key for photo in store.photos(first.id)] == ["reports/a.jpg", "reports/b.jpg"]
    assert [(photo.width, photo.height) for photo in store.photos(second.id)] == [(None, None)]


def test_only_the_resident_who_filed_can_look_a_report_up(store: ReportStore, resident: Callable[[], int]) -> None:
    owner, stranger = resident(), resident()
    report = store.create(owner, "noise", "party")
    found = store.get_by_reference(report.reference, owner)
    assert found is not None and found.id == report.id
    assert store.get_by_reference(report.reference.lower().replace("-", ""), owner) is not None
    assert store.get_by_reference(report.reference, stranger) is None
    assert store.get_by_reference("R-9999", owner) is None
    assert store.get_by_reference("hello", owner) is None


def test_normalize_reference() -> None:
    assert normalize_reference(" r-1042 ") == "R-1042"
    assert normalize_reference("R1042") == "R-1042"
    assert normalize_reference("R 1042") == "R-1042"
    assert normalize_reference("M-4K7Q") is None
    assert normalize_reference("1042") is None


def test_recent_for_lists_the_residents_own_newest_first(store: ReportStore, resident: Callable[[], int],
                                                         clock: MutableClock) -> None:
    who, other = resident(), resident()
    made = []
    for n in range(4):
        made.append(store.create(who, "noise", f"report {n}").id)
        clock.advance(minutes=5)
    store.create(other, "noise", "not mine")
    assert [report.id for report in store.recent_for(who, limit=3)] == list(reversed(made))[:3]
    assert len(store.recent_for(other)) == 1


def test_status_changes_and_closing(store: ReportStore, resident: Callable[[], int], clock: MutableClock) -> None:
    report = store.create(resident(), "noise", "party")
    assert store.set_status(report.id, ReportStatus.OPEN, "assigned to patrol")
    clock.advance(hours=2)
    closed_time = clock.now()
    assert store.set_status(report.id, ReportStatus.CLOSED, "officer visited")
    stored = store.get(report.id)
    assert stored is not None
    assert (stored.status, stored.status_notes, stored.closed_at) == (ReportStatus.CLOSED, "officer visited",
                                                                     closed_time)
    clock.advance(hours=1)
    store.set_status(report.id, ReportStatus.CLOSED, "officer visited; all quiet")
    stored = store.get(report.id)
    assert stored is not None and stored.closed_at == closed_time  # first closing kept
    assert not store.set_status(999_999, ReportStatus.OPEN)
    with pytest.raises(ValueError):
        store.set_status(report.id, "lost")


def test_closed_notice_is_claimed_once(store: ReportStore, resident: Callable[[], int]) -> None:
    who = resident()
    consented = store.create(who, "noise", "party", follow_up_consent=True)
    silent = store.create(who, "noise", "party", follow_up_consent=False)
    assert not store.mark_closed_notified(consented.id)  # not closed yet
    for report in (consented, silent):
        store.set_status(report.id, ReportStatus.CLOSED)
    assert [report.id for report in store.closed_unnotified()] == [consented.id]
    assert store.mark_closed_notified(consented.id)
    assert not store.mark_closed_notified(consented.id)
    assert store.closed_unnotified() == []


def test_staff_filters(store: ReportStore, resident: Callable[[], int], clock: MutableClock) -> None:
    who = resident()
    noise = store.create(who, "noise", "party")
    clock.advance(days=1)
    graffiti = store.create(who, "graffiti", "tag")
    clock.advance(days=1)
    held = store.create(who, "suspicious_person", "tall man", review_reason="appearance-only description")
    store.set_status(graffiti.id, ReportStatus.OPEN)

    def ids(**fields: object) -> list[int]:
        return [report.id for report in store.search(ReportFilter(**fields))]  # type: ignore[arg-type]

    assert ids() == [held.id, graffiti.id, noise.id]
    assert ids(report_type="noise") == [noise.id]
    assert ids(status=ReportStatus.OPEN) == [graffiti.id]
    assert ids(status=ReportStatus.RECEIVED) == [held.id, noise.id]
    assert ids(created_from=NOW + timedelta(days=1)) == [held.id, graffiti.id]
    assert ids(created_from=NOW, created_until=NOW + timedelta(days=1)) == [noise.id]
    assert ids(needs_review=True) == [held.id]
    assert ids(needs_review=False) == [graffiti.id, noise.id]
    assert [report.id for report in store.search(limit=1, offset=1)] == [graffiti.id]


def test_a_held_report_is_not_queued_until_staff_release_it(store: ReportStore, resident: Callable[[], int]) -> None:
    held = store.create(resident(), "suspicious_person", "tall man", review_reason="appearance-only description",
                        forward=True)
    assert store.outbox(held.id) is None
    assert store.clear_review(held.id)
    assert not store.clear_review(held.id)
    row = store.outbox(held.id)
    assert row is not None and row.state == OutboxState.PENDING


def test_enqueue_once_and_claim_marks_sending(store: ReportStore, resident: Callable[[], int]) -> None:
    report = store.create(resident(), "noise", "party", forward=True)
    assert not store.enqueue(report.id)
    items = store.claim_due(NOW)
    assert [(item.report.id, item.attempts) for item in items] == [(report.id, 1)]
    row = store.outbox(report.id)
    assert row is not None and row.state == OutboxState.SENDING
    assert store.claim_due(NOW) == []


def test_claim_due_respects_the_limit_and_due_order(store: ReportStore, resident: Callable[[], int],
                                                    clock: MutableClock) -> None:
    who = resident()
    ids = []
    for _ in range(3):
        ids.append(store.create(who, "noise", "party", forward=True).id)
        clock.advance(minutes=1)
    assert [item.report.id for item in store.claim_due(clock.now(), limit=2)] == ids[:2]
    assert [item.report.id for item in store.claim_due(clock.now(), limit=2)] == ids[2:]


def test_each_row_is_claimed_exactly_once_by_concurrent_workers(store: ReportStore,
                                                                resident: Callable[[], int]) -> None:
    who = resident()
    ids = {store.create(who, "noise", f"party {n}", forward=True).id for n in range(12)}
    workers = 4
    barrier = threading.Barrier(workers)
    claimed: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            barrier.wait()
            while True:
                items = store.claim_due(NOW, limit=3)
                if not items:
                    return
                with lock:
                    claimed.extend(item.report.id for item in items)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(claimed) == sorted(ids)  # every row, none twice
    assert all(store.outbox(report_id).attempts == 1 for report_id in ids)  # type: ignore[union-attr]


def test_retry_waits_for_its_time_then_succeeds(store: ReportStore, resident: Callable[[], int],
                                               clock: MutableClock) -> None:
    report = store.create(resident(), "noise", "party", forward=True)
    store.claim_due(NOW)
    later = NOW + timedelta(minutes=5)
    assert store.mark_retry(report.id, "timed out", later)
    assert not store.mark_retry(report.id, "timed out", later)  # no longer sending
    row = store.outbox(report.id)
    assert row is not None and (row.state, row.last_error, row.next_attempt_at) == (OutboxState.PENDING,
                                                                                    "timed out", later)
    assert store.claim_due(NOW + timedelta(minutes=4)) == []
    items = store.claim_due(later)
    assert [(item.report.id, item.attempts) for item in items] == [(report.id, 2)]
    assert store.mark_done(report.id, upstream_id="SR-77")
    assert not store.mark_done(report.id, upstream_id="SR-78")
    stored = store.get(report.id)
    assert stored is not None and (stored.status, stored.upstream_id) == (ReportStatus.FORWARDED, "SR-77")
    assert store.outbox(report.id).state == OutboxState.DONE  # type: ignore[union-attr]
    assert [tracked.id for tracked in store.tracking()] == [report.id]


def test_token_then_id(store: ReportStore, resident: Callable[[], int]) -> None:
    report = store.create(resident(), "noise", "party", forward=True)
    store.claim_due(NOW)
    assert store.mark_done(report.id, upstream_token="tok-1")
    assert store.set_upstream_id(report.id, "SR-1")
    assert not store.set_upstream_id(report.id, "SR-2")
    stored = store.get(report.id)
    assert stored is not None and (stored.upstream_token, stored.upstream_id) == ("tok-1", "SR-1")


def test_rejection_is_final(store: ReportStore, resident: Callable[[], int]) -> None:
    report = store.create(resident(), "noise", "party", forward=True)
    assert not store.mark_rejected(report.id, "not claimed")  # only a sending row
    store.claim_due(NOW)
    assert store.mark_rejected(report.id, "service_code invalid " + "x" * 400)
    row = store.outbox(report.id)
    assert row is not None and row.state == OutboxState.REJECTED and len(row.last_error) == 255
    stored = store.get(report.id)
    assert stored is not None and stored.status == ReportStatus.REJECTED
    assert store.claim_due(NOW + timedelta(days=1)) == []


def test_stuck_lists_abandoned_and_overdue_rows(store: ReportStore, resident: Callable[[], int],
                                               clock: MutableClock) -> None:
    who = resident()
    abandoned = store.create(who, "noise", "claimed, worker died", forward=True)
    store.claim_due(NOW)
    overdue = store.create(who, "noise", "nobody picked it up", forward=True)
    finished = store.create(who, "noise", "done", forward=True)
    waiting = store.create(who, "noise", "retry later", forward=True)
    store.claim_due(NOW)  # claims overdue, finished and waiting
    store.mark_done(finished.id, upstream_id="SR-1")
    store.mark_retry(overdue.id, "timeout", NOW)
    store.mark_retry(waiting.id, "timeout", NOW + timedelta(hours=2))
    clock.advance(minutes=30)
    stuck = store.stuck(older_than=NOW + timedelta(minutes=15))
    assert sorted(report.id for report, _ in stuck) == sorted([abandoned.id, overdue.id])
    assert store.stuck(older_than=NOW) == []
    assert store.release_stuck(older_than=NOW + timedelta(minutes=15)) == 1
    assert [item.report.id for item in store.claim_due(clock.now())] == [overdue.id, abandoned.id]


def test_migration_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrate.db'}"
    config = alembic_config(url)
    command.upgrade(config, "head")
    tables = {"reports", "report_photos", "report_outbox"}
    engine = create_engine(url, future=True)
    try:
        assert tables <= set(inspect(engine).get_table_names())
        command.downgrade(config, "0003")
        assert not tables & set(inspect(engine).get_table_names())
        assert "signups" in inspect(engine).get_table_names()
        command.upgrade(config, "head")
        assert tables <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()

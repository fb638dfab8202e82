"""Pictures residents send by MMS: stored with the message, fetched from a local server that
serves media like Twilio, cleaned, kept, and attached to the resident's next report
(SQLite, and PostgreSQL when TEST_POSTGRES_URL is set)."""
from __future__ import annotations

import io
import itertools
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import pytest
from PIL import Image
from sqlalchemy import select

from bot.reports.media import MediaIntake
from bot.reports.photos import LocalPhotoStore, PhotoFetcher
from bot.reports.store import ReportStore
from bot.storage.database import Database
from bot.storage.messages import MessageStore
from bot.storage.models import InboundMedia, MediaState
from tests.conftest import MutableClock
from tests.fakes.media import SID, TOKEN, FakeMediaHost, gps_jpeg

NOW = datetime(2026, 11, 24, 17, 0, 0)
_SIDS = itertools.count()


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(NOW)


@pytest.fixture
def photos(tmp_path: Path) -> LocalPhotoStore:
    return LocalPhotoStore(tmp_path / "photos")


@pytest.fixture
def intake(db: Database, clock: MutableClock, photos: LocalPhotoStore) -> MediaIntake:
    return MediaIntake(db, clock, PhotoFetcher((SID, TOKEN), max_bytes=200_000), photos)


def _message(db: Database, clock: MutableClock, conversation_id: int, media: list[tuple[str, str | None]]) -> int:
    message, _ = MessageStore(db, clock).record_inbound(conversation_id, "sms", "", f"MM{next(_SIDS)}",
                                                        len(media), media)
    return message.id


def _rows(db: Database, message_id: int) -> list[InboundMedia]:
    with db.session() as session:
        return list(session.execute(select(InboundMedia).where(InboundMedia.message_id == message_id)
                                    .order_by(InboundMedia.position)).scalars())


def test_media_urls_are_stored_with_the_message_before_anything_is_fetched(
        db: Database, clock: MutableClock, resident: Callable[[], int], fresh_media_host: FakeMediaHost) -> None:
    url = fresh_media_host.put("first.jpg", gps_jpeg())
    message_id = _message(db, clock, resident(), [(url, "image/jpeg"), (url + "?2", None)])
    rows = _rows(db, message_id)
    assert [(r.position, r.url, r.declared_type, r.state) for r in rows] == [
        (0, url, "image/jpeg", MediaState.PENDING), (1, url + "?2", None, MediaState.PENDING)]
    assert MessageStore(db, clock).get(message_id).num_media == 2


def test_a_photo_is_fetched_cleaned_of_gps_and_kept_and_the_url_forgotten(
        db: Database, clock: MutableClock, resident: Callable[[], int], fresh_media_host: FakeMediaHost,
        intake: MediaIntake, photos: LocalPhotoStore) -> None:
    url = fresh_media_host.put("gps.jpg", gps_jpeg())
    fresh_media_host.requests.clear()
    message_id = _message(db, clock, resident(), [(url, "image/jpeg")])
    outcome = intake.take(message_id)
    assert (outcome.stored, outcome.refused, outcome.failed, outcome.retry, outcome.news) == (1, 0, 0, False, False)
    [row] = _rows(db, message_id)
    assert row.state == MediaState.STORED and row.url is None and row.content_type == "image/jpeg"
    with Image.open(io.BytesIO(photos.open(row.photo_key))) as kept:
        assert not kept.getexif() and "exif" not in kept.info
        assert kept.size == (64, 48)
    assert intake.take(message_id).stored == 1  # a second run (a retried job) fetches nothing again
    assert fresh_media_host.requests == ["gps.jpg"]


def test_non_images_and_oversize_files_are_refused_and_said_once(
        db: Database, clock: MutableClock, resident: Callable[[], int], fresh_media_host: FakeMediaHost,
        intake: MediaIntake) -> None:
    pdf = fresh_media_host.put("doc.pdf", b"%PDF-1.4 not a picture", "application/pdf")
    huge = fresh_media_host.put("huge.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 300_000, "image/jpeg")
    fine = fresh_media_host.put("fine.jpg", gps_jpeg())
    message_id = _message(db, clock, resident(), [(pdf, "application/pdf"), (huge, "image/jpeg"), (fine, None)])
    outcome = intake.take(message_id)
    assert (outcome.stored, outcome.refused, outcome.news) == (1, 2, True)
    assert [r.state for r in _rows(db, message_id)] == [MediaState.REFUSED, MediaState.REFUSED, MediaState.STORED]
    assert all(r.url is None for r in _rows(db, message_id))
    again = intake.take(message_id)
    assert (again.stored, again.refused, again.news) == (1, 2, False)


def test_a_provider_outage_is_retried_then_given_up(
        db: Database, clock: MutableClock, resident: Callable[[], int], fresh_media_host: FakeMediaHost,
        intake: MediaIntake) -> None:
    url = fresh_media_host.put("flaky.jpg", gps_jpeg())
    fresh_media_host.fail_next("flaky.jpg", 1)
    message_id = _message(db, clock, resident(), [(url, None)])
    first = intake.take(message_id)
    assert first.retry and first.stored == 0 and _rows(db, message_id)[0].state == MediaState.PENDING
    assert intake.take(message_id).stored == 1  # the provider is back

    gone = fresh_media_host.put("gone.jpg", gps_jpeg())
    fresh_media_host.fail_next("gone.jpg", 5)
    message_id = _message(db, clock, resident(), [(gone, None)])
    assert intake.take(message_id).retry
    last = intake.take(message_id, give_up=True)
    assert (last.retry, last.failed, last.news) == (False, 1, True)
    assert _rows(db, message_id)[0].state == MediaState.FAILED


def test_pictures_go_to_the_next_report_of_the_same_resident_once(
        db: Database, clock: MutableClock, resident: Callable[[], int], fresh_media_host: FakeMediaHost,
        intake: MediaIntake) -> None:
    ana, ben = resident(), resident()
    url = fresh_media_host.put("wall.jpg", gps_jpeg(colour=(10, 120, 10)))
    for who in (ana, ana, ben):
        intake.take(_message(db, clock, who, [(url, None)]))
    since = NOW - timedelta(minutes=30)
    assert intake.waiting(ana, since) == 2 and intake.waiting(ben, since) == 1
    store = ReportStore(db, clock)
    report = store.create(ana, "graffiti", "tags on the wall")
    other = store.create(ana, "graffiti", "second report")
    results: list[int] = []
    threads = [threading.Thread(target=lambda rid=rid: results.append(intake.attach(ana, rid, since)))
               for rid in (report.id, other.id)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 2  # every picture on exactly one report, whichever took it
    assert len(store.photos(report.id)) + len(store.photos(other.id)) == 2
    assert intake.waiting(ana, since) == 0 and intake.waiting(ben, since) == 1


def test_old_pictures_are_not_attached_to_a_new_report(
        db: Database, clock: MutableClock, resident: Callable[[], int], fresh_media_host: FakeMediaHost,
        intake: MediaIntake) -> None:
    ana = resident()
    intake.take(_message(db, clock, ana, [(fresh_media_host.put("old.jpg", gps_jpeg()), None)]))
    clock.advance(days=2)
    report = ReportStore(db, clock).create(ana, "graffiti", "new one")
    assert intake.attach(ana, report.id, clock.now() - timedelta(minutes=30)) == 0

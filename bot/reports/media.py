"""Pictures residents send by MMS: fetched and cleaned before the message's turn, kept with
the conversation, and given to the next report the resident files.

The webhook stored each media URL with its message before acknowledging it
(`InboundMedia`, state pending). A worker, before Rasa reads the message, calls
`MediaIntake.take`: each picture is downloaded with our Twilio credentials, checked (an
image, at most 5 MB), stripped of its metadata (EXIF GPS) and saved in the photo store; the
provider's URL is then forgotten. When a report is filed, `attach` moves the conversation's
recent unattached pictures onto it, in one conditional UPDATE so two reports never share one.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from bot.clock import Clock
from bot.reports.photos import (
    NotAnImage, PhotoError, PhotoFetcher, PhotoStore, PhotoTooLarge, PhotoUnavailable, clean_photo,
)
from bot.storage.database import Database
from bot.storage.models import InboundMedia, MediaState, ReportPhoto

log = logging.getLogger(__name__)

MAX_PHOTOS_PER_REPORT = 10


@dataclass(frozen=True)
class MediaOutcome:
    """What became of one message's pictures."""

    stored: int = 0
    refused: int = 0  # not an image, or too large: the resident should hear why
    failed: int = 0  # the provider would not give them to us
    retry: bool = False  # some could not be fetched yet; trying again later may work
    news: bool = False  # some were refused or failed just now (not on an earlier attempt): say so once

    @property
    def total(self) -> int:
        return self.stored + self.refused + self.failed


class MediaIntake:
    def __init__(self, db: Database, clock: Clock, fetcher: PhotoFetcher, photos: PhotoStore) -> None:
        self._db = db
        self._clock = clock
        self._fetcher = fetcher
        self._photos = photos

    @property
    def max_mb(self) -> int:
        """The size cap residents are told about (REPORT_PHOTO_MAX_BYTES, in whole MB)."""
        return max(1, round(self._fetcher.max_bytes / (1024 * 1024)))

    def take(self, message_id: int, give_up: bool = False) -> MediaOutcome:
        """Fetch and keep the message's pending pictures. With `give_up`, a picture that could
        not be fetched for now is marked failed instead of left for a retry."""
        with self._db.session() as session:
            pending = list(session.execute(
                select(InboundMedia).where(InboundMedia.message_id == message_id)
                .order_by(InboundMedia.position)
            ).scalars())
        stored = refused = failed = 0
        retry = news = False
        for media in pending:
            if media.state == MediaState.STORED:
                stored += 1
                continue
            if media.state == MediaState.REFUSED:
                refused += 1
                continue
            if media.state == MediaState.FAILED:
                failed += 1
                continue
            try:
                clean = clean_photo(self._fetcher.fetch(media.url or "").data)
                key = self._photos.save(clean)
            except (PhotoTooLarge, NotAnImage) as exc:
                self._finish(media.id, MediaState.REFUSED, error=type(exc).__name__)
                refused += 1
                news = True
            except PhotoUnavailable as exc:
                if exc.retryable and not give_up:
                    retry = True
                    continue
                self._finish(media.id, MediaState.FAILED, error=f"{type(exc).__name__} {exc.status or ''}".strip())
                failed += 1
                news = True
            except PhotoError as exc:
                self._finish(media.id, MediaState.FAILED, error=type(exc).__name__)
                failed += 1
                news = True
            else:
                self._finish(media.id, MediaState.STORED, key=key, content_type=clean.content_type,
                             width=clean.width, height=clean.height)
                stored += 1
        if refused or failed:
            log.info("message %s: %s picture(s) refused, %s failed", message_id, refused, failed)
        return MediaOutcome(stored, refused, failed, retry, news)

    def _finish(self, media_id: int, state: str, *, key: str | None = None, content_type: str | None = None,
                width: int | None = None, height: int | None = None, error: str | None = None) -> None:
        with self._db.session() as session:
            session.execute(
                update(InboundMedia).where(InboundMedia.id == media_id, InboundMedia.state == MediaState.PENDING)
                .values(state=state, url=None, photo_key=key, content_type=content_type, width=width,
                        height=height, error=error, updated_at=self._clock.now())
                .execution_options(synchronize_session=False)
            )

    # -- reports take the pictures -------------------------------------------------------

    def waiting(self, conversation_id: int, since: datetime) -> int:
        """Stored pictures of this conversation, sent since `since`, not on a report yet."""
        with self._db.session() as session:
            return int(session.execute(
                select(func.count(InboundMedia.id)).where(
                    InboundMedia.conversation_id == conversation_id, InboundMedia.state == MediaState.STORED,
                    InboundMedia.report_id.is_(None), InboundMedia.created_at >= since)
            ).scalar_one())

    def attach(self, conversation_id: int, report_id: int, since: datetime) -> int:
        """Give the waiting pictures (at most 10, oldest first) to the report; returns how many."""
        now = self._clock.now()
        with self._db.session() as session:
            candidates = list(session.execute(
                select(InboundMedia).where(
                    InboundMedia.conversation_id == conversation_id, InboundMedia.state == MediaState.STORED,
                    InboundMedia.report_id.is_(None), InboundMedia.created_at >= since)
                .order_by(InboundMedia.id).limit(MAX_PHOTOS_PER_REPORT)
            ).scalars())
            attached = 0
            for media in candidates:
                taken = session.execute(
                    update(InboundMedia).where(InboundMedia.id == media.id, InboundMedia.report_id.is_(None))
                    .values(report_id=report_id, updated_at=now).execution_options(synchronize_session=False)
                ).rowcount == 1
                if taken:
                    session.add(ReportPhoto(report_id=report_id, key=media.photo_key,
                                            content_type=media.content_type or "image/jpeg", width=media.width,
                                            height=media.height, created_at=now))
                    attached += 1
        return attached

"""Non-emergency reports in the SQL database: filing, the resident's own look-ups, staff
lists, and the outbox that forwards each report to the department system.

References ("R-1000", "R-1001"...) follow the row id, set in the inserting transaction, so
they are unique, increasing and never drawn at random. The outbox is claimed by a
conditional UPDATE ("... SET state='sending' WHERE state='pending'"): PostgreSQL re-checks
the condition after a concurrent writer commits and SQLite runs one writer at a time, so
two workers never claim the same report.
"""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.storage.database import Database
from bot.storage.models import OutboxState, Report, ReportOutbox, ReportPhoto, ReportStatus

REFERENCE_START = 1000
REFERENCE = re.compile(r"^R-?(\d{4,})$")
ERROR_LENGTH = 255


def reference_for(report_id: int) -> str:
    return f"R-{REFERENCE_START + report_id - 1}"


def normalize_reference(text: str) -> str | None:
    """What a resident typed ("r1042", " R-1042 ") as a stored reference, or None."""
    match = REFERENCE.match(text.strip().upper().replace(" ", ""))
    return f"R-{match.group(1)}" if match else None


@dataclass(frozen=True)
class ReportFilter:
    """What staff asked for; every part optional. Dates are naive UTC on `created_at`."""

    report_type: str | None = None
    status: str | None = None
    created_from: datetime | None = None  # inclusive
    created_until: datetime | None = None  # exclusive
    needs_review: bool | None = None  # True: only held for review; False: only not held


@dataclass(frozen=True)
class OutboxItem:
    """A claimed outbox row with its report, for the worker that forwards it."""

    report: Report
    attempts: int  # including this one


class ReportStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    # -- filing ----------------------------------------------------------------------

    def create(self, conversation_id: int, report_type: str, description: str, *,
               place_text: str | None = None, place_json: str | Mapping[str, Any] | None = None,
               occurred_at: datetime | None = None, occurred_text: str | None = None,
               follow_up_consent: bool = False, anonymous: bool = False,
               review_reason: str | None = None, forward: bool = False) -> Report:
        """Store a report and give it its reference; with `forward`, queue it for the
        department system in the same transaction (never for one held for review)."""
        now = self._clock.now()
        if place_json is not None and not isinstance(place_json, str):
            place_json = json.dumps(place_json, sort_keys=True)
        report = Report(
            reference=f"new-{uuid.uuid4().hex[:16]}", conversation_id=conversation_id,
            anonymous=anonymous, report_type=report_type, description=description.strip(),
            place_text=place_text, place_json=place_json, occurred_at=occurred_at,
            occurred_text=occurred_text, follow_up_consent=follow_up_consent,
            status=ReportStatus.RECEIVED, review_reason=review_reason, created_at=now, updated_at=now,
        )
        with self._db.session() as session:
            session.add(report)
            session.flush()
            report.reference = reference_for(report.id)
            if forward and review_reason is None:
                self._enqueue(session, report.id, now)
        return report

    def add_photo(self, report_id: int, key: str, content_type: str, width: int | None = None,
                  height: int | None = None) -> ReportPhoto:
        photo = ReportPhoto(report_id=report_id, key=key, content_type=content_type, width=width,
                            height=height, created_at=self._clock.now())
        with self._db.session() as session:
            session.add(photo)
        return photo

    def photos(self, report_id: int) -> list[ReportPhoto]:
        with self._db.session() as session:
            return list(session.execute(
                select(ReportPhoto).where(ReportPhoto.report_id == report_id).order_by(ReportPhoto.id)
            ).scalars())

    # -- the resident's look-ups -----------------------------------------------------

    def get(self, report_id: int) -> Report | None:
        """Any report by id: for workers and staff, never for a resident."""
        with self._db.session() as session:
            return session.get(Report, report_id)

    def get_by_reference(self, reference: str, conversation_id: int) -> Report | None:
        """The report with this reference, only if this conversation filed it."""
        normalized = normalize_reference(reference)
        if normalized is None:
            return None
        with self._db.session() as session:
            return session.execute(
                select(Report).where(Report.reference == normalized, Report.conversation_id == conversation_id)
            ).scalar_one_or_none()

    def recent_for(self, conversation_id: int, limit: int = 5) -> list[Report]:
        """This resident's reports, newest first."""
        with self._db.session() as session:
            return list(session.execute(
                select(Report).where(Report.conversation_id == conversation_id)
                .order_by(Report.created_at.desc(), Report.id.desc()).limit(limit)
            ).scalars())

    # -- status ----------------------------------------------------------------------

    def set_status(self, report_id: int, status: str, notes: str | None = None) -> bool:
        """Record the department's status. Closing stamps `closed_at` (the first time only);
        any other status clears it. False for an unknown report."""
        if status not in ReportStatus.ALL:
            raise ValueError(f"unknown report status {status!r}")
        now = self._clock.now()
        values: dict[str, object] = {"status": status, "status_notes": notes, "updated_at": now}
        if status != ReportStatus.CLOSED:
            values["closed_at"] = None
        with self._db.session() as session:
            changed = session.execute(
                update(Report).where(Report.id == report_id).values(**values)
                .execution_options(synchronize_session=False)
            ).rowcount == 1
            if changed and status == ReportStatus.CLOSED:
                session.execute(
                    update(Report).where(Report.id == report_id, Report.closed_at.is_(None))
                    .values(closed_at=now).execution_options(synchronize_session=False)
                )
        return changed

    def set_upstream_id(self, report_id: int, upstream_id: str) -> bool:
        """The id an Open311 token resolved to; kept once."""
        with self._db.session() as session:
            return session.execute(
                update(Report).where(Report.id == report_id, Report.upstream_id.is_(None))
                .values(upstream_id=upstream_id, updated_at=self._clock.now())
                .execution_options(synchronize_session=False)
            ).rowcount == 1

    def mark_closed_notified(self, report_id: int) -> bool:
        """True for exactly one caller: the one that should tell the resident it closed."""
        with self._db.session() as session:
            return session.execute(
                update(Report).where(Report.id == report_id, Report.status == ReportStatus.CLOSED,
                                     Report.closed_notified_at.is_(None))
                .values(closed_notified_at=self._clock.now()).execution_options(synchronize_session=False)
            ).rowcount == 1

    def closed_unnotified(self, limit: int = 100) -> list[Report]:
        """Closed reports whose resident consented to follow-up and has not been told yet."""
        with self._db.session() as session:
            return list(session.execute(
                select(Report).where(Report.status == ReportStatus.CLOSED, Report.closed_notified_at.is_(None),
                                     Report.follow_up_consent.is_(True))
                .order_by(Report.closed_at, Report.id).limit(limit)
            ).scalars())

    def tracking(self, limit: int = 200) -> list[Report]:
        """Reports the department knows about and has not closed: to poll their status."""
        with self._db.session() as session:
            return list(session.execute(
                select(Report).where(Report.status.in_((ReportStatus.FORWARDED, ReportStatus.OPEN)),
                                     or_(Report.upstream_id.is_not(None), Report.upstream_token.is_not(None)))
                .order_by(Report.updated_at, Report.id).limit(limit)
            ).scalars())

    # -- staff -----------------------------------------------------------------------

    def search(self, wanted: ReportFilter | None = None, limit: int = 100, offset: int = 0) -> list[Report]:
        """Reports for the staff list, newest first."""
        wanted = wanted or ReportFilter()
        query = select(Report)
        if wanted.report_type:
            query = query.where(Report.report_type == wanted.report_type)
        if wanted.status:
            query = query.where(Report.status == wanted.status)
        if wanted.created_from is not None:
            query = query.where(Report.created_at >= wanted.created_from)
        if wanted.created_until is not None:
            query = query.where(Report.created_at < wanted.created_until)
        if wanted.needs_review is True:
            query = query.where(Report.review_reason.is_not(None))
        elif wanted.needs_review is False:
            query = query.where(Report.review_reason.is_(None))
        query = query.order_by(Report.created_at.desc(), Report.id.desc()).limit(limit).offset(offset)
        with self._db.session() as session:
            return list(session.execute(query).scalars())

    def clear_review(self, report_id: int, forward: bool = True) -> bool:
        """Staff looked at a held report: release it (and queue it when `forward`)."""
        now = self._clock.now()
        with self._db.session() as session:
            released = session.execute(
                update(Report).where(Report.id == report_id, Report.review_reason.is_not(None))
                .values(review_reason=None, updated_at=now).execution_options(synchronize_session=False)
            ).rowcount == 1
            if released and forward:
                self._enqueue(session, report_id, now)
        return released

    # -- outbox ----------------------------------------------------------------------

    def enqueue(self, report_id: int) -> bool:
        """Queue a report for forwarding; False when it already is (or was)."""
        with self._db.session() as session:
            return self._enqueue(session, report_id, self._clock.now())

    @staticmethod
    def _enqueue(session: Session, report_id: int, now: datetime) -> bool:
        exists = session.execute(
            select(ReportOutbox.id).where(ReportOutbox.report_id == report_id)
        ).scalar_one_or_none()
        if exists is not None:
            return False
        session.add(ReportOutbox(report_id=report_id, attempts=0, next_attempt_at=now,
                                 state=OutboxState.PENDING, updated_at=now))
        session.flush()
        return True

    def claim_due(self, now: datetime | None = None, limit: int = 10) -> list[OutboxItem]:
        """Take up to `limit` due rows (pending, next attempt reached), oldest due first.
        Each goes pending -> sending by a conditional UPDATE: a row another worker took
        meanwhile is skipped, so every row is claimed once."""
        now = now or self._clock.now()
        with self._db.session() as session:
            candidates = session.execute(
                select(ReportOutbox.report_id)
                .where(ReportOutbox.state == OutboxState.PENDING, ReportOutbox.next_attempt_at <= now)
                .order_by(ReportOutbox.next_attempt_at, ReportOutbox.id).limit(limit)
            ).scalars().all()
        claimed: list[int] = []
        for report_id in candidates:
            # one short transaction per row: a worker holds no lock while it sends
            with self._db.session() as session:
                if session.execute(
                    update(ReportOutbox)
                    .where(ReportOutbox.report_id == report_id, ReportOutbox.state == OutboxState.PENDING,
                           ReportOutbox.next_attempt_at <= now)
                    .values(state=OutboxState.SENDING, attempts=ReportOutbox.attempts + 1, updated_at=now)
                    .execution_options(synchronize_session=False)
                ).rowcount == 1:
                    claimed.append(report_id)
        if not claimed:
            return []
        with self._db.session() as session:
            rows = session.execute(
                select(Report, ReportOutbox.attempts).join(ReportOutbox, ReportOutbox.report_id == Report.id)
                .where(Report.id.in_(claimed))
            ).all()
        by_id = {report.id: OutboxItem(report, attempts) for report, attempts in rows}
        return [by_id[report_id] for report_id in claimed if report_id in by_id]

    def mark_done(self, report_id: int, upstream_id: str | None = None, upstream_token: str | None = None) -> bool:
        """The department system took it: the report becomes `forwarded`."""
        now = self._clock.now()
        with self._db.session() as session:
            if not self._finish(session, report_id, OutboxState.DONE, None, now):
                return False
            session.execute(
                update(Report).where(Report.id == report_id)
                .values(status=ReportStatus.FORWARDED, upstream_id=upstream_id, upstream_token=upstream_token,
                        updated_at=now)
                .execution_options(synchronize_session=False)
            )
        return True

    def mark_retry(self, report_id: int, error: str, next_attempt_at: datetime) -> bool:
        """Sending failed for now (timeout, 5xx): back to pending until `next_attempt_at`."""
        now = self._clock.now()
        with self._db.session() as session:
            return session.execute(
                update(ReportOutbox)
                .where(ReportOutbox.report_id == report_id, ReportOutbox.state == OutboxState.SENDING)
                .values(state=OutboxState.PENDING, last_error=error[:ERROR_LENGTH], next_attempt_at=next_attempt_at,
                        updated_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount == 1

    def mark_rejected(self, report_id: int, error: str) -> bool:
        """The department system refused it (or retries ran out): staff must look."""
        now = self._clock.now()
        with self._db.session() as session:
            if not self._finish(session, report_id, OutboxState.REJECTED, error[:ERROR_LENGTH], now):
                return False
            session.execute(
                update(Report).where(Report.id == report_id)
                .values(status=ReportStatus.REJECTED, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        return True

    @staticmethod
    def _finish(session: Session, report_id: int, state: str, error: str | None, now: datetime) -> bool:
        values: dict[str, object] = {"state": state, "updated_at": now}
        if error is not None:
            values["last_error"] = error
        return session.execute(
            update(ReportOutbox)
            .where(ReportOutbox.report_id == report_id, ReportOutbox.state == OutboxState.SENDING)
            .values(**values).execution_options(synchronize_session=False)
        ).rowcount == 1

    def outbox(self, report_id: int) -> ReportOutbox | None:
        with self._db.session() as session:
            return session.execute(
                select(ReportOutbox).where(ReportOutbox.report_id == report_id)
            ).scalar_one_or_none()

    def stuck(self, older_than: datetime) -> list[tuple[Report, ReportOutbox]]:
        """For staff: rows claimed before `older_than` and never finished (a worker died),
        and pending rows due before `older_than` that nobody picked up; oldest first."""
        with self._db.session() as session:
            rows = session.execute(
                select(Report, ReportOutbox).join(ReportOutbox, ReportOutbox.report_id == Report.id)
                .where(or_(
                    and_(ReportOutbox.state == OutboxState.SENDING, ReportOutbox.updated_at < older_than),
                    and_(ReportOutbox.state == OutboxState.PENDING, ReportOutbox.next_attempt_at < older_than),
                ))
                .order_by(ReportOutbox.updated_at, ReportOutbox.id)
            ).all()
            return [(report, row) for report, row in rows]

    def release_stuck(self, older_than: datetime) -> int:
        """Give rows claimed before `older_than` back to the queue (the worker that claimed
        them is gone). The resend may duplicate a report the department already took."""
        now = self._clock.now()
        with self._db.session() as session:
            return session.execute(
                update(ReportOutbox)
                .where(ReportOutbox.state == OutboxState.SENDING, ReportOutbox.updated_at < older_than)
                .values(state=OutboxState.PENDING, next_attempt_at=now, updated_at=now,
                        last_error="released after the sending worker stopped")
                .execution_options(synchronize_session=False)
            ).rowcount

    # -- forwarding ------------------------------------------------------------------

    def tracked_after(self, after_id: int = 0, limit: int = 200) -> list[Report]:
        """`tracking()` a page at a time, by id: a poll walks every tracked report, where
        `tracking()`'s oldest-updated page would return the same unchanged reports forever."""
        with self._db.session() as session:
            return list(session.execute(
                select(Report).where(Report.id > after_id,
                                     Report.status.in_((ReportStatus.FORWARDED, ReportStatus.OPEN)),
                                     or_(Report.upstream_id.is_not(None), Report.upstream_token.is_not(None)))
                .order_by(Report.id).limit(limit)
            ).scalars())

    def failing(self, min_attempts: int = 5, limit: int = 100) -> list[tuple[Report, ReportOutbox]]:
        """For staff: reports the department system has not taken after `min_attempts` tries.
        A row waiting for its next retry is not in `stuck()` (its next attempt is in the future),
        yet it may have been failing for days; oldest first."""
        with self._db.session() as session:
            rows = session.execute(
                select(Report, ReportOutbox).join(ReportOutbox, ReportOutbox.report_id == Report.id)
                .where(ReportOutbox.state.in_((OutboxState.PENDING, OutboxState.SENDING)),
                       ReportOutbox.attempts >= min_attempts)
                .order_by(Report.created_at, Report.id).limit(limit)
            ).all()
            return [(report, row) for report, row in rows]

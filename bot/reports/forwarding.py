"""Getting reports to the department's system and closing the loop with the resident.

Three jobs, each a `run_once()` for the sweeper to call on its schedule, safe to run on any
number of replicas at once:

- `ReportForwarder` sends queued reports (the outbox in bot/reports/store.py). A failure that
  may be temporary is retried with exponential backoff until the system takes the report; a
  refusal is final and the resident is told. GeoReport v2 has no idempotency key, so after a
  failure that may hide a created request (a read timeout, a dropped connection) the next
  attempt first looks for the report upstream and sends it again only if it is not there:
  each report is created upstream once.
- `ReportStatusPoll` turns tokens into request ids and copies the department's status (open,
  closed, notes) onto our reports.
- `ClosedReportNotices` texts a resident who consented once their report is closed, whether
  staff closed it here or the department's system did.

Logs name reports by reference only: never a phone number, a name or a description.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from bot.clock import Clock
from bot.reports.open311 import (
    Open311BadAnswer,
    Open311ConfigError,
    Open311Rejected,
    Open311Unavailable,
    SubmitResult,
)
from bot.reports.store import OutboxItem, ReportStore
from bot.reports.systems import DepartmentSystem, ReportNotSendable
from bot.storage.models import Report, ReportStatus

log = logging.getLogger(__name__)

# How an outbox row's last_error starts says whether the failed attempt may have created the
# report upstream. Only NOT_SENT rows are sent again without looking first: anything else
# (AMBIGUOUS, or a row release_stuck() gave back after its worker died mid-send) is checked.
AMBIGUOUS = "ambiguous: "
NOT_SENT = "not sent: "

# HTTP codes that say our set-up is wrong (API key, jurisdiction, endpoint), not the report:
# retried until staff fix the configuration, instead of refusing every report meanwhile.
SETUP_CODES = frozenset({401, 403, 404})


@dataclass(frozen=True)
class Backoff:
    """Wait `first` after the first failure, `factor` times longer after each next one, never
    more than `cap`: a short outage is bridged quickly, a long one costs a call an hour."""

    first: timedelta = timedelta(minutes=1)
    factor: float = 2.0
    cap: timedelta = timedelta(hours=1)

    def delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt (1 for the first)."""
        exponent = min(max(attempts, 1) - 1, 64)  # 2**64 minutes is past any cap
        seconds = self.first.total_seconds() * self.factor ** exponent
        return min(self.cap, timedelta(seconds=min(seconds, self.cap.total_seconds())))


@dataclass
class ForwardSummary:
    sent: int = 0  # created upstream by this run
    retried: int = 0  # failed for now, back in the queue
    rejected: int = 0  # refused for good
    reconciled: int = 0  # an earlier, ambiguous attempt had created it: found, not sent again

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.rejected + self.reconciled


class ReportForwarder:
    """Sends what the outbox holds. `on_rejected(report)` is called once per refused report,
    after it is marked rejected, so the caller can tell the resident."""

    def __init__(self, store: ReportStore, system: DepartmentSystem, clock: Clock, *,
                 backoff: Backoff | None = None, on_rejected: Callable[[Report], None] | None = None) -> None:
        self._store = store
        self._system = system
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._on_rejected = on_rejected

    def run_once(self, limit: int = 10) -> ForwardSummary:
        """Claim up to `limit` due reports and try each once. The local system forwards nothing
        (its rows, if any, stay queued and visible to staff)."""
        summary = ForwardSummary()
        if not self._system.forwards:
            return summary
        for item in self._store.claim_due(self._clock.now(), limit=limit):
            try:
                self._forward(item, summary)
            except Exception:  # a bug or the database: keep the row retrying, finish the batch
                log.exception("forwarding report %s failed unexpectedly", item.report.reference)
                try:
                    self._retry(item, summary, AMBIGUOUS + "unexpected error")
                except Exception:  # the database too: release_stuck() gives the row back later
                    log.exception("report %s stays claimed", item.report.reference)
        return summary

    def _forward(self, item: OutboxItem, summary: ForwardSummary) -> None:
        report = item.report
        unresolved = False  # an earlier attempt may have created it and we could not look
        if item.attempts > 1 and self._may_exist_upstream(report.id):
            try:
                found = self._system.find_existing(report)
            except Open311Unavailable as exc:  # the earlier attempt is still unexplained
                return self._retry(item, summary, f"{AMBIGUOUS}search: {exc}")
            except Open311ConfigError as exc:
                return self._reject(report, summary, str(exc))
            except (Open311Rejected, Open311BadAnswer) as exc:
                # this server cannot be searched: a lost report is worse than a duplicate one
                # (which staff upstream can match by the reference in its description)
                log.warning("report %s: cannot search the department system (%s); sending it again",
                            report.reference, type(exc).__name__)
                found, unresolved = None, True
            if found is not None:
                self._done(report, found)
                summary.reconciled += 1
                log.info("report %s was already with the department system; not sent again", report.reference)
                return None
        photos = self._store.photos(report.id)
        try:
            result = self._system.submit(report, photos)
        except Open311Unavailable as exc:
            return self._retry(item, summary, (AMBIGUOUS if exc.ambiguous or unresolved else NOT_SENT) + str(exc))
        except Open311BadAnswer as exc:  # it answered, perhaps after creating the request
            return self._retry(item, summary, f"{AMBIGUOUS}{exc}")
        except Open311Rejected as exc:
            if exc.code in SETUP_CODES:
                log.error("the department system refuses our configuration (HTTP %s); report %s waits",
                          exc.code, report.reference)
                return self._retry(item, summary, (AMBIGUOUS if unresolved else NOT_SENT) + str(exc))
            return self._reject(report, summary, str(exc))
        except (Open311ConfigError, ReportNotSendable) as exc:
            return self._reject(report, summary, str(exc))
        self._done(report, result)
        summary.sent += 1
        log.info("report %s forwarded", report.reference)
        return None

    def _may_exist_upstream(self, report_id: int) -> bool:
        row = self._store.outbox(report_id)
        return not (row is not None and (row.last_error or "").startswith(NOT_SENT))

    def _done(self, report: Report, result: SubmitResult) -> None:
        if not self._store.mark_done(report.id, upstream_id=result.request_id, upstream_token=result.token):
            log.warning("report %s was taken upstream but its outbox row was no longer claimed", report.reference)

    def _retry(self, item: OutboxItem, summary: ForwardSummary, error: str) -> None:
        delay = self._backoff.delay(item.attempts)
        self._store.mark_retry(item.report.id, error, self._clock.now() + delay)
        summary.retried += 1
        log.warning("report %s not forwarded yet (attempt %d, %s); next try in %s", item.report.reference,
                    item.attempts, error.split(":", 1)[0], delay)

    def _reject(self, report: Report, summary: ForwardSummary, error: str) -> None:
        if not self._store.mark_rejected(report.id, error):
            return
        summary.rejected += 1
        log.warning("report %s refused by the department system", report.reference)
        if self._on_rejected is None:
            return
        try:
            self._on_rejected(report)
        except Exception:  # the report is rejected and staff see it; only the resident's text failed
            log.exception("telling the resident that report %s was refused failed", report.reference)


class ReportStatusPoll:
    """Copies the department's status onto reports it has and has not closed. Writes only what
    changed, so `updated_at` means the department did something."""

    def __init__(self, store: ReportStore, system: DepartmentSystem, clock: Clock, *, batch: int = 200) -> None:
        self._store = store
        self._system = system
        self._clock = clock
        self._batch = batch

    def run_once(self) -> int:
        """Poll every tracked report, a page at a time; returns how many changed status or notes.
        When the system is unavailable the round stops quietly: the next one tries again."""
        if not self._system.forwards:
            return 0
        changed = 0
        after = 0
        while True:
            reports = self._store.tracked_after(after, self._batch)
            if not reports:
                return changed
            after = reports[-1].id
            try:
                changed += self._poll(reports)
            except (Open311Unavailable, Open311BadAnswer) as exc:
                log.warning("report status poll skipped this round: %s", type(exc).__name__)
                return changed
            if len(reports) < self._batch:
                return changed

    def _poll(self, reports: list[Report]) -> int:
        by_id: dict[str, Report] = {}
        for report in reports:
            upstream_id = report.upstream_id
            if upstream_id is None and report.upstream_token:
                upstream_id = self._resolve(report)
            if upstream_id:
                by_id[upstream_id] = report
        if not by_id:
            return 0
        changed = 0
        for upstream_id, status in self._system.statuses(list(by_id)).items():
            report = by_id.get(upstream_id)
            if report is None:
                continue
            # the spec knows "open" and "closed"; a server's own states mean it is being worked
            wanted = ReportStatus.CLOSED if status.closed else ReportStatus.OPEN
            if report.status == wanted and report.status_notes == status.status_notes:
                continue
            if self._store.set_status(report.id, wanted, status.status_notes):
                changed += 1
                log.info("report %s is now %s upstream", report.reference, wanted)
        return changed

    def _resolve(self, report: Report) -> str | None:
        assert report.upstream_token is not None
        try:
            upstream_id = self._system.resolve_token(report.upstream_token)
        except Open311Rejected as exc:  # this token only: the others may still resolve
            log.warning("report %s: the department system does not know its token (%s)", report.reference, exc.code)
            return None
        if upstream_id:
            self._store.set_upstream_id(report.id, upstream_id)
        return upstream_id


class ClosedReportNotices:
    """Texts each consenting resident once when their report closes.

    The notice is claimed (`mark_closed_notified`) before it is sent, so two sweepers never both
    send it; a send that fails is not retried (at most once beats twice). During quiet hours
    nothing happens: the notices wait. A resident we can no longer text (opted out, the web chat
    session gone) is marked as handled without a text: `closed_notified_at` means "dealt with",
    and a stale "your report was closed" days after they opt back in would only confuse.
    """

    def __init__(self, store: ReportStore, send: Callable[[Report], None], can_text: Callable[[Report], bool],
                 quiet: Callable[[], bool]) -> None:
        self._store = store
        self._send = send
        self._can_text = can_text
        self._quiet = quiet

    def run_once(self) -> int:
        """Send what is due (one page of closed reports); returns how many texts went out."""
        if self._quiet():
            return 0
        sent = 0
        for report in self._store.closed_unnotified():
            reachable = self._can_text(report)
            if not self._store.mark_closed_notified(report.id):
                continue  # another sweeper has it
            if not reachable:
                log.info("report %s closed; its resident cannot be texted, no notice", report.reference)
                continue
            try:
                self._send(report)
            except Exception:
                log.exception("closing notice for report %s failed; not retried", report.reference)
                continue
            sent += 1
        return sent

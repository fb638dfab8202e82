"""Staff pages for non-emergency reports: list, detail with photos, status changes, review
release and CSV export.

Behind the staff console's sign-in (webhook/staff_session.py: every form post carries the
session's CSRF token; a cross-site post is refused). Status changes and releases are written to
the audit log. Residents' contacts are masked, and never shown at all for an anonymous report;
times are shown on the department's wall clock.
"""
from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Iterable, Mapping

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import select

from bot.reports.photos import InvalidPhotoKey, PhotoNotFound
from bot.reports.store import ReportFilter, ReportStore
from bot.services import Services
from bot.storage.models import Report, ReportOutbox, ReportStatus
from bot.staff.audit import Action
from bot.staff.export import cell
from webhook.staff import contact
from webhook.staff_console import local_time
from webhook.staff_filters import day_range, page_arg, yes_no
from webhook.staff_session import current_staff, private_headers, staff_required

log = logging.getLogger(__name__)

bp = Blueprint("staff_reports", __name__, url_prefix="/staff")

PAGE_SIZE = 50
STUCK_AFTER = timedelta(minutes=15)
STUCK_SHOWN = 50
NOTES_MAX = 500
CSV_MAX_ROWS = 10_000
CSV_BATCH = 500
# Report types are short snake_case names chosen by the assistant, never free text.
TYPE_PATTERN = re.compile(r"^[a-z0-9_]{1,40}$")
# Only what LocalPhotoStore writes; anything else is served as neither.
PHOTO_TYPES = ("image/jpeg", "image/png")


# -- plumbing ------------------------------------------------------------------------------

def _services() -> Services:
    return current_app.config["SERVICES"]


def _store() -> ReportStore:
    return _services().report_store


bp.after_request(private_headers)


# -- filters -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ListQuery:
    """The staff list's query string, checked: `args` is what links carry forward."""

    wanted: ReportFilter
    page: int
    args: dict[str, str]


def parse_query(args: Mapping[str, str]) -> ListQuery:
    """Every filter is optional; a malformed one is a 400, never a 500 or a silent "all"."""
    kept: dict[str, str] = {}
    report_type = (args.get("type") or "").strip()
    if report_type:
        if not TYPE_PATTERN.match(report_type):
            abort(400, description="unknown report type")
        kept["type"] = report_type
    status = (args.get("status") or "").strip()
    if status:
        if status not in ReportStatus.ALL:
            abort(400, description="unknown status")
        kept["status"] = status
    created_from, created_until = day_range(args, _services().profile.timezone, kept)
    needs_review = yes_no(args, "review", kept)
    page = page_arg(args)
    wanted = ReportFilter(report_type=report_type or None, status=status or None, created_from=created_from,
                          created_until=created_until, needs_review=needs_review)
    return ListQuery(wanted, page, kept)


def _outbox_states(report_ids: Iterable[int]) -> dict[int, ReportOutbox]:
    """The outbox rows of a page of reports in one query (not one per row)."""
    ids = list(report_ids)
    if not ids:
        return {}
    with _services().db.session() as session:
        rows = session.execute(select(ReportOutbox).where(ReportOutbox.report_id.in_(ids))).scalars()
        return {row.report_id: row for row in rows}


def _known_types() -> list[str]:
    """For the filter's drop-down: the types reports were actually filed under."""
    with _services().db.session() as session:
        return sorted(session.execute(select(Report.report_type).distinct()).scalars())


def _staff_user() -> str:
    staff = current_staff()
    return staff.username if staff else ""


# -- pages ---------------------------------------------------------------------------------

@bp.get("/reports")
@staff_required
def reports():  # type: ignore[no-untyped-def]
    query = parse_query(request.args)
    store = _store()
    found = store.search(query.wanted, limit=PAGE_SIZE + 1, offset=(query.page - 1) * PAGE_SIZE)
    has_more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    outboxes = _outbox_states(r.id for r in found)
    rows = [{"report": r, "created": local_time(r.created_at), "outbox": outboxes.get(r.id)} for r in found]
    stuck = store.stuck(older_than=_services().clock.now() - STUCK_AFTER)
    seen = {report.id for report, _ in stuck}
    # Rows waiting for a later retry are not "stuck" yet may have failed for days.
    stuck += [(report, row) for report, row in store.failing() if report.id not in seen]
    stuck_rows = [{"report": r, "outbox": o, "since": local_time(o.updated_at)} for r, o in stuck[:STUCK_SHOWN]]
    return render_template(
        "staff/reports.html", rows=rows, query=query, page=query.page, has_more=has_more,
        types=_known_types(), statuses=ReportStatus.ALL, stuck=stuck_rows, stuck_total=len(stuck),
        stuck_minutes=int(STUCK_AFTER.total_seconds() // 60),
    )


def _report_or_404(report_id: int) -> Report:
    report = _store().get(report_id)
    if report is None:
        abort(404)
    return report


def _contact_for(report: Report) -> str:
    """Never a contact for an anonymous report; masked otherwise."""
    if report.anonymous:
        return "anonymous"
    try:
        return contact(_services().conversations.get(report.conversation_id))
    except LookupError:
        return "unknown"


@bp.get("/reports/<int:report_id>")
@staff_required
def report(report_id: int):  # type: ignore[no-untyped-def]
    found = _report_or_404(report_id)
    store = _store()
    return render_template(
        "staff/report.html", report=found, created=local_time(found.created_at),
        updated=local_time(found.updated_at), occurred=local_time(found.occurred_at),
        closed=local_time(found.closed_at), outbox=store.outbox(report_id), photos=store.photos(report_id),
        contact=_contact_for(found), statuses=ReportStatus.ALL, notes_max=NOTES_MAX,
    )


@bp.get("/reports/<int:report_id>/photos/<key>")
@staff_required
def photo(report_id: int, key: str):  # type: ignore[no-untyped-def]
    """Only a key recorded for this report: a key from another report (or a made-up one)
    is a 404, and the store itself refuses anything that is not a key it wrote."""
    match = next((p for p in _store().photos(report_id) if p.key == key), None)
    if match is None:
        abort(404)
    try:
        data = _services().photo_store.open(key)
    except (InvalidPhotoKey, PhotoNotFound):
        abort(404)
    content_type = match.content_type if match.content_type in PHOTO_TYPES else (
        "image/png" if key.endswith(".png") else "image/jpeg")
    return Response(data, mimetype=content_type, headers={
        "Content-Disposition": "inline",
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    })


@bp.post("/reports/<int:report_id>/status")
@staff_required
def set_status(report_id: int):  # type: ignore[no-untyped-def]
    user = _staff_user()
    found = _report_or_404(report_id)
    status = request.form.get("status", "")
    if status not in ReportStatus.ALL:
        abort(400, description="unknown status")
    notes = (request.form.get("notes") or "").strip()
    if len(notes) > NOTES_MAX:
        abort(400, description=f"notes are limited to {NOTES_MAX} characters")
    if not _store().set_status(report_id, status, notes or None):
        abort(404)
    _services().audit.record(user, Action.REPORT_STATUS, found.conversation_id, f"{found.reference} status={status}")
    return redirect(url_for("staff_reports.report", report_id=report_id), 303)


@bp.post("/reports/<int:report_id>/release")
@staff_required
def release(report_id: int):  # type: ignore[no-untyped-def]
    """Staff read a held report and found it fit to forward; a second click changes nothing."""
    user = _staff_user()
    found = _report_or_404(report_id)
    if _store().clear_review(report_id, forward=True):
        _services().audit.record(user, Action.REPORT_RELEASE, found.conversation_id, found.reference)
        # the review was the queue item: it is done (a conversation staff took over stays open)
        handoff = _services().handoff_store.open_for(found.conversation_id)
        if handoff is not None and handoff.report_id == report_id and not handoff.holds:
            _services().handoffs.resolve(handoff.id, user)
    return redirect(url_for("staff_reports.report", report_id=report_id), 303)


CSV_COLUMNS = ["reference", "created_local", "type", "status", "place", "occurred_local", "occurred_text",
               "description", "anonymous", "follow_up_consent", "review_reason", "upstream_id"]


def _csv_rows(wanted: ReportFilter) -> Iterable[list[str]]:
    store = _store()
    for offset in range(0, CSV_MAX_ROWS, CSV_BATCH):
        batch = store.search(wanted, limit=min(CSV_BATCH, CSV_MAX_ROWS - offset), offset=offset)
        for r in batch:
            yield [cell(v) for v in (
                r.reference, local_time(r.created_at), r.report_type, r.status, r.place_text,
                local_time(r.occurred_at), r.occurred_text, r.description, "yes" if r.anonymous else "no",
                "yes" if r.follow_up_consent else "no", r.review_reason, r.upstream_id)]
        if len(batch) < CSV_BATCH:
            return


@bp.get("/reports.csv")
@staff_required
def reports_csv():  # type: ignore[no-untyped-def]
    """The list's filters, every page (up to CSV_MAX_ROWS); no contact details at all."""
    query = parse_query(request.args)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_rows(query.wanted))
    stamp = _services().clock.now().strftime("%Y%m%d-%H%M")
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="reports-{stamp}.csv"'})

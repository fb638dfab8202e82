"""Staff pages for non-emergency reports: list, detail with photos, status changes, review
release and CSV export.

A second blueprint under /staff (rather than routes added to `webhook.staff.bp`) so the routes
exist whatever order modules are imported in. Sign-in is the same HTTP Basic check as the
meeting pages. Because browsers resend Basic credentials on every request, including one a
hostile page triggers, each form post carries a CSRF token (an HMAC of the staff username) and
a cross-site `Origin` is refused. Residents' contacts are masked, and never shown at all for
an anonymous report; times are shown on the department's wall clock.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import select

from bot.reports.photos import InvalidPhotoKey, PhotoNotFound
from bot.reports.store import ReportFilter, ReportStore
from bot.services import Services
from bot.settings import Settings
from bot.storage.models import Report, ReportOutbox, ReportStatus
from webhook.staff import _cell, contact, staff_required

log = logging.getLogger(__name__)

bp = Blueprint("staff_reports", __name__, url_prefix="/staff")

PAGE_SIZE = 50
MAX_PAGE = 10_000
STUCK_AFTER = timedelta(minutes=15)
STUCK_SHOWN = 50
NOTES_MAX = 500
CSV_MAX_ROWS = 10_000
CSV_BATCH = 500
# Report types are short snake_case names chosen by the assistant, never free text.
TYPE_PATTERN = re.compile(r"^[a-z0-9_]{1,40}$")
YES = ("1", "yes", "true", "on")
NO = ("0", "no", "false", "off")
# Only what LocalPhotoStore writes; anything else is served as neither.
PHOTO_TYPES = ("image/jpeg", "image/png")
CSRF_LABEL = b"staff-reports-csrf-v1"


# -- plumbing ------------------------------------------------------------------------------

def _services() -> Services:
    return current_app.config["SERVICES"]


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def _store() -> ReportStore:
    return _services().report_store


def _zone() -> ZoneInfo:
    return ZoneInfo(_services().profile.timezone)


@bp.after_request
def _private(response: Response) -> Response:
    """Same rules as the meeting pages: nothing cached, framed or sniffed; no referrer leaks
    a report id to another site."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'; form-action 'self'"
    return response


def local_time(value: datetime | None) -> str:
    """A stored naive-UTC time on the department's wall clock ("2026-11-24 09:00 PST")."""
    if value is None:
        return ""
    return value.replace(tzinfo=timezone.utc).astimezone(_zone()).strftime("%Y-%m-%d %H:%M %Z")


def _utc_midnight(day: date) -> datetime:
    """The start of a local calendar day, as the naive UTC the database stores."""
    return datetime.combine(day, time(0), tzinfo=_zone()).astimezone(timezone.utc).replace(tzinfo=None)


# -- filters -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ListQuery:
    """The staff list's query string, checked: `args` is what links carry forward."""

    wanted: ReportFilter
    page: int
    args: dict[str, str]


def _date_arg(text: str, name: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        abort(400, description=f"{name} must be a date like 2026-11-24")
    if not 1970 <= day.year <= 9998:  # keeps the UTC conversion (and the day after) in range
        abort(400, description=f"{name} is out of range")
    return day


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
    created_from = created_until = None
    start = (args.get("from") or "").strip()
    if start:
        created_from = _utc_midnight(_date_arg(start, "from"))
        kept["from"] = start
    end = (args.get("to") or "").strip()
    if end:  # inclusive: up to the end of that local day
        created_until = _utc_midnight(_date_arg(end, "to") + timedelta(days=1))
        kept["to"] = end
    needs_review = None
    review = (args.get("review") or "").strip().lower()
    if review in YES:
        needs_review, kept["review"] = True, "yes"
    elif review in NO:
        needs_review, kept["review"] = False, "no"
    elif review:
        abort(400, description="review must be yes or no")
    page_text = (args.get("page") or "1").strip()
    if not page_text.isdigit() or not 1 <= int(page_text) <= MAX_PAGE:
        abort(400, description="page must be a number")
    wanted = ReportFilter(report_type=report_type or None, status=status or None, created_from=created_from,
                          created_until=created_until, needs_review=needs_review)
    return ListQuery(wanted, int(page_text), kept)


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


# -- CSRF ----------------------------------------------------------------------------------

def csrf_token(username: str) -> str:
    """A per-user token an attacker's page cannot know: HMAC of the username under a key
    derived from SENDER_ID_KEY with its own label (so it is no other HMAC in the system)."""
    key = hmac.new(_settings().sender_id_key.encode(), CSRF_LABEL, hashlib.sha256).digest()
    return hmac.new(key, username.encode(), hashlib.sha256).hexdigest()


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _own_origins() -> set[str]:
    settings = _settings()
    own = {_origin_of(request.host_url)}
    if settings.public_base_url:
        own.add(_origin_of(settings.public_base_url))
    if settings.trust_forwarded_headers:
        proto = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
        host = request.headers.get("X-Forwarded-Host", request.host).split(",")[0].strip()
        own.add(f"{proto}://{host}".lower())
    return own


def _check_form_post() -> str:
    """Refuse a post another site made the browser send; returns the staff username."""
    origin = request.headers.get("Origin")
    if origin is not None and origin.lower() not in _own_origins():
        abort(403, description="cross-site form post refused")
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        abort(403, description="cross-site form post refused")
    username = request.authorization.username if request.authorization else ""
    sent = (request.form.get("csrf_token") or "").encode()
    if not username or not hmac.compare_digest(sent, csrf_token(username).encode()):
        abort(403, description="the form expired or did not come from this site; reload the page")
    return username


def _staff_user() -> str:
    return request.authorization.username if request.authorization else ""


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
        csrf_token=csrf_token(_staff_user()),
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
    user = _check_form_post()
    found = _report_or_404(report_id)
    status = request.form.get("status", "")
    if status not in ReportStatus.ALL:
        abort(400, description="unknown status")
    notes = (request.form.get("notes") or "").strip()
    if len(notes) > NOTES_MAX:
        abort(400, description=f"notes are limited to {NOTES_MAX} characters")
    if not _store().set_status(report_id, status, notes or None):
        abort(404)
    log.info("staff %s set report %s to %s", user, found.reference, status)
    return redirect(url_for("staff_reports.report", report_id=report_id), 303)


@bp.post("/reports/<int:report_id>/release")
@staff_required
def release(report_id: int):  # type: ignore[no-untyped-def]
    """Staff read a held report and found it fit to forward; a second click changes nothing."""
    user = _check_form_post()
    found = _report_or_404(report_id)
    if _store().clear_review(report_id, forward=True):
        log.info("staff %s released report %s from review", user, found.reference)
    return redirect(url_for("staff_reports.report", report_id=report_id), 303)


CSV_COLUMNS = ["reference", "created_local", "type", "status", "place", "occurred_local", "occurred_text",
               "description", "anonymous", "follow_up_consent", "review_reason", "upstream_id"]


def _csv_rows(wanted: ReportFilter) -> Iterable[list[str]]:
    store = _store()
    for offset in range(0, CSV_MAX_ROWS, CSV_BATCH):
        batch = store.search(wanted, limit=min(CSV_BATCH, CSV_MAX_ROWS - offset), offset=offset)
        for r in batch:
            yield [_cell(v) for v in (
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

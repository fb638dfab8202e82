"""Transcript export for supervisors: JSON, CSV, or a printable page. Personal data is redacted
unless the supervisor chooses to include it; both choices are written to the audit log."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request

from bot.services import Services
from bot.staff import export, transcript
from bot.staff.audit import Action
from webhook.staff_console import entries_for, local_time
from webhook.staff_session import current_staff, private_headers, staff_required

bp = Blueprint("staff_export", __name__, url_prefix="/staff")
bp.after_request(private_headers)

FORMATS = ("json", "csv", "print")


def _services() -> Services:
    return current_app.config["SERVICES"]


@bp.post("/conversations/<int:conversation_id>/export")
@staff_required(supervisor=True)
def export_transcript(conversation_id: int):  # type: ignore[no-untyped-def]
    """A POST (with the CSRF token), not a link: an export is an action worth a record."""
    services = _services()
    try:
        conversation = services.conversations.get(conversation_id)
    except LookupError:
        abort(404)
    fmt = request.form.get("format", "json")
    if fmt not in FORMATS:
        abort(400, description="format must be json, csv or print")
    level = transcript.REVEALED if request.form.get("personal_data") == "include" else transcript.REDACTED
    staff = current_staff()
    assert staff is not None
    services.audit.record(staff.username, Action.EXPORT, conversation_id,
                          f"format={fmt} personal_data={'included' if level == transcript.REVEALED else 'redacted'}")
    entries = transcript.shown(entries_for(conversation_id), level)
    name = f"conversation-{conversation_id}-{services.clock.now():%Y%m%d-%H%M}"
    if fmt == "json":
        return Response(export.as_json(conversation, entries, level), mimetype="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
    if fmt == "csv":
        return Response(export.as_csv(entries), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return render_template("staff/print.html", conversation=conversation, entries=entries, level=level,
                           contact=transcript.contact(conversation, level), local_time=local_time,
                           exported_by=staff.username, exported_at=local_time(services.clock.now()))

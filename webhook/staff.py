"""Staff pages: upcoming meetings and who is coming (rosters, CSV export).

Behind the staff console's sign-in (webhook/staff_session.py). Contacts are masked; nothing
here is cached by browsers or proxies.
"""
from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template

from bot.identity import mask_phone
from bot.meetings.wording import local_start
from bot.services import Services
from bot.staff.export import cell
from bot.storage.models import Conversation, Signup
from webhook.staff_session import private_headers, staff_required

bp = Blueprint("staff", __name__, url_prefix="/staff")


bp.after_request(private_headers)


def _services() -> Services:
    return current_app.config["SERVICES"]


def contact(conversation: Conversation) -> str:
    return mask_phone(conversation.address) if conversation.channel == "sms" else "web chat"


def _roster(meeting_id: int) -> list[tuple[Signup, str]]:
    services = _services()
    rows = []
    for signup in services.meeting_service.signups.roster(meeting_id):
        rows.append((signup, contact(services.conversations.get(signup.conversation_id))))
    return rows


def _when(meeting: Any) -> str:
    return local_start(meeting).strftime("%a %b %d %Y, %I:%M %p")


@bp.get("/meetings")
@staff_required
def meetings():  # type: ignore[no-untyped-def]
    service = _services().meeting_service
    rows = []
    for meeting in service.meetings.upcoming(limit=200):
        roster = service.signups.roster(meeting.id)
        waiting = sum(1 for s in roster if s.status == "waitlisted")
        rows.append({"meeting": meeting, "when": _when(meeting), "waiting": waiting})
    return render_template("staff/meetings.html", rows=rows)


@bp.get("/meetings/<int:meeting_id>")
@staff_required
def roster(meeting_id: int):  # type: ignore[no-untyped-def]
    meeting = _services().meeting_service.meetings.get(meeting_id)
    if meeting is None:
        abort(404)
    return render_template("staff/roster.html", meeting=meeting, when=_when(meeting), rows=_roster(meeting_id))


@bp.get("/meetings/<int:meeting_id>/roster.csv")
@staff_required
def roster_csv(meeting_id: int):  # type: ignore[no-untyped-def]
    if _services().meeting_service.meetings.get(meeting_id) is None:
        abort(404)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "name", "party_size", "status", "contact", "reminders", "signed_up_utc"])
    for signup, masked in _roster(meeting_id):
        writer.writerow([cell(v) for v in (signup.code, signup.name, signup.party_size, signup.status, masked,
                                            "yes" if signup.reminders else "no",
                                            signup.created_at.isoformat(timespec="minutes"))])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="meeting-{meeting_id}-roster.csv"'})


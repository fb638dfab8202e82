"""Public meeting pages: the "add to calendar" file linked from sign-up confirmations.

One .ics per meeting, with no personal data in it, so the link can be shared freely.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app

from bot.meetings.ics_export import meeting_ics
from bot.services import Services

bp = Blueprint("meetings", __name__)


@bp.get("/meetings/<int:meeting_id>.ics")
def meeting_calendar(meeting_id: int):  # type: ignore[no-untyped-def]
    services: Services = current_app.config["SERVICES"]
    meeting = services.meeting_service.meetings.get(meeting_id)
    if meeting is None:
        abort(404)
    return Response(meeting_ics(meeting), mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="meeting-{meeting_id}.ics"',
        "Cache-Control": "public, max-age=300",
    })

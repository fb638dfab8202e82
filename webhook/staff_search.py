"""All conversations, searchable: date, channel, handed off, flagged, safety events, text. Contacts masked."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from bot.services import Services
from bot.staff import transcript
from bot.staff.search import MAX_TEXT, ConversationFilter
from webhook.staff_console import local_time
from webhook.staff_filters import day_range, page_arg, yes_no
from webhook.staff_session import private_headers, staff_required

bp = Blueprint("staff_search", __name__, url_prefix="/staff")
bp.after_request(private_headers)

PAGE_SIZE = 50
CHANNELS = ("sms", "web")


def _services() -> Services:
    return current_app.config["SERVICES"]


def parse() -> tuple[ConversationFilter, dict[str, str], int]:
    values = request.args
    kept: dict[str, str] = {}
    text = (values.get("q") or "").strip()
    if len(text) > MAX_TEXT:
        abort(400, description=f"search text is limited to {MAX_TEXT} characters")
    if text:
        kept["q"] = text
    channel = (values.get("channel") or "").strip()
    if channel and channel not in CHANNELS:
        abort(400, description="channel must be sms or web")
    if channel:
        kept["channel"] = channel
    start, end = day_range(values, _services().profile.timezone, kept)
    wanted = ConversationFilter(text=text or None, channel=channel or None, active_from=start, active_until=end,
                                handed_off=yes_no(values, "handed_off", kept), open_handoff=yes_no(values, "open", kept),
                                flagged=yes_no(values, "flagged", kept),
                                safety_event=yes_no(values, "safety", kept))
    return wanted, kept, page_arg(values)


@bp.get("/conversations")
@staff_required
def conversations():  # type: ignore[no-untyped-def]
    wanted, kept, page = parse()
    services = _services()
    found = services.conversation_search.find(wanted, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    has_more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    live = services.handoff_store.open_ids([f.conversation.id for f in found])
    rows = [{"found": f, "contact": transcript.contact(f.conversation, transcript.MASKED),
             "last": local_time(f.last_at), "handoff": live.get(f.conversation.id)} for f in found]
    return render_template("staff/conversations.html", rows=rows, args=kept, page=page, has_more=has_more,
                           channels=CHANNELS)

"""The staff console: the handoff queue, a conversation's transcript, and what staff do with it
(claim, assign, reply, note, reveal, resolve, take over).

Every page view of a conversation and every action is written to the audit log. Replies go
through the same outbound path as the assistant (opt-out ledger, retries, the web widget's
outbox); resolving tells the resident the assistant is back.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from bot.services import Services
from bot.sms import normalize_gsm
from bot.staff import transcript
from bot.staff.audit import Action
from bot.staff.sessions import StaffSession
from bot.storage.models import AuditEntry, Conversation, Handoff, HandoffReason, HandoffState
from webhook.staff_session import current_staff, private_headers, staff_required

log = logging.getLogger(__name__)

bp = Blueprint("staff_console", __name__, url_prefix="/staff")
bp.after_request(private_headers)

MAX_REPLY = 1000
PRIORITY_LABELS = {1: "urgent", 2: "review", 3: "normal"}
REASON_LABELS = {
    HandoffReason.EMERGENCY: "emergency flagged", HandoffReason.CRISIS: "crisis flagged",
    HandoffReason.REQUESTED: "asked for a person", HandoffReason.FALLBACK: "assistant did not understand",
    HandoffReason.REPORT_REVIEW: "report held for review", HandoffReason.STAFF: "taken over by staff",
}


def _services() -> Services:
    return current_app.config["SERVICES"]


def _me() -> StaffSession:
    staff = current_staff()
    assert staff is not None  # staff_required ran first
    return staff


def local_time(value: datetime | None) -> str:
    if value is None:
        return ""
    zone = ZoneInfo(_services().profile.timezone)
    return value.replace(tzinfo=timezone.utc).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def waited(since: datetime) -> str:
    minutes = max(0, int((_services().clock.now() - since).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours < 48 else f"{hours // 24} days"


def _conversation_or_404(conversation_id: int) -> Conversation:
    try:
        return _services().conversations.get(conversation_id)
    except LookupError:
        abort(404)


def _names() -> dict[int, str]:
    return {account.id: account.username for account in _services().staff_accounts.active()}


def _opted_out(conversation: Conversation) -> bool:
    return conversation.channel == "sms" and _services().consent.is_opted_out(conversation.address_hash)


# -- the queue -----------------------------------------------------------------------------

@bp.get("/")
@staff_required
def queue():  # type: ignore[no-untyped-def]
    services = _services()
    names = _names()
    rows = []
    for handoff in services.handoff_store.queue():
        conversation = services.conversations.get(handoff.conversation_id)
        rows.append({
            "handoff": handoff, "conversation": conversation, "priority": PRIORITY_LABELS.get(handoff.priority, ""),
            "reason": REASON_LABELS.get(handoff.reason, handoff.reason), "waited": waited(handoff.created_at),
            "since": local_time(handoff.created_at), "assigned": names.get(handoff.assigned_to or 0, ""),
            "contact": transcript.contact(conversation, transcript.MASKED),
        })
    return render_template("staff/queue.html", rows=rows, version=services.handoffs.version(),
                           staff_list=sorted(names.items(), key=lambda item: item[1]),
                           staffed=services.handoffs.staffed_now())


@bp.get("/queue/state")
@staff_required(activity=False)
def queue_state():  # type: ignore[no-untyped-def]
    """Polled by the staff pages (static/staff.js): they reload when `version` moves."""
    services = _services()
    urgent = sum(1 for h in services.handoff_store.queue() if h.priority == 1 and h.state == HandoffState.WAITING)
    return jsonify(version=services.handoffs.version(), waiting=services.handoff_store.waiting_count(),
                   urgent_waiting=urgent)


# -- one conversation ----------------------------------------------------------------------

def _replied_by(conversation_id: int) -> dict[int, str]:
    """Which staff member sent each staff reply (from the audit log: "message=123")."""
    with _services().db.session() as session:
        entries = session.execute(select(AuditEntry).where(
            AuditEntry.conversation_id == conversation_id, AuditEntry.action == Action.REPLY)).scalars()
        found = {}
        for entry in entries:
            detail = entry.detail or ""
            if detail.startswith("message="):
                found[int(detail.split("=", 1)[1].split()[0])] = entry.actor
        return found


def entries_for(conversation_id: int) -> list[transcript.Entry]:
    services = _services()
    return transcript.build(services.messages.transcript(conversation_id), services.notes.for_conversation(conversation_id),
                            services.handoff_store.for_conversation(conversation_id), _names(),
                            _replied_by(conversation_id))


def _page(conversation: Conversation, level: str, notice: str | None = None) -> str:
    services = _services()
    handoff = services.handoff_store.open_for(conversation.id)
    names = _names()
    language = conversation.language or services.profile.languages[0]
    canned = [(i, reply.title, reply.text(language).format_map(services.profile.slot_values(language)))
              for i, reply in enumerate(services.profile.canned_replies)]
    return render_template(
        "staff/conversation.html", conversation=conversation, handoff=handoff,
        entries=transcript.shown(entries_for(conversation.id), level), level=level, local_time=local_time,
        contact=transcript.contact(conversation, level), reason=REASON_LABELS.get(handoff.reason, "") if handoff else "",
        assigned=names.get(handoff.assigned_to or 0, "") if handoff else "", staff_list=sorted(names.items(), key=lambda i: i[1]),
        opted_out=_opted_out(conversation), canned=canned, max_reply=MAX_REPLY, notice=notice,
        version=services.handoffs.version(), waited=waited(handoff.created_at) if handoff else "",
    )


NOTICES = {
    "sent": "Reply sent.", "blocked": "Not delivered: this number has opted out of texts. Call the resident instead.",
    "claimed": "It is yours now.", "taken": "Someone else claimed it first.", "resolved": "Resolved: the assistant is back.",
    "noted": "Note saved.", "assigned": "Assigned.", "empty": "Write a reply or choose a canned reply.",
    "closed": "This conversation is not handed off any more.",
}


@bp.get("/conversations/<int:conversation_id>")
@staff_required
def conversation(conversation_id: int):  # type: ignore[no-untyped-def]
    found = _conversation_or_404(conversation_id)
    _services().audit.record(_me().username, Action.VIEW, conversation_id)
    return _page(found, transcript.MASKED, NOTICES.get(request.args.get("done", "")))


@bp.post("/conversations/<int:conversation_id>/reveal")
@staff_required
def reveal(conversation_id: int):  # type: ignore[no-untyped-def]
    """Numbers, e-mail addresses and names in full, for this one page view (audited)."""
    found = _conversation_or_404(conversation_id)
    _services().audit.record(_me().username, Action.REVEAL, conversation_id)
    return _page(found, transcript.REVEALED)


def _back(conversation_id: int, done: str) -> Response:
    return redirect(url_for("staff_console.conversation", conversation_id=conversation_id, done=done), 303)


def _open_handoff_or_back(conversation_id: int) -> Handoff | Response:
    handoff = _services().handoff_store.open_for(conversation_id)
    return handoff if handoff is not None else _back(conversation_id, "closed")


@bp.post("/conversations/<int:conversation_id>/claim")
@staff_required
def claim(conversation_id: int):  # type: ignore[no-untyped-def]
    handoff = _open_handoff_or_back(conversation_id)
    if isinstance(handoff, Response):
        return handoff
    me = _me()
    if not _services().handoffs.claim(handoff.id, me.account_id):
        return _back(conversation_id, "taken")
    _services().audit.record(me.username, Action.CLAIM, conversation_id, f"handoff={handoff.id}")
    return _back(conversation_id, "claimed")


@bp.post("/conversations/<int:conversation_id>/assign")
@staff_required(supervisor=True)
def assign(conversation_id: int):  # type: ignore[no-untyped-def]
    handoff = _open_handoff_or_back(conversation_id)
    if isinstance(handoff, Response):
        return handoff
    target = request.form.get("staff_id", "")
    account = _services().staff_accounts.get(int(target)) if target.isdigit() else None
    if account is None or not account.active:
        abort(400, description="unknown staff member")
    _services().handoffs.claim(handoff.id, account.id, take_over=True)
    _services().audit.record(_me().username, Action.ASSIGN, conversation_id, f"handoff={handoff.id} to={account.username}")
    return _back(conversation_id, "assigned")


@bp.post("/conversations/<int:conversation_id>/take-over")
@staff_required
def take_over(conversation_id: int):  # type: ignore[no-untyped-def]
    """Hand a conversation to staff from the console (the assistant goes silent), claimed by me."""
    _conversation_or_404(conversation_id)
    me = _me()
    opened = _services().handoffs.start(conversation_id, HandoffReason.STAFF)
    if opened.created:
        _services().handoffs.claim(opened.handoff.id, me.account_id)
        _services().audit.record(me.username, Action.TAKE_OVER, conversation_id, f"handoff={opened.handoff.id}")
    return _back(conversation_id, "claimed" if opened.created else "taken")


@bp.post("/conversations/<int:conversation_id>/reply")
@staff_required
def reply(conversation_id: int):  # type: ignore[no-untyped-def]
    """Sent on the resident's channel; a waiting handoff becomes mine. Only while handed off:
    otherwise the assistant answers the resident's next words, not the staff member."""
    services = _services()
    found = _conversation_or_404(conversation_id)
    handoff = _open_handoff_or_back(conversation_id)
    if isinstance(handoff, Response):
        return handoff
    text = (request.form.get("text") or "").strip()
    canned = request.form.get("canned", "")
    if not text and canned.isdigit() and int(canned) < len(services.profile.canned_replies):
        language = found.language or services.profile.languages[0]
        text = services.profile.canned_replies[int(canned)].text(language).format_map(
            services.profile.slot_values(language))
    if not text:
        return _back(conversation_id, "empty")
    if len(text) > MAX_REPLY:
        abort(400, description=f"Replies are limited to {MAX_REPLY} characters.")
    me = _me()
    if handoff.state == HandoffState.WAITING:
        services.handoffs.claim(handoff.id, me.account_id)
    if not handoff.holds:  # a report review: talking to the resident makes it a live handoff
        services.handoff_store.open(conversation_id, HandoffReason.STAFF)
    body = normalize_gsm(text) if found.channel == "sms" else text
    message = services.outbound.send(found, body, author="staff")
    services.audit.record(me.username, Action.REPLY, conversation_id, f"message={message.id} status={message.status}")
    return _back(conversation_id, "blocked" if message.status == "blocked" else "sent")


@bp.post("/conversations/<int:conversation_id>/note")
@staff_required
def note(conversation_id: int):  # type: ignore[no-untyped-def]
    _conversation_or_404(conversation_id)
    text = (request.form.get("text") or "").strip()
    if not text:
        return _back(conversation_id, "empty")
    saved = _services().notes.add(conversation_id, _me().username, text)
    _services().audit.record(_me().username, Action.NOTE, conversation_id, f"note={saved.id}")
    return _back(conversation_id, "noted")


@bp.post("/conversations/<int:conversation_id>/resolve")
@staff_required
def resolve(conversation_id: int):  # type: ignore[no-untyped-def]
    services = _services()
    found = _conversation_or_404(conversation_id)
    handoff = _open_handoff_or_back(conversation_id)
    if isinstance(handoff, Response):
        return handoff
    me = _me()
    if services.handoffs.resolve(handoff.id, me.username):
        services.audit.record(me.username, Action.RESOLVE, conversation_id, f"handoff={handoff.id}")
        if handoff.holds:  # the resident was waiting for a person: say the assistant is back
            language = found.language or services.profile.languages[0]
            services.pipeline.reply_with(found, "utter_handoff_resolved", language, author="system")
    return _back(conversation_id, "resolved")


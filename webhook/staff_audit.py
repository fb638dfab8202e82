"""The audit log, for supervisors: who viewed, revealed, replied, exported, resolved, and when."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from bot.services import Services
from bot.staff.audit import AuditQuery
from webhook.staff_console import local_time
from webhook.staff_filters import page_arg
from webhook.staff_session import private_headers, staff_required

bp = Blueprint("staff_audit", __name__, url_prefix="/staff")
bp.after_request(private_headers)

PAGE_SIZE = 100


def _services() -> Services:
    return current_app.config["SERVICES"]


@bp.get("/audit")
@staff_required(supervisor=True)
def audit():  # type: ignore[no-untyped-def]
    kept: dict[str, str] = {}
    actor = (request.args.get("actor") or "").strip()[:64]
    action = (request.args.get("action") or "").strip()[:32]
    conversation = (request.args.get("conversation") or "").strip()
    if conversation and not conversation.isdigit():
        abort(400, description="conversation must be a number")
    for name, value in (("actor", actor), ("action", action), ("conversation", conversation)):
        if value:
            kept[name] = value
    page = page_arg(request.args)
    query = AuditQuery(actor=actor or None, action=action or None,
                       conversation_id=int(conversation) if conversation else None)
    found = _services().audit.entries(query, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return render_template("staff/audit.html", entries=found[:PAGE_SIZE], has_more=len(found) > PAGE_SIZE,
                           page=page, args=kept, local_time=local_time)

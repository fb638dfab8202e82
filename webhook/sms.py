"""Twilio SMS webhooks: inbound messages and delivery-status callbacks.

Inbound: signature, store, enqueue, and an empty TwiML answer at once; the reply is sent
later through the REST API by a worker. Twilio waits at most 15 s; we answer in milliseconds.
"""
from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, abort, current_app, request

from bot.inbox import Inbox
from bot.services import Services
from bot.storage.models import OutboundStatus
from webhook.signature import twilio_signature_required

log = logging.getLogger(__name__)

bp = Blueprint("sms", __name__, url_prefix="/sms")

_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
FORM_TYPE = "application/x-www-form-urlencoded"
TWILIO_STATUSES = {
    "queued": OutboundStatus.QUEUED, "accepted": OutboundStatus.QUEUED, "sending": OutboundStatus.SENT,
    "sent": OutboundStatus.SENT, "delivered": OutboundStatus.DELIVERED, "undelivered": OutboundStatus.FAILED,
    "failed": OutboundStatus.FAILED, "read": OutboundStatus.DELIVERED,
}


def _services() -> Services:
    return current_app.config["SERVICES"]


def _require_form() -> None:
    if request.mimetype != FORM_TYPE:
        abort(415)


def _twiml() -> Response:
    return Response(EMPTY_TWIML, status=200, mimetype="text/xml")


def _num_media(raw: str | None) -> int:
    try:
        return max(0, min(int(raw or 0), 10))
    except ValueError:
        return 0


@bp.post("/inbound")
@twilio_signature_required
def inbound() -> Response:
    _require_form()
    sid = (request.form.get("MessageSid") or request.form.get("SmsSid") or "").strip()
    sender = (request.form.get("From") or "").strip()
    if not _SID.match(sid) or not sender or len(sender) > 64 or not sender.isprintable():
        abort(400)
    # PostgreSQL text cannot hold NUL; nothing a resident means is lost by dropping it.
    body = (request.form.get("Body") or "").replace("\x00", "")
    Inbox(_services()).accept("sms", sender, body, sid, _num_media(request.form.get("NumMedia")))
    return _twiml()


@bp.post("/status")
@twilio_signature_required
def status() -> Response:
    _require_form()
    sid = (request.form.get("MessageSid") or "").strip()
    state = (request.form.get("MessageStatus") or "").strip().lower()
    if not sid or state not in TWILIO_STATUSES:
        abort(400)
    error = request.form.get("ErrorCode")
    services = _services()
    message = services.messages.update_status_by_external_id(
        "sms", sid, TWILIO_STATUSES[state], error=f"twilio error {error}" if error else None)
    if message is not None and error == "21610":
        conversation = services.conversations.get(message.conversation_id)
        services.consent.set_opted_out(conversation.address_hash, True, "21610")
    return Response(status=204)

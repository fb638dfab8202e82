"""Twilio SMS webhooks: inbound messages and delivery-status callbacks.

Inbound: signature, store, enqueue, and an empty TwiML answer at once; the reply is sent
later through the REST API by a worker. Twilio waits at most 15 s; we answer in milliseconds.
"""
from __future__ import annotations

import logging
import re
from typing import Any

from flask import Blueprint, Response, abort, current_app, request

from bot import metrics
from bot.inbox import Inbox
from bot.services import Services
from bot.storage.models import OutboundStatus
from webhook.signature import twilio_signature_required

log = logging.getLogger(__name__)

bp = Blueprint("sms", __name__, url_prefix="/sms")

MAX_MEDIA = 10  # Twilio's limit per MMS
MAX_MEDIA_URL = 1000
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
        return max(0, min(int(raw or 0), MAX_MEDIA))
    except ValueError:
        return 0


def _media(form: Any, count: int) -> list[tuple[str, str | None]]:
    """MediaUrl0..N with their declared types; only http(s) URLs of a sane length are kept
    (the worker fetches them with our Twilio credentials, see bot/reports/photos.py)."""
    media = []
    for index in range(count):
        url = (form.get(f"MediaUrl{index}") or "").strip()
        if url.startswith(("https://", "http://")) and len(url) <= MAX_MEDIA_URL and url.isprintable():
            media.append((url, (form.get(f"MediaContentType{index}") or "").strip() or None))
    return media


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
    count = _num_media(request.form.get("NumMedia"))
    Inbox(_services()).accept("sms", sender, body, sid, count, _media(request.form, count))
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
    if state in ("failed", "undelivered"):
        metrics.delivery_failure(state, error)
    services = _services()
    message = services.messages.update_status_by_external_id(
        "sms", sid, TWILIO_STATUSES[state], error=f"twilio error {error}" if error else None)
    if message is not None and error == "21610":
        conversation = services.conversations.get(message.conversation_id)
        services.consent.set_opted_out(conversation.address_hash, True, "21610")
    return Response(status=204)

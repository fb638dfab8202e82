"""The development phone: text the assistant as any number, read its replies.

Messages go through the same signed webhook as Twilio's (signed here with the local
token), so what you see is what a resident would get. Registered only when no real
Twilio credentials are configured.
"""
from __future__ import annotations

import re
import uuid

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from twilio.request_validator import RequestValidator

from bot.identity import address_hash
from bot.services import Services
from bot.settings import Settings
from webhook.signature import url_for_signing

bp = Blueprint("devphone", __name__, url_prefix="/dev/phone")

DEPARTMENT_NUMBER = "+15035550100"
_NUMBER = re.compile(r"^\+?[0-9]{7,15}$")


def _number(raw: str | None) -> str:
    number = (raw or "").strip().replace(" ", "").replace("-", "")
    if not _NUMBER.match(number):
        abort(400, description="number must be 7-15 digits, optionally with a leading +")
    return number if number.startswith("+") else "+" + number


@bp.get("")
def page():  # type: ignore[no-untyped-def]
    services: Services = current_app.config["SERVICES"]
    return render_template("devphone.html", department=services.profile.name)


@bp.get("/api/messages")
def list_messages():  # type: ignore[no-untyped-def]
    services: Services = current_app.config["SERVICES"]
    number = _number(request.args.get("number"))
    digest = address_hash(services.settings.sender_id_key, "sms", number)
    return jsonify(messages=[
        {"id": m.id, "direction": m.direction, "author": m.author, "text": m.text, "status": m.status,
         "intent": m.intent, "at": m.created_at.isoformat() + "Z"}
        for m in services.messages.messages_for_address("sms", digest)
    ])


@bp.post("/api/messages")
def send_message():  # type: ignore[no-untyped-def]
    settings: Settings = current_app.config["SETTINGS"]
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("body"), str):
        abort(400, description='send JSON {"from": "+15035550123", "body": "hi"}')
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex, "SmsSid": "", "AccountSid": "ACdevphone",
        "From": _number(data.get("from")), "To": DEPARTMENT_NUMBER, "Body": data["body"],
        "NumMedia": "0", "ApiVersion": "2010-04-01", "SmsStatus": "received",
    }
    params["SmsSid"] = params["MessageSid"]
    url = url_for_signing(settings, "/sms/inbound", request.url_root)
    signature = RequestValidator(settings.signing_token).compute_signature(url, params)
    with current_app.test_client() as client:
        response = client.post("/sms/inbound", data=params, base_url=request.url_root,
                               headers={"X-Twilio-Signature": signature})
    if response.status_code != 200:
        return jsonify(error="webhook refused the message", status=response.status_code), 502
    return jsonify(sid=params["MessageSid"]), 202

"""The development phone: text the assistant as any number, read its replies.

Messages go through the same signed webhook as Twilio's (signed here with the local
token), so what you see is what a resident would get. Registered only when no real
Twilio credentials are configured.
"""
from __future__ import annotations

import base64
import binascii
import re
import uuid
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from twilio.request_validator import RequestValidator

from bot.identity import address_hash
from bot.services import Services
from bot.settings import Settings
from webhook.signature import url_for_signing

bp = Blueprint("devphone", __name__, url_prefix="/dev/phone")

DEPARTMENT_NUMBER = "+15035550100"
_NUMBER = re.compile(r"^\+?[0-9]{7,15}$")
_MEDIA_ID = re.compile(r"^[0-9a-f]{32}$")
_DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL)
# A picture "sent" from the development phone: served back to the worker like Twilio's media
# URLs. Larger than the 5 MB cap on purpose, so the cap can be tried from here too.
MAX_DEV_PHOTO_BYTES = 8 * 1024 * 1024


def _media_dir(settings: Settings) -> Path:
    return Path(settings.report_photo_dir).parent / "devphone-media"


def _keep_photo(settings: Settings, photo: object) -> tuple[str, str]:
    """A data URL from the page, written where GET /dev/phone/media/<id> serves it."""
    match = _DATA_URL.match(photo) if isinstance(photo, str) else None
    if match is None:
        abort(400, description="photo must be a base64 data URL")
    try:
        data = base64.b64decode(match.group("data"), validate=True)
    except (binascii.Error, ValueError):
        abort(400, description="photo must be a base64 data URL")
    if not data or len(data) > MAX_DEV_PHOTO_BYTES:
        abort(413)
    media_id = uuid.uuid4().hex
    directory = _media_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / media_id).write_bytes(data)
    (directory / f"{media_id}.type").write_text(match.group("type")[:100], encoding="ascii", errors="replace")
    return media_id, match.group("type")[:100]


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
         "intent": m.intent, "media": m.num_media, "at": m.created_at.isoformat() + "Z"}
        for m in services.messages.messages_for_address("sms", digest)
    ])


@bp.post("/api/messages")
def send_message():  # type: ignore[no-untyped-def]
    settings: Settings = current_app.config["SETTINGS"]
    request.max_content_length = MAX_DEV_PHOTO_BYTES * 4 // 3 + 4096  # a base64 photo; the webhook keeps 64 KB
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("body"), str):
        abort(400, description='send JSON {"from": "+15035550123", "body": "hi", "photo": "data:image/jpeg;base64,..."}')
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex, "SmsSid": "", "AccountSid": "ACdevphone",
        "From": _number(data.get("from")), "To": DEPARTMENT_NUMBER, "Body": data["body"],
        "NumMedia": "0", "ApiVersion": "2010-04-01", "SmsStatus": "received",
    }
    params["SmsSid"] = params["MessageSid"]
    if data.get("photo") is not None:
        media_id, content_type = _keep_photo(settings, data["photo"])
        params.update(NumMedia="1", MediaContentType0=content_type,
                      MediaUrl0=f"{request.url_root.rstrip('/')}/dev/phone/media/{media_id}")
    url = url_for_signing(settings, "/sms/inbound", request.url_root)
    signature = RequestValidator(settings.signing_token).compute_signature(url, params)
    with current_app.test_client() as client:
        response = client.post("/sms/inbound", data=params, base_url=request.url_root,
                               headers={"X-Twilio-Signature": signature})
    if response.status_code != 200:
        return jsonify(error="webhook refused the message", status=response.status_code), 502
    return jsonify(sid=params["MessageSid"]), 202


@bp.get("/media/<media_id>")
def media(media_id: str):  # type: ignore[no-untyped-def]
    """What the worker fetches for a picture sent from this page (like a Twilio media URL)."""
    if not _MEDIA_ID.match(media_id):
        abort(404)
    directory = _media_dir(current_app.config["SETTINGS"])
    try:
        data = (directory / media_id).read_bytes()
        content_type = (directory / f"{media_id}.type").read_text(encoding="ascii")
    except FileNotFoundError:
        abort(404)
    if not content_type.startswith("image/"):
        content_type = "application/octet-stream"  # never served as a page of this site
    return Response(data, mimetype=content_type, headers={"X-Content-Type-Options": "nosniff"})
